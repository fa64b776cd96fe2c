//! Any message as one line of text, through the reflection table: a request as
//! `test.echo(data=b"hi")`, a reply as `test.echo -> (back=b"hi")` or
//! `test.echo -> errno ENOENT`, an id no interface knows as `unknown id 4242 (12 bytes: 01
//! 02 ...)`. A body that does not fit its routine is shown as far as it decodes, then
//! `<malformed: ...>`. Never panics, whatever the bytes.

use std::fmt::Write as _;

use herd_wire::codec::Reader;
use herd_wire::{Errno, PortDescriptor, PortName};

use super::{routine_by_id, ArgInfo, ArgType, FieldType, StructInfo};

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
            _ => {
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
        })
    }
}

/// The text of one inline value of type `ty` read from `d` (`None` for a right or a
/// region, which are not inline): what `describe` shows, for other tools (`rpctrace`) to
/// show the same. An error says what did not decode.
pub fn inline_value(ty: ArgType, d: &mut Reader<'_>) -> Option<Result<String, String>> {
    match ty {
        ArgType::Send | ArgType::SendOnce | ArgType::Receive | ArgType::Region => None,
        _ => Some(inline(ty, d)),
    }
}

fn inline(ty: ArgType, d: &mut Reader<'_>) -> Result<String, String> {
    let text = |e: herd_wire::codec::DecodeError| e.to_string();
    Ok(match ty {
        ArgType::U8 => d.u8().map_err(text)?.to_string(),
        ArgType::U16 => d.u16().map_err(text)?.to_string(),
        ArgType::U32 => d.u32().map_err(text)?.to_string(),
        ArgType::U64 => d.u64().map_err(text)?.to_string(),
        ArgType::I32 => d.i32().map_err(text)?.to_string(),
        ArgType::I64 => d.i64().map_err(text)?.to_string(),
        ArgType::Bool => match d.u8().map_err(text)? {
            0 => "false".to_string(),
            1 => "true".to_string(),
            v => return Err(format!("bool byte is {v}")),
        },
        ArgType::Bytes => bytes(d.bytes("bytes", usize::MAX).map_err(text)?),
        ArgType::String => {
            let raw = d.bytes("string", usize::MAX).map_err(text)?;
            let s = std::str::from_utf8(raw).map_err(|_| "string is not UTF-8")?;
            string(s)
        }
        ArgType::PortName | ArgType::Object => PortName(d.u32().map_err(text)?).to_string(),
        ArgType::U32Array => u32_array(d)?,
        ArgType::Struct(info) => fixed(info, d)?,
        ArgType::Send | ArgType::SendOnce | ArgType::Receive | ArgType::Region => {
            return Err(format!("a {} is not inline data", ty.keyword()))
        }
    })
}

/// `[1, 2, 3]`, or the first 32 elements and `... (N elements)`.
fn u32_array(d: &mut Reader<'_>) -> Result<String, String> {
    let n = d.u32().map_err(|e| e.to_string())? as usize;
    if n.checked_mul(4).is_none_or(|len| len > d.remaining()) {
        return Err(format!(
            "u32_array of {n} elements, only {} bytes left",
            d.remaining()
        ));
    }
    let mut items = Vec::new();
    for _ in 0..n {
        let v = d.u32().map_err(|e| e.to_string())?;
        if items.len() < PREVIEW {
            items.push(v.to_string());
        }
    }
    let more = if n > PREVIEW {
        format!(", ... ({n} elements)")
    } else {
        String::new()
    };
    Ok(format!("[{}{more}]", items.join(", ")))
}

/// `{field=value, ...}` for a fixed struct, nested structs in braces too.
fn fixed(info: &StructInfo, d: &mut Reader<'_>) -> Result<String, String> {
    if d.remaining() < info.size {
        return Err(format!(
            "{} needs {} bytes, {} left",
            info.name,
            info.size,
            d.remaining()
        ));
    }
    let mut parts = Vec::with_capacity(info.fields.len());
    for f in info.fields {
        let text = |e: herd_wire::codec::DecodeError| e.to_string();
        let v = match f.ty {
            FieldType::U32 => d.u32().map_err(text)?.to_string(),
            FieldType::U64 => d.u64().map_err(text)?.to_string(),
            FieldType::I64 => d.i64().map_err(text)?.to_string(),
            FieldType::Struct(inner) => fixed(inner, d)?,
        };
        parts.push(format!("{}={v}", f.name));
    }
    Ok(format!("{{{}}}", parts.join(", ")))
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
