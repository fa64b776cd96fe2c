//! The reflection table: every generated interface, its routines and their arguments,
//! by name, type and message id. `rpctrace` and [`describe`] read messages through it.

mod describe;

pub use describe::{describe, inline_value};

/// One interface (a subsystem).
#[derive(Debug)]
pub struct InterfaceInfo {
    /// The subsystem's name (the generated module's name).
    pub name: &'static str,
    /// The first message id.
    pub base: u32,
    /// The interface's documentation.
    pub doc: &'static str,
    /// Its routines, in id order.
    pub routines: &'static [RoutineInfo],
}

impl InterfaceInfo {
    /// The routine called `name`.
    pub fn routine(&self, name: &str) -> Option<&RoutineInfo> {
        self.routines.iter().find(|r| r.name == name)
    }
}

/// One routine or simpleroutine.
#[derive(Debug)]
pub struct RoutineInfo {
    /// Its name.
    pub name: &'static str,
    /// The request's message id.
    pub id: u32,
    /// Whether it is a simpleroutine (no reply).
    pub simple: bool,
    /// Its documentation.
    pub doc: &'static str,
    /// Its arguments, the object first.
    pub args: &'static [ArgInfo],
}

impl RoutineInfo {
    /// The reply's message id (meaningless for a simpleroutine, which has none).
    pub fn reply_id(&self) -> u32 {
        herd_runtime::reply_id(self.id)
    }

    /// The arguments the request carries (the object excluded).
    pub fn ins(&self) -> impl Iterator<Item = &ArgInfo> {
        self.args
            .iter()
            .filter(|a| a.dir == Direction::In && a.ty != ArgType::Object)
    }

    /// The arguments the reply carries.
    pub fn outs(&self) -> impl Iterator<Item = &ArgInfo> {
        self.args.iter().filter(|a| a.dir == Direction::Out)
    }
}

/// One argument.
#[derive(Debug)]
pub struct ArgInfo {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: ArgType,
    /// Which message carries it.
    pub dir: Direction,
    /// Its documentation.
    pub doc: &'static str,
}

/// The layout of a fixed struct type (`stat`, `statfs`, `timespec`): its fields in wire
/// order, each little-endian, with no padding.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StructInfo {
    /// The type's `.defs` spelling.
    pub name: &'static str,
    /// Its size on the wire in bytes.
    pub size: usize,
    /// Its fields, in order.
    pub fields: &'static [FieldInfo],
}

/// One field of a fixed struct.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FieldInfo {
    /// The field's name.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
}

/// The type of a fixed struct's field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A little-endian u32.
    U32,
    /// A little-endian u64.
    U64,
    /// A little-endian i64.
    I64,
    /// A nested fixed struct.
    Struct(&'static StructInfo),
}

/// An argument's type, as written in the `.defs` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgType {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `bool`.
    Bool,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
    /// `region` (out of line).
    Region,
    /// `port_name` (inline u32).
    PortName,
    /// `send` right.
    Send,
    /// `send_once` right.
    SendOnce,
    /// `receive` right.
    Receive,
    /// `object`: the destination.
    Object,
    /// `u32_array`: a u32 count, then that many u32s.
    U32Array,
    /// A fixed struct (`stat`, `statfs`, `timespec`), laid out as its table says.
    Struct(&'static StructInfo),
}

impl ArgType {
    /// The type's `.defs` spelling.
    pub fn keyword(self) -> &'static str {
        match self {
            ArgType::U8 => "u8",
            ArgType::U16 => "u16",
            ArgType::U32 => "u32",
            ArgType::U64 => "u64",
            ArgType::I32 => "i32",
            ArgType::I64 => "i64",
            ArgType::Bool => "bool",
            ArgType::String => "string",
            ArgType::Bytes => "bytes",
            ArgType::Region => "region",
            ArgType::PortName => "port_name",
            ArgType::Send => "send",
            ArgType::SendOnce => "send_once",
            ArgType::Receive => "receive",
            ArgType::Object => "object",
            ArgType::U32Array => "u32_array",
            ArgType::Struct(info) => info.name,
        }
    }

    /// Whether values travel as rights in the message's `ports`.
    pub fn is_right(self) -> bool {
        matches!(self, ArgType::Send | ArgType::SendOnce | ArgType::Receive)
    }
}

/// Which message carries an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The request.
    In,
    /// The reply.
    Out,
}

/// Every interface generated from `idl/*.defs`, in file-name order.
pub static INTERFACES: &[&InterfaceInfo] = include!(concat!(env!("OUT_DIR"), "/interface_list.rs"));

/// The routine a message id belongs to, and whether the id is its reply's. The build
/// checks that no two routines (or replies) share an id.
pub fn routine_by_id(id: u32) -> Option<(&'static InterfaceInfo, &'static RoutineInfo, bool)> {
    INTERFACES.iter().find_map(|iface| {
        iface.routines.iter().find_map(|r| {
            if r.id == id {
                Some((*iface, r, false))
            } else if !r.simple && r.reply_id() == id {
                Some((*iface, r, true))
            } else {
                None
            }
        })
    })
}
