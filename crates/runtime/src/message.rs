//! Messages as a task writes and reads them: [`OutMessage`] names its rights with
//! [`PortArg`]s (moving RAII rights in, or naming rights by disposition), [`Received`]
//! holds every right that arrived as an RAII [`Right`]. This module converts both to and
//! from `herd_wire::Message` plus the out-of-line descriptors beside it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use herd_channel::memfd::Region;
use herd_wire::frame::Timeout;
use herd_wire::message::{MAX_INLINE, MAX_OOL, MAX_PORTS};
use herd_wire::{Disposition, KernError, Message, MessageHeader, PortDescriptor, PortName};
use thiserror::Error;

use crate::rights::{ReceiveRight, Right, SendOnceRight, SendRight};
use crate::task::Task;

/// A right named in an outgoing message. The `Move*` variants hand an RAII right over to
/// the message (and on to the receiver); the others name a right the sender keeps.
#[derive(Debug, Default)]
pub enum PortArg {
    /// No right.
    #[default]
    Null,
    /// Give away a receive right (the receiver gets the port).
    MoveReceive(ReceiveRight),
    /// Give away one user reference of a send right.
    MoveSend(SendRight),
    /// Give away a send-once right.
    MoveSendOnce(SendOnceRight),
    /// Send a copy of a send right the sender keeps (`PortName::DEAD` sends a dead name).
    CopySend(PortName),
    /// Make a new send right from a receive right the sender keeps.
    MakeSend(PortName),
    /// Make a new send-once right from a receive right the sender keeps.
    MakeSendOnce(PortName),
}

impl PortArg {
    /// The wire descriptor, and the RAII right it moves (kept until the send settles).
    fn split(self) -> (PortDescriptor, Option<Right>) {
        let moved = |name, d, right| (PortDescriptor::send(name, d), Some(right));
        match self {
            PortArg::Null => (PortDescriptor::null(), None),
            PortArg::MoveReceive(r) => moved(r.name(), Disposition::MoveReceive, Right::Receive(r)),
            PortArg::MoveSend(r) => moved(r.name(), Disposition::MoveSend, Right::Send(r)),
            PortArg::MoveSendOnce(r) => {
                moved(r.name(), Disposition::MoveSendOnce, Right::SendOnce(r))
            }
            PortArg::CopySend(n) => (PortDescriptor::send(n, Disposition::CopySend), None),
            PortArg::MakeSend(n) => (PortDescriptor::send(n, Disposition::MakeSend), None),
            PortArg::MakeSendOnce(n) => (PortDescriptor::send(n, Disposition::MakeSendOnce), None),
        }
    }
}

impl From<ReceiveRight> for PortArg {
    fn from(r: ReceiveRight) -> Self {
        PortArg::MoveReceive(r)
    }
}

impl From<SendRight> for PortArg {
    fn from(r: SendRight) -> Self {
        PortArg::MoveSend(r)
    }
}

impl From<SendOnceRight> for PortArg {
    fn from(r: SendOnceRight) -> Self {
        PortArg::MoveSendOnce(r)
    }
}

impl From<Right> for PortArg {
    /// Moves whatever right is held; a dead name travels as `CopySend(DEAD)`.
    fn from(r: Right) -> Self {
        match r {
            Right::Null => PortArg::Null,
            Right::Dead => PortArg::CopySend(PortName::DEAD),
            Right::Receive(r) => PortArg::MoveReceive(r),
            Right::Send(r) => PortArg::MoveSend(r),
            Right::SendOnce(r) => PortArg::MoveSendOnce(r),
        }
    }
}

/// A message to send.
#[derive(Debug, Default)]
pub struct OutMessage {
    /// The destination: a send or send-once right.
    pub dest: PortArg,
    /// The reply right, or `Null`.
    pub reply: PortArg,
    /// The routine id.
    pub id: u32,
    /// Rights carried in the body.
    pub ports: Vec<PortArg>,
    /// Out-of-line regions, passed by descriptor.
    pub ool: Vec<Region>,
    /// Inline bytes.
    pub data: Vec<u8>,
}

impl OutMessage {
    /// A message to `dest` with routine `id` and nothing else.
    pub fn new(dest: impl Into<PortArg>, id: u32) -> Self {
        OutMessage {
            dest: dest.into(),
            id,
            ..OutMessage::default()
        }
    }

    /// Converts to the wire form. The regions and moved rights stay in the returned
    /// [`Outgoing`] until the kernel says what became of the message.
    pub(crate) fn into_wire(self, timeout: Timeout) -> Result<(Message, Outgoing), KernError> {
        if self.ports.len() > MAX_PORTS || self.ool.len() > MAX_OOL || self.data.len() > MAX_INLINE
        {
            return Err(KernError::SendTooLarge);
        }
        let could_block = timeout != Some(Duration::ZERO)
            && !matches!(
                self.dest,
                PortArg::MoveSendOnce(_) | PortArg::MakeSendOnce(_)
            );
        let mut moved = Vec::new();
        let mut take = |arg: PortArg| {
            let (descriptor, right) = arg.split();
            moved.extend(right);
            descriptor
        };
        let dest = take(self.dest);
        let reply = take(self.reply);
        let ports = self.ports.into_iter().map(&mut take).collect();
        let message = Message {
            header: MessageHeader {
                dest,
                reply,
                id: self.id,
                seqno: 0,
            },
            ports,
            ool: self.ool.iter().map(Region::len).collect(),
            data: self.data,
        };
        Ok((
            message,
            Outgoing {
                regions: self.ool,
                moved,
                could_block,
            },
        ))
    }
}

