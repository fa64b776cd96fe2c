//! Traced messages as text, through the IDL's reflection table: a request as
//! `test.echo(data=b"hi")`, a reply's result as `(back=b"hi")`, `0` or `errno ENOENT`, an
//! id no interface knows as `msg 4242 (12 bytes: 01 02 ...)`. Rights are shown with the
//! traced task's name for them and what they point at (`259[send -> server(4100)]`);
//! out-of-line regions by size (the kernel does not trace their contents). Inline data cut
//! by the kernel's limit decodes as far as it goes. Never panics, whatever the bytes.

use std::fmt::Write as _;

use herd_interfaces::reflect::{
    inline_value, routine_by_id, ArgInfo, ArgType, InterfaceInfo, RoutineInfo,
};
use herd_wire::codec::Reader;
use herd_wire::trace::{Holder, MessageRecord, PortRef, TaskRef};
use herd_wire::{Errno, PortName};

/// How many bytes of an unknown message are shown in hex.
const HEX_PREVIEW: usize = 16;

/// What a message is, by its id.
#[derive(Clone, Copy)]
pub struct Routine {
    /// The interface.
    pub iface: &'static InterfaceInfo,
    /// The routine.
    pub routine: &'static RoutineInfo,
    /// Whether the message is the routine's reply.
    pub is_reply: bool,
}

impl Routine {
    /// The routine a message id belongs to.
    pub fn of(id: u32) -> Option<Routine> {
        routine_by_id(id).map(|(iface, routine, is_reply)| Routine {
            iface,
            routine,
            is_reply,
        })
    }

    /// `test.echo`.
    pub fn head(&self) -> String {
        format!("{}.{}", self.iface.name, self.routine.name)
    }
}

/// `label(pid)`.
pub fn task(t: &TaskRef) -> String {
    format!("{}({})", t.label, t.pid)
}

/// Who holds a port: `label(pid)`, `in-transit` or `nobody`.
pub fn holder(h: &Holder) -> String {
    match h {
        Holder::Task(t) => task(t),
        Holder::InTransit => "in-transit".into(),
        Holder::None => "nobody".into(),
    }
}

/// The name of a right's kind: a disposition when `sending`, the kind received otherwise.
fn kind(k: u8, sending: bool) -> String {
    match (k, sending) {
        (0, _) => "none".into(),
        (16, true) => "move-receive".into(),
        (17, true) => "move-send".into(),
        (18, true) => "move-send-once".into(),
        (19, _) => "copy-send".into(),
        (20, _) => "make-send".into(),
        (21, _) => "make-send-once".into(),
        (16, false) => "receive".into(),
        (17, false) => "send".into(),
        (18, false) => "send-once".into(),
        (other, _) => format!("kind {other}"),
    }
}

/// `259[send -> server(4100)]`, `259[receive]`, `NULL`, `DEAD`.
pub fn right(p: &PortRef, sending: bool) -> String {
    if p.name == PortName::NULL {
        return "NULL".into();
    }
    if p.name == PortName::DEAD {
        return "DEAD".into();
    }
    let k = kind(p.kind, sending);
    let carries_receive = p.kind == 16;
    match (&p.receiver, carries_receive) {
        (_, true) => format!("{}[{k}]", p.name),
        (Holder::None, false) if p.port_id == 0 => format!("{}[{k} -> dead]", p.name),
        (h, false) => format!("{}[{k} -> {}]", p.name, holder(h)),
    }
}

/// A message described.
pub struct Described {
    /// Its routine, when an interface knows the id.
    pub routine: Option<Routine>,
    /// A request: `test.echo(data=b"hi")`. A reply: `test.echo -> (back=b"hi")`. Unknown:
    /// `msg 4242 (...)`.
    pub text: String,
    /// For a reply, its result alone: `(back=b"hi")`, `0` or `errno ENOENT`; otherwise
    /// the same as `text`.
    pub result: String,
}

/// Describes a traced message; `sending` says whether the traced task sent it.
pub fn describe(m: &MessageRecord, sending: bool) -> Described {
    let routine = Routine::of(m.id);
    let mut body = Body {
        data: Reader::new(&m.data),
        record: m,
        sending,
        port_at: 0,
        ool_at: 0,
    };
    let result = match routine {
        None => unknown(m, sending),
        Some(r) if !r.is_reply => format!("{}({})", r.head(), body.args(r.routine.ins())),
        Some(r) => match body.data.i32() {
            Err(_) => format!("<malformed: {} bytes, no return code>", m.data_len),
            Ok(0) => {
                let outs = body.args(r.routine.outs());
                if outs.is_empty() {
                    "0".into()
                } else {
                    format!("({outs})")
                }
            }
            Ok(code) => errno(code),
        },
    };
    let text = match routine {
        Some(r) if r.is_reply => format!("{} -> {result}", r.head()),
        _ => result.clone(),
    };
    Described {
        routine,
        text,
        result,
    }
}

/// `errno ENOENT`, `errno 4242`.
pub fn errno(code: i32) -> String {
    match Errno(code).symbol() {
        Some(name) => format!("errno {name}"),
        None => format!("errno {code}"),
    }
}

/// A message body read in argument order.
struct Body<'a> {
    data: Reader<'a>,
    record: &'a MessageRecord,
    sending: bool,
    port_at: usize,
    ool_at: usize,
}

