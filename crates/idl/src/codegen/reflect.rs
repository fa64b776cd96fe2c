//! The reflection table: a `static INTERFACE` describing the subsystem, its routines and
//! their arguments, from which `herd_interfaces::reflect::describe` turns any message into
//! text.

use super::Out;
use crate::ast::{Arg, Direction, Interface, Type};

pub(super) fn generate(out: &mut Out, iface: &Interface) {
    out.line("/// The reflection table of this subsystem (for `rpctrace` and `describe`).");
    out.open("pub static INTERFACE: herd_reflect::InterfaceInfo = herd_reflect::InterfaceInfo {");
    out.line(format!("name: {:?},", iface.name));
    out.line(format!("base: {},", iface.base));
    out.line(format!("doc: {:?},", iface.doc.join("\n")));
    out.open("routines: &[");
    for r in &iface.routines {
        out.open("herd_reflect::RoutineInfo {");
        out.line(format!("name: {:?},", r.name));
        out.line(format!("id: {},", r.id));
        out.line(format!("simple: {},", !r.has_reply()));
        out.line(format!("doc: {:?},", r.doc.join("\n")));
        out.open("args: &[");
        for a in std::iter::once(&r.object).chain(r.args.iter()) {
            arg(out, a);
        }
        out.close("],");
        out.close("},");
    }
    out.close("],");
    out.close("};");
    out.blank();
}

fn arg(out: &mut Out, a: &Arg) {
    let dir = match a.dir {
        Direction::In => "In",
        Direction::Out => "Out",
    };
    out.line(format!(
        "herd_reflect::ArgInfo {{ name: {:?}, ty: herd_reflect::ArgType::{}, dir: herd_reflect::Direction::{dir}, doc: {:?} }},",
        a.name,
        type_variant(a.ty),
        a.doc.join("\n")
    ));
}

/// The `herd_interfaces::reflect::ArgType` variant for `ty` (a fixed struct's carries its
/// layout).
fn type_variant(ty: Type) -> String {
    let variant = match ty {
        Type::U8 => "U8",
        Type::U16 => "U16",
        Type::U32 => "U32",
        Type::U64 => "U64",
        Type::I32 => "I32",
        Type::I64 => "I64",
        Type::Bool => "Bool",
        Type::String => "String",
        Type::Bytes => "Bytes",
        Type::Region => "Region",
        Type::PortName => "PortName",
        Type::Send => "Send",
        Type::SendOnce => "SendOnce",
        Type::Receive => "Receive",
        Type::Object => "Object",
        Type::U32Array => "U32Array",
        Type::Stat | Type::StatFs | Type::Timespec => {
            return format!(
                "Struct(<::herd_interfaces::types::{} as ::herd_interfaces::types::Fixed>::INFO)",
                ty.struct_name().unwrap_or_default()
            )
        }
    };
    variant.to_string()
}
