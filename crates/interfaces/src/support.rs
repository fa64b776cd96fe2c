//! What generated code is made of: an [`Encoder`] and a [`Decoder`] for message bodies
//! (the encoding of `docs/runtime-idl-contract.md`), the reply conventions (return code
//! first, errno replies, `MIG_BAD_ID`), and the calls into the runtime.
//!
//! Generated modules call these; servers and clients normally use the generated functions
//! instead. Nothing here panics on any message.

use herd_runtime::{
    notify_id, Errno, OutMessage, PortArg, PortName, Received, Region, Right, Task,
};
use thiserror::Error;

use crate::types::Fixed;

/// MIG's `MIG_REPLY_MISMATCH`: a message came back on the reply port that is not the reply.
pub const MIG_REPLY_MISMATCH: Errno = Errno(-301);

/// What a server method learns about a request besides its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The request's message id.
    pub id: u32,
    /// Its sequence number on the port it arrived on.
    pub seqno: u64,
    /// The receive right it arrived on: the object it is addressed to.
    pub dest: PortName,
}

impl Request {
    /// The context of a received message.
    pub fn of(msg: &Received) -> Request {
        Request {
            id: msg.id,
            seqno: msg.seqno,
            dest: msg.dest,
        }
    }
}

/// Why a message body did not decode as the routine's arguments.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BodyError {
    /// The inline data ended inside an argument.
    #[error("inline data truncated: {needed} bytes needed at offset {offset}, {available} left")]
    Truncated {
        /// Where the argument starts.
        offset: usize,
        /// How many bytes it needed.
        needed: usize,
        /// How many were left.
        available: usize,
    },
    /// Inline bytes were left after the last argument.
    #[error("{0} bytes of inline data left over")]
    Trailing(usize),
    /// A `bool` byte other than 0 or 1.
    #[error("bool argument at offset {offset} is {value}, not 0 or 1")]
    BadBool {
        /// Where it is.
        offset: usize,
        /// The byte found.
        value: u8,
    },
    /// A `string` that is not UTF-8.
    #[error("string argument at offset {offset} is not UTF-8")]
    BadUtf8 {
        /// Where it starts.
        offset: usize,
    },
    /// Fewer rights than the routine takes.
    #[error("right {index} is missing")]
    MissingRight {
        /// Its position among the message's rights.
        index: usize,
    },
    /// A right of the wrong kind.
    #[error("right {index} is a {found} right where a {expected} right belongs")]
    WrongRight {
        /// Its position among the message's rights.
        index: usize,
        /// The kind the routine takes.
        expected: &'static str,
        /// The kind that came.
        found: &'static str,
    },
    /// More rights than the routine takes.
    #[error("{0} rights left over")]
    ExtraRights(usize),
    /// Fewer out-of-line regions than the routine takes.
    #[error("region {index} is missing")]
    MissingRegion {
        /// Its position among the message's regions.
        index: usize,
    },
    /// More regions than the routine takes.
    #[error("{0} regions left over")]
    ExtraRegions(usize),
}

/// Builds a message body: inline data, rights and regions, in argument order.
#[derive(Debug, Default)]
pub struct Encoder {
    data: Vec<u8>,
    ports: Vec<PortArg>,
    ool: Vec<Region>,
}

impl Encoder {
    /// An empty body.
    pub fn new() -> Self {
        Encoder::default()
    }

    fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.data.extend_from_slice(bytes);
        self
    }

    /// A `u8`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.raw(&[v])
    }
    /// A `u16`, little-endian.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }
    /// A `u32`, little-endian.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }
    /// A `u64`, little-endian.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }
    /// An `i32`, little-endian.
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }
    /// An `i64`, little-endian.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }
    /// A `bool`: one byte, 0 or 1.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }
    /// `bytes`: u32 length, then the bytes. (Longer than 4 GiB cannot be sent inline
    /// anyway: the kernel refuses the message as too large.)
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.raw(v)
    }
    /// A `string`, encoded as `bytes` of its UTF-8.
    pub fn string(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }
    /// A `u32_array`: u32 count, then the elements.
    pub fn u32_array(&mut self, v: &[u32]) -> &mut Self {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        for x in v {
            self.u32(*x);
        }
        self
    }
    /// A fixed struct (`stat`, `statfs`, `timespec`): its fields in order.
    pub fn fixed<T: Fixed>(&mut self, v: &T) -> &mut Self {
        v.put(&mut self.data);
        self
    }
    /// A `port_name`: the u32 name, inline (no right moves).
    pub fn port_name(&mut self, v: PortName) -> &mut Self {
        self.u32(v.0)
    }
    /// A right (`send`, `send_once`, `receive`), appended to the message's rights.
    pub fn right(&mut self, v: PortArg) -> &mut Self {
        self.ports.push(v);
        self
    }
    /// A `region`, appended to the message's out-of-line regions.
    pub fn region(&mut self, v: Region) -> &mut Self {
        self.ool.push(v);
        self
    }

    /// The message: to `dest`, with routine `id`, no reply right (the runtime adds one for
    /// an rpc), and this body.
    pub fn request(self, dest: PortArg, id: u32) -> OutMessage {
        OutMessage {
            dest,
            reply: PortArg::Null,
            id,
            ports: self.ports,
            ool: self.ool,
            data: self.data,
        }
    }
}

