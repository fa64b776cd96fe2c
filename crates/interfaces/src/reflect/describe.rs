//! Any message as one line of text, through the reflection table: a request as
//! `test.echo(data=b"hi")`, a reply as `test.echo -> (back=b"hi")` or
//! `test.echo -> errno ENOENT`, an id no interface knows as `unknown id 4242 (12 bytes: 01
//! 02 ...)`. A body that does not fit its routine is shown as far as it decodes, then
//! `<malformed: ...>`. Never panics, whatever the bytes.

use std::fmt::Write as _;

use herd_wire::codec::Reader;
use herd_wire::{Errno, PortDescriptor, PortName};

use super::{routine_by_id, ArgInfo, ArgType};

/// How many bytes (or characters) of a `bytes` (or `string`) value are shown.
const PREVIEW: usize = 32;
/// How many bytes of an unknown message are shown in hex.
const HEX_PREVIEW: usize = 16;

/// Describes a message: its id, inline data, rights and out-of-line region sizes.
pub fn describe(id: u32, data: &[u8], ports: &[PortDescriptor], ool_sizes: &[u64]) -> String {
    let mut body = Body {
        data: Reader::new(data),
        ports,
        ool: ool_sizes,
        port_at: 0,
        ool_at: 0,
    };
    match routine_by_id(id) {
        None => unknown(id, data, ports, ool_sizes),
        Some((iface, r, false)) => format!("{}.{}({})", iface.name, r.name, body.args(r.ins())),
        Some((iface, r, true)) => {
            let head = format!("{}.{} ->", iface.name, r.name);
            match body.data.i32() {
                Err(_) => format!(
                    "{head} <malformed: {} bytes, too short for a return code>",
                    data.len()
                ),
                Ok(0) => format!("{head} ({})", body.args(r.outs())),
                Ok(code) => match Errno(code).symbol() {
                    Some(name) => format!("{head} errno {name}"),
                    None => format!("{head} errno {code}"),
                },
            }
        }
    }
}

/// A message body being read in argument order.
struct Body<'a> {
    data: Reader<'a>,
    ports: &'a [PortDescriptor],
    ool: &'a [u64],
    port_at: usize,
    ool_at: usize,
}

impl Body<'_> {
    /// `name=value, ...` for `args`, then what is malformed, if anything.
    fn args<'i>(&mut self, args: impl Iterator<Item = &'i ArgInfo>) -> String {
        let mut parts = Vec::new();
        for a in args {
            match self.value(a.ty) {
                Ok(v) => parts.push(format!("{}={v}", a.name)),
                Err(e) => {
                    parts.push(format!("<malformed: {}: {e}>", a.name));
                    return parts.join(", ");
                }
            }
        }
        let left = [
            (self.data.remaining(), "bytes of inline data"),
            (self.ports.len().saturating_sub(self.port_at), "rights"),
            (self.ool.len().saturating_sub(self.ool_at), "regions"),
        ];
        for (n, what) in left {
            if n > 0 {
                parts.push(format!("<malformed: {n} {what} left over>"));
            }
        }
        parts.join(", ")
    }

    fn value(&mut self, ty: ArgType) -> Result<String, String> {
        if let Some(inline) = inline_value(ty, &mut self.data) {
            return inline;
        }
        Ok(match ty {
            ArgType::Send | ArgType::SendOnce | ArgType::Receive => {
                let p = self.ports.get(self.port_at).ok_or_else(|| {
                    format!(
                        "right {} is missing ({} came)",
                        self.port_at,
                        self.ports.len()
                    )
                })?;
                self.port_at += 1;
                right(p)
            }
            ArgType::Region => {
                let size = self.ool.get(self.ool_at).ok_or_else(|| {
                    format!(
                        "region {} is missing ({} came)",
                        self.ool_at,
                        self.ool.len()
                    )
                })?;
                self.ool_at += 1;
                format!("region({size} bytes)")
            }
            _ => return Err(format!("{ty:?} is not carried beside the data")),
        })
    }
}

