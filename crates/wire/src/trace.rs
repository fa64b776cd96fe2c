//! Trace records: what the kernel tells a tracer about a traced task's messages.
//!
//! A tracer asks the kernel to trace a task ([`crate::frame::PortCall::Trace`]) and names
//! a port it receives from. From then on the kernel enqueues on that port, beside the
//! traced task's own traffic, one ordinary message per event: a message the task sent, a
//! message it received, a task it spawned, its exit. Records carry no rights and no
//! out-of-line regions: they are pure data, built from what the kernel knows (port ids and
//! who holds each port's receive right), so tracing creates no right the traced task
//! could notice. The record's message id says what it is ([`record_id`]); its inline data
//! is laid out as `docs/rpctrace.md` describes and [`TraceRecord::encode`] writes it.
//!
//! Every field is little-endian. Strings and byte strings are a u32 length and the bytes.

use crate::codec::{DecodeError, Reader, Writer};
use crate::name::PortName;

/// The message ids of trace records.
pub mod record_id {
    /// The traced task sent a message (or tried to: see the record's status).
    pub const SEND: u32 = 0x7472_0001;
    /// The traced task received a message.
    pub const RECEIVE: u32 = 0x7472_0002;
    /// The traced task died; no record about it follows.
    pub const EXIT: u32 = 0x7472_0003;
    /// The traced task spawned another task.
    pub const SPAWNED: u32 = 0x7472_0004;
    /// When tracing began, a thread of the task was waiting (in a receive, or in a send
    /// for queue room).
    pub const WAITING: u32 = 0x7472_0005;

    /// Whether `id` is one of the record ids.
    pub fn is_record(id: u32) -> bool {
        (SEND..=WAITING).contains(&id)
    }
}

/// The layout version written first in every record.
pub const RECORD_VERSION: u16 = 1;
/// The most inline bytes of a traced message a record carries; the full length is given.
pub const MAX_TRACED_DATA: usize = 4096;
/// The most bytes of a task label a record carries.
pub const MAX_LABEL: usize = 64;
/// The most rights a record lists (a message carries at most this many).
pub const MAX_RECORD_PORTS: usize = crate::message::MAX_PORTS;
/// The most region sizes a record lists.
pub const MAX_RECORD_OOL: usize = crate::message::MAX_OOL;

/// Bits of [`MessageRecord::flags`].
pub mod record_flags {
    /// The destination queue was full: the sender waits for room (the message is not
    /// queued yet).
    pub const BLOCKED: u32 = 1;
}

/// A task, as records name it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TaskRef {
    /// The kernel's task id.
    pub task: u64,
    /// Its Linux pid (0 while a spawned task is starting).
    pub pid: u32,
    /// Its label, cut to [`MAX_LABEL`] bytes.
    pub label: String,
}

/// Who holds a port's receive right when the record is made.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Holder {
    /// No port (a null or dead right), or the port is dead.
    #[default]
    None,
    /// A task.
    Task(TaskRef),
    /// Nobody yet: the receive right travels inside a message.
    InTransit,
}

/// A right named in a traced message.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortRef {
    /// The traced task's name for it (null, dead, or a name in its space). For a right
    /// the task moved away, the name it had.
    pub name: PortName,
    /// In a send record, the disposition the sender used (Mach's number); in a receive
    /// record, the kind of right received ([`crate::ReceivedRight`]). 0 for none.
    pub kind: u8,
    /// The kernel's id of the port (as in [`crate::frame::NameInfo::port_id`]); 0 for
    /// none or dead.
    pub port_id: u64,
    /// Who holds the port's receive right.
    pub receiver: Holder,
}

