//! The generated `codec` module: for each routine, pure functions that build a request or
//! reply `OutMessage` and decode a `Received` one. No kernel is involved, so tests can
//! round-trip messages directly.

use super::{
    allow_many_args, client_in_type, decode_expr, encode_stmt, id_const, server_out_type, tuple,
    Out,
};
use crate::ast::{Interface, Routine};

pub(super) fn generate(out: &mut Out, iface: &Interface) {
    out.line(format!(
        "/// Pure encoders and decoders of `{}` messages: what the stubs and the dispatcher",
        iface.name
    ));
    out.line("/// send and receive, usable without a kernel.");
    out.open("pub mod codec {");
    out.line("#[allow(unused_imports)]");
    out.line("use super::{herd_rt, herd_support};");
    for r in &iface.routines {
        out.blank();
        encode_request(out, r);
        out.blank();
        decode_request(out, r);
        if r.has_reply() {
            out.blank();
            encode_reply(out, r);
            out.blank();
            decode_reply(out, r);
        }
    }
    out.close("}");
}

fn encode_request(out: &mut Out, r: &Routine) {
    out.line(format!(
        "/// Builds a `{}` request to `{}` (its destination right, usually `CopySend`).",
        r.name, r.object.name
    ));
    let ins: Vec<_> = r.ins().collect();
    let mut params = vec![format!("{}: herd_rt::PortArg", r.object.name)];
    params.extend(
        ins.iter()
            .map(|a| format!("{}: {}", a.name, client_in_type(a.ty))),
    );
    allow_many_args(out, params.len());
    out.open(format!(
        "pub fn encode_{}_request({}) -> herd_rt::OutMessage {{",
        r.name,
        params.join(", ")
    ));
    let finish = format!("request({}, super::ids::{})", r.object.name, id_const(r));
    if ins.is_empty() {
        out.line(format!("herd_support::Encoder::new().{finish}"));
    } else {
        out.line("let mut herd_e = herd_support::Encoder::new();");
        for a in &ins {
            out.line(encode_stmt(&a.name, a.ty, false));
        }
        out.line(format!("herd_e.{finish}"));
    }
    out.close("}");
}

fn decode_request(out: &mut Out, r: &Routine) {
    let ins: Vec<_> = r.ins().collect();
    let types: Vec<&str> = ins.iter().map(|a| super::owned_type(a.ty)).collect();
    let names: Vec<&str> = ins.iter().map(|a| a.name.as_str()).collect();
    out.line(format!(
        "/// Decodes a `{}` request's arguments `{}`; anything missing, malformed or left",
        r.name,
        tuple(&names)
    ));
    out.line("/// over is an error (the dispatcher answers it with `MIG_BAD_ARGUMENTS`).");
    out.open(format!(
        "pub fn decode_{}_request(herd_msg: herd_rt::Received) -> ::std::result::Result<{}, herd_support::BodyError> {{",
        r.name,
        tuple(&types)
    ));
    let param = if ins.is_empty() { "_" } else { "herd_d" };
    out.line(format!(
        "herd_support::decode_request(herd_msg, |{param}| {})",
        decode_expr(&ins)
    ));
    out.close("}");
}

fn encode_reply(out: &mut Out, r: &Routine) {
    let outs: Vec<_> = r.outs().collect();
    let types: Vec<&str> = outs.iter().map(|a| server_out_type(a.ty)).collect();
    out.line(format!(
        "/// Builds the reply to a `{}` request, sent to `herd_reply` (the request's reply",
        r.name
    ));
    out.line("/// right): return code 0 and the out arguments, or just the errno.");
    out.open(format!(
        "pub fn encode_{}_reply(herd_reply: herd_rt::PortArg, herd_result: ::std::result::Result<{}, herd_rt::Errno>) -> herd_rt::OutMessage {{",
        r.name,
        tuple(&types)
    ));
    let names: Vec<&str> = outs.iter().map(|a| a.name.as_str()).collect();
    let closure = if outs.is_empty() {
        "|_, ()| {}".to_string()
    } else {
        let writes: Vec<String> = outs
            .iter()
            .map(|a| encode_stmt(&a.name, a.ty, true))
            .collect();
        format!("|herd_e, {}| {{ {} }}", tuple(&names), writes.join(" "))
    };
    out.line(format!(
        "herd_support::encode_reply(herd_reply, {}, herd_result, {closure})",
        r.reply_id()
    ));
    out.close("}");
}

fn decode_reply(out: &mut Out, r: &Routine) {
    let outs: Vec<_> = r.outs().collect();
    out.line(format!(
        "/// Decodes the reply to a `{}` request: the out arguments, or the server's errno;",
        r.name
    ));
    out.line("/// a reply that does not decode is `MIG_TYPE_ERROR`, a send-once notification");
    out.line("/// in its place (the server dropped the request) is `EDIED`.");
    out.open(format!(
        "pub fn decode_{}_reply(herd_msg: herd_rt::Received) -> ::std::result::Result<{}, herd_rt::Errno> {{",
        r.name,
        super::client::result_type(r)
    ));
    let param = if outs.is_empty() { "_" } else { "herd_d" };
    out.line(format!(
        "herd_support::decode_reply(herd_msg, {}, |{param}| {})",
        r.reply_id(),
        decode_expr(&outs)
    ));
    out.close("}");
}