/// Reads a received body in argument order, checking every length and right kind.
#[derive(Debug)]
pub struct Decoder {
    data: Vec<u8>,
    offset: usize,
    ports: std::vec::IntoIter<Right>,
    port_index: usize,
    ool: std::vec::IntoIter<Region>,
    ool_index: usize,
}

impl Decoder {
    /// A decoder over `msg`'s body (its reply right, if still there, is released).
    pub fn new(msg: Received) -> Self {
        Decoder {
            data: msg.data,
            offset: 0,
            ports: msg.ports.into_iter(),
            port_index: 0,
            ool: msg.ool.into_iter(),
            ool_index: 0,
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], BodyError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take_slice(N)?);
        Ok(out)
    }

    fn take_slice(&mut self, n: usize) -> Result<&[u8], BodyError> {
        let available = self.data.len() - self.offset;
        if n > available {
            return Err(BodyError::Truncated {
                offset: self.offset,
                needed: n,
                available,
            });
        }
        let start = self.offset;
        self.offset += n;
        Ok(&self.data[start..start + n])
    }

    /// A `u8`.
    pub fn u8(&mut self) -> Result<u8, BodyError> {
        Ok(self.take::<1>()?[0])
    }
    /// A `u16`.
    pub fn u16(&mut self) -> Result<u16, BodyError> {
        self.take().map(u16::from_le_bytes)
    }
    /// A `u32`.
    pub fn u32(&mut self) -> Result<u32, BodyError> {
        self.take().map(u32::from_le_bytes)
    }
    /// A `u64`.
    pub fn u64(&mut self) -> Result<u64, BodyError> {
        self.take().map(u64::from_le_bytes)
    }
    /// An `i32`.
    pub fn i32(&mut self) -> Result<i32, BodyError> {
        self.take().map(i32::from_le_bytes)
    }
    /// An `i64`.
    pub fn i64(&mut self) -> Result<i64, BodyError> {
        self.take().map(i64::from_le_bytes)
    }
    /// A `bool` (0 or 1; anything else is an error).
    pub fn bool(&mut self) -> Result<bool, BodyError> {
        let offset = self.offset;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(BodyError::BadBool { offset, value }),
        }
    }
    /// `bytes`.
    pub fn bytes(&mut self) -> Result<Vec<u8>, BodyError> {
        let n = self.u32()? as usize;
        Ok(self.take_slice(n)?.to_vec())
    }
    /// A `string` (UTF-8 checked).
    pub fn string(&mut self) -> Result<String, BodyError> {
        let offset = self.offset;
        String::from_utf8(self.bytes()?).map_err(|_| BodyError::BadUtf8 { offset })
    }
    /// A `u32_array` (its length is checked against the data left before anything is
    /// allocated).
    pub fn u32_array(&mut self) -> Result<Vec<u32>, BodyError> {
        let offset = self.offset;
        let n = self.u32()? as usize;
        let needed = n.checked_mul(4).ok_or(BodyError::Truncated {
            offset,
            needed: usize::MAX,
            available: self.data.len() - self.offset,
        })?;
        let raw = self.take_slice(needed)?;
        Ok(raw
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    /// A fixed struct (`stat`, `statfs`, `timespec`).
    pub fn fixed<T: Fixed>(&mut self) -> Result<T, BodyError> {
        let offset = self.offset;
        let available = self.data.len() - self.offset;
        let mut raw = self.take_slice(T::SIZE)?;
        T::get(&mut raw).ok_or(BodyError::Truncated {
            offset,
            needed: T::SIZE,
            available,
        })
    }
    /// A `port_name`.
    pub fn port_name(&mut self) -> Result<PortName, BodyError> {
        self.u32().map(PortName)
    }
    /// A `send` right (or a null or dead name).
    pub fn send(&mut self) -> Result<Right, BodyError> {
        self.right("send", |r| matches!(r, Right::Send(_)))
    }
    /// A `send_once` right (or a null or dead name).
    pub fn send_once(&mut self) -> Result<Right, BodyError> {
        self.right("send-once", |r| matches!(r, Right::SendOnce(_)))
    }
    /// A `receive` right (or a null or dead name).
    pub fn receive(&mut self) -> Result<Right, BodyError> {
        self.right("receive", |r| matches!(r, Right::Receive(_)))
    }

    fn right(
        &mut self,
        expected: &'static str,
        fits: fn(&Right) -> bool,
    ) -> Result<Right, BodyError> {
        let index = self.port_index;
        let right = self.ports.next().ok_or(BodyError::MissingRight { index })?;
        self.port_index += 1;
        if matches!(right, Right::Null | Right::Dead) || fits(&right) {
            Ok(right)
        } else {
            Err(BodyError::WrongRight {
                index,
                expected,
                found: right_kind(&right),
            })
        }
    }

    /// A `region`.
    pub fn region(&mut self) -> Result<Region, BodyError> {
        let index = self.ool_index;
        let region = self.ool.next().ok_or(BodyError::MissingRegion { index })?;
        self.ool_index += 1;
        Ok(region)
    }

    /// Checks that nothing is left over.
    pub fn finish(self) -> Result<(), BodyError> {
        match (
            self.data.len() - self.offset,
            self.ports.len(),
            self.ool.len(),
        ) {
            (0, 0, 0) => Ok(()),
            (n, _, _) if n > 0 => Err(BodyError::Trailing(n)),
            (_, n, _) if n > 0 => Err(BodyError::ExtraRights(n)),
            (_, _, n) => Err(BodyError::ExtraRegions(n)),
        }
    }
}

/// The kind of a received right, in words.
fn right_kind(r: &Right) -> &'static str {
    match r {
        Right::Null => "null",
        Right::Dead => "dead",
        Right::Receive(_) => "receive",
        Right::Send(_) => "send",
        Right::SendOnce(_) => "send-once",
    }
}

