//! Client stubs: one function per routine that encodes the request, sends it to the
//! object's send right and (for a routine) waits for and decodes the reply.

use super::{allow_many_args, client_in_type, owned_type, tuple, Out};
use crate::ast::{Interface, Routine};

pub(super) fn generate(out: &mut Out, iface: &Interface) {
    for r in &iface.routines {
        stub(out, iface, r);
    }
}

/// The stub's result type: the out arguments (owned) as `()`, one value, or a tuple.
pub(super) fn result_type(r: &Routine) -> String {
    let outs: Vec<&str> = r.outs().map(|a| owned_type(a.ty)).collect();
    tuple(&outs)
}

fn stub(out: &mut Out, iface: &Interface, r: &Routine) {
    let what = if r.has_reply() {
        format!(
            "Calls `{}.{}` (request id {}) on `{}` and waits for the reply; the server's \
             errno, or the kernel's failure to deliver (`EDIED` for a dead server), comes \
             back as the error.",
            iface.name, r.name, r.id, r.object.name
        )
    } else {
        format!(
            "Sends `{}.{}` (id {}, no reply) to `{}`; the error is the kernel's failure to \
             deliver (`EDIED` for a dead server).",
            iface.name, r.name, r.id, r.object.name
        )
    };
    out.doc_then(&r.doc, &what);
    out.arg_docs(r.args.iter());
    let ins: Vec<_> = r.ins().collect();
    let mut params = vec![
        "task: &herd_rt::Task".to_string(),
        format!("{}: &herd_rt::SendRight", r.object.name),
    ];
    params.extend(
        ins.iter()
            .map(|a| format!("{}: {}", a.name, client_in_type(a.ty))),
    );
    allow_many_args(out, params.len());
    out.open(format!(
        "pub fn {}({}) -> ::std::result::Result<{}, herd_rt::Errno> {{",
        r.name,
        params.join(", "),
        result_type(r)
    ));
    let mut call_args = vec![format!(
        "herd_rt::PortArg::CopySend({}.name())",
        r.object.name
    )];
    call_args.extend(ins.iter().map(|a| a.name.clone()));
    out.line(format!(
        "let herd_msg = codec::encode_{}_request({});",
        r.name,
        call_args.join(", ")
    ));
    if r.has_reply() {
        out.line(format!(
            "codec::decode_{}_reply(herd_support::rpc(task, herd_msg)?)",
            r.name
        ));
    } else {
        out.line("herd_support::send(task, herd_msg)");
    }
    out.close("}");
    out.blank();
}