impl Body<'_> {
    /// `name=value, ...`, then what is malformed or was not traced, if anything.
    fn args<'i>(&mut self, args: impl Iterator<Item = &'i ArgInfo>) -> String {
        let mut parts = Vec::new();
        let untraced = (self.record.data_len as usize).saturating_sub(self.record.data.len());
        for a in args {
            match self.value(a.ty) {
                Ok(v) => parts.push(format!("{}={v}", a.name)),
                Err(_) if untraced > 0 => {
                    parts.push(format!("{}=<{untraced} more bytes not traced>", a.name));
                    return parts.join(", ");
                }
                Err(e) => {
                    parts.push(format!("<malformed: {}: {e}>", a.name));
                    return parts.join(", ");
                }
            }
        }
        let m = self.record;
        let left = [
            (self.data.remaining() + untraced, "bytes of inline data"),
            (m.ports.len().saturating_sub(self.port_at), "rights"),
            (m.ool.len().saturating_sub(self.ool_at), "regions"),
        ];
        for (n, what) in left {
            if n > 0 {
                parts.push(format!("<malformed: {n} {what} left over>"));
            }
        }
        parts.join(", ")
    }

    fn value(&mut self, ty: ArgType) -> Result<String, String> {
        Ok(match ty {
            ArgType::Send | ArgType::SendOnce | ArgType::Receive => {
                let p = self
                    .record
                    .ports
                    .get(self.port_at)
                    .ok_or_else(|| format!("right {} is missing", self.port_at))?;
                self.port_at += 1;
                right(p, self.sending)
            }
            ArgType::Region => {
                let size = self
                    .record
                    .ool
                    .get(self.ool_at)
                    .ok_or_else(|| format!("region {} is missing", self.ool_at))?;
                self.ool_at += 1;
                format!("region({size} bytes)")
            }
            // Inline values read as the IDL's own describer reads them.
            other => inline_value(other, &mut self.data)
                .unwrap_or_else(|| Err(format!("no inline reading of {}", other.keyword())))?,
        })
    }
}

/// `msg 4242 (12 bytes: 01 02 ..., rights: 7[send -> x(1)], regions: 4096 bytes)`.
fn unknown(m: &MessageRecord, sending: bool) -> String {
    let mut s = format!("msg {} ({} bytes", m.id, m.data_len);
    if !m.data.is_empty() {
        s.push(':');
        for b in m.data.iter().take(HEX_PREVIEW) {
            let _ = write!(s, " {b:02x}");
        }
        if m.data_len as usize > HEX_PREVIEW {
            s.push_str(" ...");
        }
    }
    if !m.ports.is_empty() {
        let rights: Vec<String> = m.ports.iter().map(|p| right(p, sending)).collect();
        let _ = write!(s, ", rights: {}", rights.join(" "));
    }
    if !m.ool.is_empty() {
        let sizes: Vec<String> = m.ool.iter().map(|n| format!("{n} bytes")).collect();
        let _ = write!(s, ", regions: {}", sizes.join(" "));
    }
    s.push(')');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u32, data: Vec<u8>) -> MessageRecord {
        MessageRecord {
            id,
            data_len: data.len() as u32,
            data,
            ..MessageRecord::default()
        }
    }

    fn echo_request(payload: &[u8]) -> Vec<u8> {
        let mut d = (payload.len() as u32).to_le_bytes().to_vec();
        d.extend_from_slice(payload);
        d
    }

    #[test]
    fn requests_replies_and_errors_read_by_name() {
        let d = describe(&msg(1001, echo_request(b"hi")), true);
        assert_eq!(d.text, r#"test.echo(data=b"hi")"#);
        let mut reply = 0i32.to_le_bytes().to_vec();
        reply.extend(echo_request(b"hi"));
        let d = describe(&msg(1101, reply), false);
        assert_eq!(d.result, r#"(back=b"hi")"#);
        assert_eq!(d.text, r#"test.echo -> (back=b"hi")"#);
        assert_eq!(describe(&msg(1100, vec![0; 4]), false).result, "0");
        assert_eq!(
            describe(&msg(1106, 2i32.to_le_bytes().to_vec()), false).text,
            "test.fail -> errno ENOENT"
        );
        assert_eq!(
            describe(&msg(42, vec![1, 2, 3]), true).text,
            "msg 42 (3 bytes: 01 02 03)"
        );
    }

    #[test]
    fn cut_data_says_how_much_was_not_traced() {
        let mut m = msg(1001, echo_request(&[b'a'; 10_000]));
        m.data.truncate(4096);
        let text = describe(&m, true).text;
        assert!(text.contains("not traced"), "{text}");
    }

    #[test]
    fn rights_show_what_they_point_at() {
        let p = PortRef {
            name: PortName(259),
            kind: 19,
            port_id: 1,
            receiver: Holder::Task(TaskRef {
                task: 1,
                pid: 4100,
                label: "server".into(),
            }),
        };
        assert_eq!(right(&p, true), "259[copy-send -> server(4100)]");
        let gone = PortRef {
            name: PortName(7),
            kind: 17,
            ..PortRef::default()
        };
        assert_eq!(right(&gone, false), "7[send -> dead]");
        assert_eq!(right(&PortRef::default(), false), "NULL");
    }

    #[test]
    fn garbage_never_panics() {
        for id in [1000, 1001, 1002, 1003, 1101, 1103, 64, 70, 99] {
            for len in 0..12 {
                let m = msg(id, vec![0xff; len]);
                let _ = describe(&m, true);
                let _ = describe(&m, false);
            }
        }
    }
}