/// Decodes a request body with `read`, then checks nothing is left over.
pub fn decode_request<T>(
    msg: Received,
    read: impl FnOnce(&mut Decoder) -> Result<T, BodyError>,
) -> Result<T, BodyError> {
    let mut d = Decoder::new(msg);
    let value = read(&mut d)?;
    d.finish()?;
    Ok(value)
}

/// Decodes a reply: it must have id `reply_id` (a send-once notification in its place
/// means the server died: `EDIED`; another id is `MIG_REPLY_MISMATCH`) and start with the
/// return code; a nonzero code is the error, otherwise `read` decodes the out arguments.
/// A body that does not decode is `MIG_TYPE_ERROR`.
pub fn decode_reply<T>(
    msg: Received,
    reply_id: u32,
    read: impl FnOnce(&mut Decoder) -> Result<T, BodyError>,
) -> Result<T, Errno> {
    if msg.id != reply_id {
        return Err(if msg.id == notify_id::SEND_ONCE {
            Errno::EDIED
        } else {
            tracing::debug!(id = msg.id, expected = reply_id, "reply id mismatch");
            MIG_REPLY_MISMATCH
        });
    }
    let mut d = Decoder::new(msg);
    let bad = |e: BodyError| {
        tracing::debug!(id = reply_id, error = %e, "reply does not decode");
        Errno::MIG_TYPE_ERROR
    };
    match d.i32().map_err(bad)? {
        0 => {}
        code => return Err(Errno(code)),
    }
    let value = read(&mut d).map_err(bad)?;
    d.finish().map_err(bad)?;
    Ok(value)
}

/// Builds a reply to `dest`: return code 0 and what `write` adds, or the errno alone
/// (`Err(Errno(0))`, which would read as success, is sent as `EIO`).
pub fn encode_reply<T>(
    dest: PortArg,
    reply_id: u32,
    result: Result<T, Errno>,
    write: impl FnOnce(&mut Encoder, T),
) -> OutMessage {
    let mut e = Encoder::new();
    match result {
        Ok(value) => {
            e.i32(0);
            write(&mut e, value);
        }
        Err(Errno(0)) => {
            // Code 0 means success on the wire; an "error" 0 must not read as one.
            tracing::warn!(id = reply_id, "server returned Err(Errno(0)); replying EIO");
            e.i32(Errno::EIO.0);
        }
        Err(errno) => {
            e.i32(errno.0);
        }
    }
    e.request(dest, reply_id)
}

/// Takes a received request's reply right as the destination of its reply. `Null` when
/// there is none (`herd_runtime::serve` takes it out before the handler runs and fills
/// in a `Null` destination itself).
pub fn take_reply(msg: &mut Received) -> PortArg {
    match msg.take_reply() {
        Right::SendOnce(r) => PortArg::MoveSendOnce(r),
        Right::Send(r) => PortArg::MoveSend(r),
        _ => PortArg::Null,
    }
}

/// The reply that refuses `msg` with `errno` alone (`MIG_BAD_ID` for an unknown id).
/// The message's rights and regions are released.
pub fn error_reply(mut msg: Received, errno: Errno) -> Option<OutMessage> {
    tracing::debug!(id = msg.id, dest = %msg.dest, %errno, "refusing a message");
    let dest = take_reply(&mut msg);
    let mut e = Encoder::new();
    e.i32(errno.0);
    Some(e.request(dest, herd_runtime::reply_id(msg.id)))
}

/// Logs a request that did not decode and gives the errno to answer it with.
pub fn bad_request(req: &Request, error: &BodyError) -> Errno {
    tracing::debug!(id = req.id, dest = %req.dest, %error, "request does not decode");
    Errno::MIG_BAD_ARGUMENTS
}

/// Sends a request and waits for its reply (no timeout); a kernel failure as an errno
/// (`EDIED` when the server is gone).
pub fn rpc(task: &Task, msg: OutMessage) -> Result<Received, Errno> {
    task.rpc(msg, None).map_err(Errno::from)
}

/// Sends a one-way message, waiting for queue room as long as it takes.
pub fn send(task: &Task, msg: OutMessage) -> Result<(), Errno> {
    task.send(msg, None).map_err(Errno::from)
}