/// A message the traced task sent or received.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MessageRecord {
    /// The message id.
    pub id: u32,
    /// On receive, the message's sequence number on its port; 0 on send.
    pub seqno: u64,
    /// On send, 0 or the kernel return code the send failed with (the message was not
    /// sent); 0 on receive.
    pub status: u32,
    /// Bits from [`record_flags`].
    pub flags: u32,
    /// The destination: on send, the right sent to; on receive, the receive right it came
    /// in on (its `kind` is the right the sender used).
    pub dest: PortRef,
    /// The reply right.
    pub reply: PortRef,
    /// Rights in the body, in order.
    pub ports: Vec<PortRef>,
    /// Sizes of the out-of-line regions (their contents are not traced).
    pub ool: Vec<u64>,
    /// The full length of the inline data.
    pub data_len: u32,
    /// The first [`MAX_TRACED_DATA`] bytes of the inline data.
    pub data: Vec<u8>,
}

impl MessageRecord {
    /// Whether the inline data was cut.
    pub fn truncated(&self) -> bool {
        self.data.len() < self.data_len as usize
    }
}

/// What a record is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// The task sent a message.
    Send(MessageRecord),
    /// The task received a message.
    Receive(MessageRecord),
    /// The task died.
    Exit,
    /// The task spawned this one (which is traced too if the trace follows children).
    Spawned {
        /// The new task.
        child: TaskRef,
        /// Whether the child is traced to the same tracer.
        followed: bool,
    },
    /// When tracing began, one of the task's threads was already waiting: to receive
    /// from `port` (a receive right or port set; for a client in an RPC, its reply
    /// port), or to send message `id` to `port`, whose queue was full.
    Waiting {
        /// Whether the thread waits to send (else to receive).
        sending: bool,
        /// The message id, when sending; 0 otherwise.
        id: u32,
        /// The port (or port set) waited on.
        port: PortRef,
        /// When receiving: the port has send-once rights out and no send rights, as a
        /// reply port does while its RPC is in progress.
        in_call: bool,
    },
}

