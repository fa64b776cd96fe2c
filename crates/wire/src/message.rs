//! Messages: a header naming the destination and reply rights, rights carried in the body,
//! out-of-line regions, and inline bytes the kernel never looks at.
//!
//! Unlike Mach's header, the fields are not swapped on receive: `dest` is always the
//! destination (on receive, the caller's name for the receive right it arrived on) and
//! `reply` is always the reply right (on receive, the caller's name for it).

use crate::codec::{DecodeError, Reader, Writer};
use crate::name::{Disposition, PortName, ReceivedRight};

/// The most inline bytes one message may carry; larger data goes out of line.
pub const MAX_INLINE: usize = 64 * 1024;
/// The most port rights one message body may carry.
pub const MAX_PORTS: usize = 256;
/// The most out-of-line regions one message may carry (each is one file descriptor).
pub const MAX_OOL: usize = 64;

/// How a right in a message is named: on send, a disposition; on receive, the right received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RightSpec {
    /// Sent with this disposition.
    Send(Disposition),
    /// Received as this kind of right.
    Received(ReceivedRight),
}

/// One right carried in a message body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortDescriptor {
    /// The sender's name for the right (on send) or the receiver's (on receive);
    /// may be `PortName::NULL` or `PortName::DEAD`.
    pub name: PortName,
    /// The disposition (on send) or the received right kind (on receive); the value is
    /// Mach's number, see [`Disposition`] and [`ReceivedRight`].
    pub kind: u8,
}

impl PortDescriptor {
    /// A right to be sent with `disposition`.
    pub fn send(name: PortName, disposition: Disposition) -> Self {
        PortDescriptor {
            name,
            kind: disposition as u8,
        }
    }
    /// A null right.
    pub fn null() -> Self {
        PortDescriptor {
            name: PortName::NULL,
            kind: 0,
        }
    }
    /// The disposition, when this descriptor is being sent.
    pub fn disposition(&self) -> Option<Disposition> {
        Disposition::from_u8(self.kind)
    }
    /// The received right kind, when this descriptor was received.
    pub fn received(&self) -> Option<ReceivedRight> {
        ReceivedRight::from_u8(self.kind)
    }
}

/// The fixed part of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    /// Destination: on send, a send or send-once right; on receive, the receive right's name.
    pub dest: PortDescriptor,
    /// Reply right: on send, any right with its disposition (or null); on receive, the
    /// receiver's name for it and its kind.
    pub reply: PortDescriptor,
    /// The routine id; the kernel does not interpret it.
    pub id: u32,
    /// On receive, the port's sequence number for this message; ignored on send.
    pub seqno: u64,
}

/// A whole message as it crosses the task/kernel connection. Out-of-line regions are listed
/// by size here; their file descriptors travel beside the frame, in the same order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The header.
    pub header: MessageHeader,
    /// Rights carried in the body.
    pub ports: Vec<PortDescriptor>,
    /// Sizes of the out-of-line regions (one descriptor each).
    pub ool: Vec<u64>,
    /// Inline bytes, opaque to the kernel.
    pub data: Vec<u8>,
}

impl Message {
    /// A message to `dest` with routine `id` and no body.
    pub fn new(dest: PortName, disposition: Disposition, id: u32) -> Self {
        Message {
            header: MessageHeader {
                dest: PortDescriptor::send(dest, disposition),
                reply: PortDescriptor::null(),
                id,
                seqno: 0,
            },
            ports: Vec::new(),
            ool: Vec::new(),
            data: Vec::new(),
        }
    }

    /// Appends the message's wire form.
    pub fn encode(&self, w: &mut Writer) {
        encode_descriptor(w, &self.header.dest);
        encode_descriptor(w, &self.header.reply);
        w.u32(self.header.id).u64(self.header.seqno);
        w.u32(self.ports.len() as u32);
        for p in &self.ports {
            encode_descriptor(w, p);
        }
        w.u32(self.ool.len() as u32);
        for s in &self.ool {
            w.u64(*s);
        }
        w.bytes(&self.data);
    }

    /// Parses a message, checking every count against the protocol's limits.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let dest = decode_descriptor(r)?;
        let reply = decode_descriptor(r)?;
        let id = r.u32()?;
        let seqno = r.u64()?;
        let nports = r.count("port count", MAX_PORTS)?;
        let ports = (0..nports)
            .map(|_| decode_descriptor(r))
            .collect::<Result<Vec<_>, _>>()?;
        let nool = r.count("out-of-line count", MAX_OOL)?;
        let ool = (0..nool).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
        let data = r.bytes("inline data", MAX_INLINE)?.to_vec();
        Ok(Message {
            header: MessageHeader {
                dest,
                reply,
                id,
                seqno,
            },
            ports,
            ool,
            data,
        })
    }
}

fn encode_descriptor(w: &mut Writer, d: &PortDescriptor) {
    w.u32(d.name.0).u8(d.kind);
}

fn decode_descriptor(r: &mut Reader<'_>) -> Result<PortDescriptor, DecodeError> {
    Ok(PortDescriptor {
        name: PortName(r.u32()?),
        kind: r.u8()?,
    })
}