/// What the kernel did with a message sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendOutcome {
    /// Queued, handed back, or fate unknown: the moved names are no longer ours to release.
    Consumed,
    /// Refused with this error, before or after the kernel took the message in.
    Refused(KernError),
}

/// The parts of a sent message that live on until the send settles.
#[derive(Debug)]
pub(crate) struct Outgoing {
    regions: Vec<Region>,
    moved: Vec<Right>,
    /// Whether the send could have waited for queue room (a send right as destination and
    /// a non-zero timeout): the kernel takes such a message in before it blocks.
    could_block: bool,
}

/// Whether the kernel refused the message untouched, so the sender still holds every
/// right in it. Copy-in checks the whole message before taking anything, so all its
/// errors leave the message untouched; but `SendInvalidDest` also ends a send that
/// blocked on a full queue and found the port dead, after the kernel took the message
/// and destroyed it.
fn left_untouched(e: KernError, could_block: bool) -> bool {
    match e {
        KernError::SendInvalidDest => !could_block,
        KernError::SendInvalidReply
        | KernError::SendInvalidRight
        | KernError::SendInvalidType
        | KernError::SendInvalidHeader
        | KernError::SendInvalidData
        | KernError::SendTooLarge => true,
        _ => false,
    }
}

impl Outgoing {
    /// The region descriptors, in order, to send beside the frame.
    pub(crate) fn fds(&self) -> Vec<BorrowedFd<'_>> {
        self.regions.iter().map(AsFd::as_fd).collect()
    }

    /// Settles the moved rights: released if the message was refused untouched (they are
    /// still ours and the message is gone), forgotten otherwise (they went with it, came
    /// back renamed, or were destroyed by the kernel; forgetting leaks at worst, while a
    /// second release could take a reference some other holder owns).
    pub(crate) fn settle(self, outcome: SendOutcome) {
        match outcome {
            SendOutcome::Refused(e) if left_untouched(e, self.could_block) => drop(self.moved),
            _ => {
                for right in self.moved {
                    right.into_name();
                }
            }
        }
    }
}

/// A message received.
#[derive(Debug)]
pub struct Received {
    /// The routine id.
    pub id: u32,
    /// The port's sequence number for this message.
    pub seqno: u64,
    /// The receive right it arrived on (a member, when received from a port set).
    pub dest: PortName,
    /// The reply right (usually send-once), or `Null`.
    pub reply: Right,
    /// Rights carried in the body.
    pub ports: Vec<Right>,
    /// Out-of-line regions.
    pub ool: Vec<Region>,
    /// Inline bytes.
    pub data: Vec<u8>,
}

/// A message the kernel handed back unsent (Mach's pseudo-receive, after a send timed
/// out): every right in it, the destination included, is the sender's again.
#[derive(Debug)]
pub struct Returned {
    /// The destination right as it came back.
    pub dest: Right,
    /// The rest of the message (`message.dest` is `dest`'s name).
    pub message: Received,
}

impl Returned {
    /// Wraps a returned wire message and its descriptors.
    pub(crate) fn from_wire(
        task: &Task,
        mut message: Message,
        fds: Vec<OwnedFd>,
    ) -> Result<Returned, Malformed> {
        let dest = std::mem::replace(&mut message.header.dest, PortDescriptor::null());
        let mut message = Received::from_wire(task, message, fds)?;
        let dest = Right::from_wire(task, dest)?;
        message.dest = dest.name();
        Ok(Returned { dest, message })
    }
}

/// A received message that does not fit its descriptors.
#[derive(Debug, Error)]
pub(crate) enum Malformed {
    /// The message lists a different number of regions than descriptors came.
    #[error("message lists {sizes} out-of-line regions but {fds} descriptors came")]
    OolCount {
        /// Sizes listed.
        sizes: usize,
        /// Descriptors received.
        fds: usize,
    },
    /// A right of a kind the runtime does not know.
    #[error("right {name} has unknown kind {kind}")]
    UnknownRight {
        /// Its name.
        name: PortName,
        /// The kind byte.
        kind: u8,
    },
}

impl Received {
    /// Wraps a received wire message and its descriptors. Every right is wrapped first,
    /// so on error they are released (and the descriptors closed) as the parts drop.
    pub(crate) fn from_wire(
        task: &Task,
        message: Message,
        fds: Vec<OwnedFd>,
    ) -> Result<Received, Malformed> {
        let mut first_error = None;
        let mut wrap = |d: PortDescriptor| match Right::from_wire(task, d) {
            Ok(r) => r,
            Err(e) => {
                first_error.get_or_insert(e);
                Right::Null
            }
        };
        let reply = wrap(message.header.reply);
        let ports: Vec<Right> = message.ports.into_iter().map(&mut wrap).collect();
        if let Some(e) = first_error {
            return Err(e);
        }
        if message.ool.len() != fds.len() {
            return Err(Malformed::OolCount {
                sizes: message.ool.len(),
                fds: fds.len(),
            });
        }
        let ool = fds
            .into_iter()
            .zip(message.ool)
            .map(|(fd, len)| Region::from_fd(fd, len))
            .collect();
        Ok(Received {
            id: message.header.id,
            seqno: message.header.seqno,
            dest: message.header.dest.name,
            reply,
            ports,
            ool,
            data: message.data,
        })
    }

    /// Takes the reply right out of the message, leaving `Null`.
    pub fn take_reply(&mut self) -> Right {
        std::mem::take(&mut self.reply)
    }
}