/// One record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    /// Nanoseconds since the kernel started.
    pub time_ns: u64,
    /// The traced task.
    pub task: TaskRef,
    /// Records about this task the kernel dropped since the last one it delivered,
    /// because the tracer's queue was full.
    pub dropped: u64,
    /// What happened.
    pub event: TraceEvent,
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn cut_label(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn put_task(w: &mut Writer, t: &TaskRef) {
    w.u64(t.task).u32(t.pid).str(cut_label(&t.label, MAX_LABEL));
}

fn get_task(r: &mut Reader<'_>) -> Result<TaskRef, DecodeError> {
    Ok(TaskRef {
        task: r.u64()?,
        pid: r.u32()?,
        label: r.string("task label", MAX_LABEL)?,
    })
}

fn put_port(w: &mut Writer, p: &PortRef) {
    w.u32(p.name.0).u8(p.kind).u64(p.port_id);
    match &p.receiver {
        Holder::None => {
            w.u8(0);
        }
        Holder::Task(t) => {
            w.u8(1);
            put_task(w, t);
        }
        Holder::InTransit => {
            w.u8(2);
        }
    }
}

fn get_port(r: &mut Reader<'_>) -> Result<PortRef, DecodeError> {
    let name = PortName(r.u32()?);
    let kind = r.u8()?;
    let port_id = r.u64()?;
    let receiver = match r.u8()? {
        0 => Holder::None,
        1 => Holder::Task(get_task(r)?),
        2 => Holder::InTransit,
        v => {
            return Err(DecodeError::BadValue {
                what: "receiver kind",
                value: v.into(),
            })
        }
    };
    Ok(PortRef {
        name,
        kind,
        port_id,
        receiver,
    })
}

fn put_message(w: &mut Writer, m: &MessageRecord) {
    w.u32(m.id).u64(m.seqno).u32(m.status).u32(m.flags);
    put_port(w, &m.dest);
    put_port(w, &m.reply);
    let ports = &m.ports[..m.ports.len().min(MAX_RECORD_PORTS)];
    w.u32(ports.len() as u32);
    for p in ports {
        put_port(w, p);
    }
    let ool = &m.ool[..m.ool.len().min(MAX_RECORD_OOL)];
    w.u32(ool.len() as u32);
    for s in ool {
        w.u64(*s);
    }
    let data = &m.data[..m.data.len().min(MAX_TRACED_DATA)];
    w.u32(m.data_len.max(data.len() as u32)).bytes(data);
}

fn get_message(r: &mut Reader<'_>) -> Result<MessageRecord, DecodeError> {
    let id = r.u32()?;
    let seqno = r.u64()?;
    let status = r.u32()?;
    let flags = r.u32()?;
    let dest = get_port(r)?;
    let reply = get_port(r)?;
    let n = r.count("record rights", MAX_RECORD_PORTS)?;
    let ports = (0..n).map(|_| get_port(r)).collect::<Result<_, _>>()?;
    let n = r.count("record regions", MAX_RECORD_OOL)?;
    let ool = (0..n).map(|_| r.u64()).collect::<Result<_, _>>()?;
    let data_len = r.u32()?;
    let data = r.bytes("record data", MAX_TRACED_DATA)?.to_vec();
    if (data_len as usize) < data.len() {
        return Err(DecodeError::BadValue {
            what: "record data length",
            value: data_len.into(),
        });
    }
    Ok(MessageRecord {
        id,
        seqno,
        status,
        flags,
        dest,
        reply,
        ports,
        ool,
        data_len,
        data,
    })
}

impl TraceRecord {
    /// The message id the record travels with.
    pub fn id(&self) -> u32 {
        match self.event {
            TraceEvent::Send(_) => record_id::SEND,
            TraceEvent::Receive(_) => record_id::RECEIVE,
            TraceEvent::Exit => record_id::EXIT,
            TraceEvent::Spawned { .. } => record_id::SPAWNED,
            TraceEvent::Waiting { .. } => record_id::WAITING,
        }
    }

    /// The record's inline data.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(128);
        w.u16(RECORD_VERSION)
            .u16(0)
            .u64(self.time_ns)
            .u64(self.dropped);
        put_task(&mut w, &self.task);
        match &self.event {
            TraceEvent::Send(m) | TraceEvent::Receive(m) => put_message(&mut w, m),
            TraceEvent::Exit => {}
            TraceEvent::Spawned { child, followed } => {
                put_task(&mut w, child);
                w.u8(*followed as u8);
            }
            TraceEvent::Waiting {
                sending,
                id,
                port,
                in_call,
            } => {
                w.u8(*sending as u8).u32(*id);
                put_port(&mut w, port);
                w.u8(*in_call as u8);
            }
        }
        w.into_vec()
    }

    /// Parses a record that arrived with message id `id`; every byte must belong to it.
    pub fn decode(id: u32, data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let version = r.u16()?;
        if version != RECORD_VERSION {
            return Err(DecodeError::BadValue {
                what: "record version",
                value: version.into(),
            });
        }
        let _reserved = r.u16()?;
        let time_ns = r.u64()?;
        let dropped = r.u64()?;
        let task = get_task(&mut r)?;
        let event = match id {
            record_id::SEND => TraceEvent::Send(get_message(&mut r)?),
            record_id::RECEIVE => TraceEvent::Receive(get_message(&mut r)?),
            record_id::EXIT => TraceEvent::Exit,
            record_id::SPAWNED => TraceEvent::Spawned {
                child: get_task(&mut r)?,
                followed: r.u8()? != 0,
            },
            record_id::WAITING => TraceEvent::Waiting {
                sending: r.u8()? != 0,
                id: r.u32()?,
                port: get_port(&mut r)?,
                in_call: r.u8()? != 0,
            },
            v => {
                return Err(DecodeError::BadValue {
                    what: "record id",
                    value: v.into(),
                })
            }
        };
        r.finish()?;
        Ok(TraceRecord {
            time_ns,
            task,
            dropped,
            event,
        })
    }
}