/// `unknown id 4242 (12 bytes: 01 02 ..., 1 right, 1 region)`.
fn unknown(id: u32, data: &[u8], ports: &[PortDescriptor], ool_sizes: &[u64]) -> String {
    let mut s = format!("unknown id {id} ({} bytes", data.len());
    if !data.is_empty() {
        s.push(':');
        for b in data.iter().take(HEX_PREVIEW) {
            let _ = write!(s, " {b:02x}");
        }
        if data.len() > HEX_PREVIEW {
            s.push_str(" ...");
        }
    }
    if !ports.is_empty() {
        let _ = write!(s, ", {} rights", ports.len());
    }
    if !ool_sizes.is_empty() {
        let _ = write!(s, ", {} regions", ool_sizes.len());
    }
    s.push(')');
    s
}

/// `b"hi"`, or `b"<first 32 bytes>"... (1000 bytes)`.
fn bytes(b: &[u8]) -> String {
    let mut s = String::from("b\"");
    for &c in b.iter().take(PREVIEW) {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    if b.len() > PREVIEW {
        let _ = write!(s, "... ({} bytes)", b.len());
    }
    s
}

/// `"hi"`, or `"<first 32 characters>"... (1000 bytes)`.
fn string(text: &str) -> String {
    let mut s = String::from("\"");
    let mut chars = text.chars();
    for c in chars.by_ref().take(PREVIEW) {
        s.extend(c.escape_debug());
    }
    s.push('"');
    if chars.next().is_some() {
        let _ = write!(s, "... ({} bytes)", text.len());
    }
    s
}

/// `port 7 (send)`, `NULL`, `DEAD`.
fn right(p: &PortDescriptor) -> String {
    if !p.name.is_valid() {
        return p.name.to_string();
    }
    let kind = match p.kind {
        16 => "receive".to_string(),
        17 => "send".to_string(),
        18 => "send-once".to_string(),
        19 => "copy-send".to_string(),
        20 => "make-send".to_string(),
        21 => "make-send-once".to_string(),
        other => format!("kind {other}"),
    };
    format!("port {} ({kind})", p.name)
}

/// Decodes one value of an inline type (everything but rights and regions, which travel
/// beside the data) from `d`; `None` for a type that is not inline. Tools that walk a body
/// themselves (rpctrace) use it to print values exactly as `describe` does.
pub fn inline_value(ty: ArgType, d: &mut Reader<'_>) -> Option<Result<String, String>> {
    let text = |e: herd_wire::codec::DecodeError| e.to_string();
    Some(match ty {
        ArgType::Send | ArgType::SendOnce | ArgType::Receive | ArgType::Region => return None,
        ArgType::U8 => d.u8().map(|v| v.to_string()).map_err(text),
        ArgType::U16 => d.u16().map(|v| v.to_string()).map_err(text),
        ArgType::U32 => d.u32().map(|v| v.to_string()).map_err(text),
        ArgType::U64 => d.u64().map(|v| v.to_string()).map_err(text),
        ArgType::I32 => d.i32().map(|v| v.to_string()).map_err(text),
        ArgType::I64 => d.i64().map(|v| v.to_string()).map_err(text),
        ArgType::Bool => match d.u8() {
            Ok(0) => Ok("false".to_string()),
            Ok(1) => Ok("true".to_string()),
            Ok(v) => Err(format!("bool byte is {v}")),
            Err(e) => Err(text(e)),
        },
        ArgType::Bytes => d.bytes("bytes", usize::MAX).map(bytes).map_err(text),
        ArgType::String => match d.bytes("string", usize::MAX) {
            Ok(raw) => std::str::from_utf8(raw)
                .map(string)
                .map_err(|_| "string is not UTF-8".to_string()),
            Err(e) => Err(text(e)),
        },
        ArgType::PortName | ArgType::Object => {
            d.u32().map(|v| PortName(v).to_string()).map_err(text)
        }
    })
}
