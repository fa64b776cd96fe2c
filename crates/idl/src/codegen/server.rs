//! The server side: a trait with one method per routine, and a dispatcher that decodes a
//! received request, calls the method and encodes its reply.

use super::{allow_many_args, id_const, owned_type, server_out_type, tuple, Out};
use crate::ast::{Interface, Routine};
use crate::names::camel_case;

/// The server trait's name: `test` → `TestServer`.
pub(super) fn trait_name(iface: &Interface) -> String {
    format!("{}Server", camel_case(&iface.name))
}

pub(super) fn generate(out: &mut Out, iface: &Interface) {
    let name = trait_name(iface);
    out.line(format!(
        "/// The server side of `{}`: implement it and hand requests to [`dispatch`].",
        iface.name
    ));
    out.line("///");
    out.line("/// Every method has a default: routines answer `EOPNOTSUPP`, simpleroutines");
    out.line("/// ignore the message (dropping any rights it carried).");
    out.open(format!("pub trait {name}: Send + Sync {{"));
    for (i, r) in iface.routines.iter().enumerate() {
        if i > 0 {
            out.blank();
        }
        method(out, iface, r);
    }
    out.close("}");
    out.blank();
    dispatch(out, iface, &name);
}

fn method(out: &mut Out, iface: &Interface, r: &Routine) {
    let what = if r.has_reply() {
        format!(
            "Serves `{}.{}` (id {}); `req.dest` names the object. The result is the reply.",
            iface.name, r.name, r.id
        )
    } else {
        format!(
            "Serves `{}.{}` (id {}, a simpleroutine: nothing is sent back); `req.dest` names \
             the object.",
            iface.name, r.name, r.id
        )
    };
    out.doc_then(&r.doc, &what);
    out.arg_docs(r.args.iter());
    let ins: Vec<_> = r.ins().collect();
    let mut params = vec![
        "&self".to_string(),
        "req: &::herd_interfaces::Request".to_string(),
    ];
    params.extend(
        ins.iter()
            .map(|a| format!("{}: {}", a.name, owned_type(a.ty))),
    );
    allow_many_args(out, params.len());
    let ret = if r.has_reply() {
        let outs: Vec<&str> = r.outs().map(|a| server_out_type(a.ty)).collect();
        format!(
            " -> ::std::result::Result<{}, herd_rt::Errno>",
            tuple(&outs)
        )
    } else {
        String::new()
    };
    out.open(format!("fn {}({}){ret} {{", r.name, params.join(", ")));
    let mut unused: Vec<&str> = vec!["req"];
    unused.extend(ins.iter().map(|a| a.name.as_str()));
    out.line(format!("let _ = {};", tuple(&unused)));
    if r.has_reply() {
        out.line("Err(herd_rt::Errno::EOPNOTSUPP)");
    }
    out.close("}");
}

fn dispatch(out: &mut Out, iface: &Interface, trait_name: &str) {
    out.line(
        "/// Serves one received message with `herd_server`: the reply to send (to the request's",
    );
    out.line("/// reply right), or `None` (a simpleroutine, or no reply right). An id outside");
    out.line(format!(
        "/// `{}` is answered with `MIG_BAD_ID`, a request that does not decode with",
        iface.name
    ));
    out.line("/// `MIG_BAD_ARGUMENTS`. Never panics on any message.");
    out.open(format!(
        "pub fn dispatch<S: {trait_name} + ?Sized>(herd_server: &S, herd_msg: herd_rt::Received) -> ::std::option::Option<herd_rt::OutMessage> {{"
    ));
    out.open("match try_dispatch(herd_server, herd_msg) {");
    out.line("Ok(herd_reply) => herd_reply,");
    out.line("Err(herd_msg) => herd_support::error_reply(herd_msg, herd_rt::Errno::MIG_BAD_ID),");
    out.close("}");
    out.close("}");
    out.blank();
    out.line(format!(
        "/// Like [`dispatch`], but hands back a message whose id is not one of `{}`'s, so",
        iface.name
    ));
    out.line("/// a server of several interfaces can try the next one.");
    let needs_mut = iface.routines.iter().any(Routine::has_reply);
    out.open(format!(
        "pub fn try_dispatch<S: {trait_name} + ?Sized>(herd_server: &S, {}herd_msg: herd_rt::Received) -> ::std::result::Result<::std::option::Option<herd_rt::OutMessage>, herd_rt::Received> {{",
        if needs_mut { "mut " } else { "" }
    ));
    if iface.routines.is_empty() {
        out.line("let _ = herd_server;");
        out.line("Err(herd_msg)");
        out.close("}");
        return;
    }
    out.open("match herd_msg.id {");
    for r in &iface.routines {
        arm(out, r);
    }
    out.line("_ => Err(herd_msg),");
    out.close("}");
    out.close("}");
}

fn arm(out: &mut Out, r: &Routine) {
    let names: Vec<&str> = r.ins().map(|a| a.name.as_str()).collect();
    let mut call = vec!["&herd_req"];
    call.extend(names.iter().copied());
    let call = format!("herd_server.{}({})", r.name, call.join(", "));
    out.open(format!("ids::{} => {{", id_const(r)));
    out.line("let herd_req = ::herd_interfaces::Request::of(&herd_msg);");
    if r.has_reply() {
        out.line("let herd_reply = herd_support::take_reply(&mut herd_msg);");
        out.open(format!(
            "let herd_result = match codec::decode_{}_request(herd_msg) {{",
            r.name
        ));
        out.line(format!("Ok({}) => {call},", tuple(&names)));
        out.line("Err(herd_err) => Err(herd_support::bad_request(&herd_req, &herd_err)),");
        out.close("};");
        out.line(format!(
            "Ok(Some(codec::encode_{}_reply(herd_reply, herd_result)))",
            r.name
        ));
    } else {
        out.open(format!(
            "match codec::decode_{}_request(herd_msg) {{",
            r.name
        ));
        out.line(format!("Ok({}) => {call},", tuple(&names)));
        out.open("Err(herd_err) => {");
        out.line("herd_support::bad_request(&herd_req, &herd_err);");
        out.close("}");
        out.close("}");
        out.line("Ok(None)");
    }
    out.close("}");
}
