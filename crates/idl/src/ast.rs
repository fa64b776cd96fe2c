//! The parsed form of one `.defs` file: an interface (a MIG subsystem) and its routines,
//! with message ids already assigned (skips counted).

/// A position in the source: 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

/// One interface: `subsystem NAME BASE;` and the routines after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Doc comment lines (`///`) before `subsystem`, without the `///` and one space.
    pub doc: Vec<String>,
    /// The subsystem name; the generated module is named after it.
    pub name: String,
    /// The first message id; routine `i` (counting skips) has id `base + i`.
    pub base: u32,
    /// The routines, in source order (skipped ids do not appear).
    pub routines: Vec<Routine>,
}

impl Interface {
    /// The offset added to a request id to get its reply id (MIG's convention).
    pub const REPLY_OFFSET: u32 = 100;
    /// The most routines and skips a subsystem may have, so that request ids stay below
    /// the reply ids.
    pub const MAX_ROUTINES: u32 = Self::REPLY_OFFSET;

    /// The routine with message id `id`, if any.
    pub fn routine_by_id(&self, id: u32) -> Option<&Routine> {
        self.routines.iter().find(|r| r.id == id)
    }
}

/// Whether a routine expects a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoutineKind {
    /// `routine`: a request and a reply (return code, then the out arguments).
    Routine,
    /// `simpleroutine`: a one-way message with no reply and no out arguments.
    SimpleRoutine,
}

/// One routine (or simpleroutine).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routine {
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// The routine's name.
    pub name: String,
    /// Routine or simpleroutine.
    pub kind: RoutineKind,
    /// The request's message id.
    pub id: u32,
    /// The first argument: the object the message is sent to (type `object`).
    pub object: Arg,
    /// The other arguments, in source order.
    pub args: Vec<Arg>,
    /// Where the routine's keyword is.
    pub pos: Pos,
}

impl Routine {
    /// The reply's message id (request id + 100).
    pub fn reply_id(&self) -> u32 {
        self.id + Interface::REPLY_OFFSET
    }

    /// Whether a reply is expected.
    pub fn has_reply(&self) -> bool {
        self.kind == RoutineKind::Routine
    }

    /// The `in` arguments after the object, in order.
    pub fn ins(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter().filter(|a| a.dir == Direction::In)
    }

    /// The `out` arguments, in order.
    pub fn outs(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter().filter(|a| a.dir == Direction::Out)
    }
}

/// One argument of a routine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// The argument's name.
    pub name: String,
    /// `in` (carried by the request) or `out` (carried by the reply).
    pub dir: Direction,
    /// Its type.
    pub ty: Type,
    /// Where the argument starts.
    pub pos: Pos,
}

/// Which message carries an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The request (the default).
    In,
    /// The reply.
    Out,
}

/// An argument type and where its value travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `u8`: one byte of inline data.
    U8,
    /// `u16`: little-endian inline.
    U16,
    /// `u32`: little-endian inline.
    U32,
    /// `u64`: little-endian inline.
    U64,
    /// `i32`: little-endian inline.
    I32,
    /// `i64`: little-endian inline.
    I64,
    /// `bool`: one byte, 0 or 1.
    Bool,
    /// `string`: u32 length then UTF-8 bytes, inline.
    String,
    /// `bytes`: u32 length then the bytes, inline.
    Bytes,
    /// `region`: an out-of-line memory region (one entry of the message's `ool`).
    Region,
    /// `port_name`: a name in the sender's space, as a u32 inline (no right moves).
    PortName,
    /// `send`: a send right, in the message's `ports`.
    Send,
    /// `send_once`: a send-once right, in `ports`.
    SendOnce,
    /// `receive`: a receive right, in `ports`.
    Receive,
    /// `object`: the destination of the message (the first argument only).
    Object,
    /// `u32_array`: u32 count then that many little-endian u32s, inline (MIG's
    /// `intarray_t`/`idarray_t`: uid and gid lists).
    U32Array,
    /// `stat`: a file's status, a fixed struct inline (`herd_interfaces::types::Stat`,
    /// the Hurd's `io_statbuf_t`).
    Stat,
    /// `statfs`: a file system's status, a fixed struct inline
    /// (`herd_interfaces::types::StatFs`, the Hurd's `fsys_statfsbuf_t`).
    StatFs,
    /// `timespec`: seconds and nanoseconds, a fixed struct inline
    /// (`herd_interfaces::types::Timespec`).
    Timespec,
}

impl Type {
    /// Every type, with its spelling in `.defs` files.
    pub const ALL: [(&'static str, Type); 19] = [
        ("u8", Type::U8),
        ("u16", Type::U16),
        ("u32", Type::U32),
        ("u64", Type::U64),
        ("i32", Type::I32),
        ("i64", Type::I64),
        ("bool", Type::Bool),
        ("string", Type::String),
        ("bytes", Type::Bytes),
        ("region", Type::Region),
        ("port_name", Type::PortName),
        ("send", Type::Send),
        ("send_once", Type::SendOnce),
        ("receive", Type::Receive),
        ("object", Type::Object),
        ("u32_array", Type::U32Array),
        ("stat", Type::Stat),
        ("statfs", Type::StatFs),
        ("timespec", Type::Timespec),
    ];

    /// Parses a type's `.defs` spelling.
    pub fn from_keyword(word: &str) -> Option<Type> {
        Self::ALL.iter().find(|(w, _)| *w == word).map(|(_, t)| *t)
    }

    /// The type's `.defs` spelling.
    pub fn keyword(self) -> &'static str {
        match self {
            Type::U8 => "u8",
            Type::U16 => "u16",
            Type::U32 => "u32",
            Type::U64 => "u64",
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::Bool => "bool",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Region => "region",
            Type::PortName => "port_name",
            Type::Send => "send",
            Type::SendOnce => "send_once",
            Type::Receive => "receive",
            Type::Object => "object",
            Type::U32Array => "u32_array",
            Type::Stat => "stat",
            Type::StatFs => "statfs",
            Type::Timespec => "timespec",
        }
    }

    /// Whether values travel as rights in the message's `ports`.
    pub fn is_right(self) -> bool {
        matches!(self, Type::Send | Type::SendOnce | Type::Receive)
    }

    /// For a fixed struct type, the Rust type in `herd_interfaces::types` that carries it.
    pub fn struct_name(self) -> Option<&'static str> {
        match self {
            Type::Stat => Some("Stat"),
            Type::StatFs => Some("StatFs"),
            Type::Timespec => Some("Timespec"),
            _ => None,
        }
    }
}
