//! What kernel calls answer: port and task descriptions, counters, and their encoding.

use crate::codec::{DecodeError, Reader, Writer};
use crate::name::{PortName, RightKind};

use super::{bad, decode_name, MAX_STRING};

/// Queue and notification state of one port, as `mach_port_get_receive_status` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortStatus {
    /// The port set holding the port, or null.
    pub pset: PortName,
    /// The sequence number the next dequeued message gets.
    pub seqno: u64,
    /// The make-send count.
    pub mscount: u32,
    /// The queue limit.
    pub qlimit: u32,
    /// Messages queued.
    pub msgcount: u32,
    /// Send-once rights outstanding.
    pub sorights: u32,
    /// Whether any send right exists.
    pub srights: bool,
    /// Whether a port-destroyed request is registered.
    pub pdrequest: bool,
    /// Whether a no-senders request is registered.
    pub nsrequest: bool,
    /// Senders blocked on the full queue.
    pub blocked_senders: u32,
    /// Threads waiting to receive from the port (directly).
    pub waiting_receivers: u32,
}

/// One name in a task's space, as introspection tools see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameInfo {
    /// The name.
    pub name: PortName,
    /// The rights held under it.
    pub rights: RightKind,
    /// User references of the send or dead-name right (1 for the others).
    pub urefs: u32,
    /// The kernel's id of the port or set (stable while it lives); 0 for a dead name.
    pub port_id: u64,
    /// The task holding the receive right, if any and alive.
    pub receiver_task: u64,
    /// That task's Linux pid (0 if none).
    pub receiver_pid: u32,
    /// Messages queued on the port.
    pub queued: u32,
}

/// A task, as the kernel lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// The kernel's task id.
    pub task: u64,
    /// The Linux process id.
    pub pid: u32,
    /// The Linux uid the process connected with.
    pub uid: u32,
    /// A label the task gave itself (program name).
    pub label: String,
    /// Names in its space.
    pub names: u32,
    /// Connections (threads) bound to it.
    pub connections: u32,
}

/// Whole-kernel counters, for leak checks and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct KernelStats {
    /// Live tasks.
    pub tasks: u64,
    /// Live ports.
    pub ports: u64,
    /// Live port sets.
    pub port_sets: u64,
    /// Names in all spaces together.
    pub names: u64,
    /// Messages queued on all ports, plus those held for blocked senders.
    pub queued_messages: u64,
    /// Send rights counted on all ports (in spaces and in messages).
    pub send_rights: u64,
    /// Send-once rights counted on all ports.
    pub send_once_rights: u64,
    /// Open connections.
    pub connections: u64,
}

/// What a successful [`PortCall`] answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallValue {
    /// Nothing.
    Unit,
    /// A name.
    Name(PortName),
    /// A count.
    Count(u32),
    /// The rights under a name.
    Rights(RightKind),
    /// A port's status.
    Status(PortStatus),
    /// Names.
    Names(Vec<PortName>),
    /// Names with details.
    NameInfos(Vec<NameInfo>),
    /// Tasks.
    Tasks(Vec<TaskInfo>),
    /// Kernel counters.
    Stats(KernelStats),
    /// A new task.
    Spawned {
        /// Its kernel task id.
        task: u64,
        /// Its Linux pid.
        pid: u32,
    },
    /// Strings (special-port names).
    Strings(Vec<String>),
}

/// The most entries a listing answer carries.
pub const MAX_LIST: usize = 4_000_000;

impl CallValue {
    pub(super) fn encode(&self, w: &mut Writer) {
        match self {
            CallValue::Unit => {
                w.u8(0);
            }
            CallValue::Name(n) => {
                w.u8(1).u32(n.0);
            }
            CallValue::Count(c) => {
                w.u8(2).u32(*c);
            }
            CallValue::Rights(k) => {
                w.u8(3).u8(k.0);
            }
            CallValue::Status(s) => {
                w.u8(4)
                    .u32(s.pset.0)
                    .u64(s.seqno)
                    .u32(s.mscount)
                    .u32(s.qlimit)
                    .u32(s.msgcount)
                    .u32(s.sorights)
                    .u8(s.srights as u8)
                    .u8(s.pdrequest as u8)
                    .u8(s.nsrequest as u8)
                    .u32(s.blocked_senders)
                    .u32(s.waiting_receivers);
            }
            CallValue::Names(v) => {
                w.u8(5).u32(v.len() as u32);
                for n in v {
                    w.u32(n.0);
                }
            }
            CallValue::NameInfos(v) => {
                w.u8(6).u32(v.len() as u32);
                for i in v {
                    w.u32(i.name.0)
                        .u8(i.rights.0)
                        .u32(i.urefs)
                        .u64(i.port_id)
                        .u64(i.receiver_task)
                        .u32(i.receiver_pid)
                        .u32(i.queued);
                }
            }
            CallValue::Tasks(v) => {
                w.u8(7).u32(v.len() as u32);
                for t in v {
                    w.u64(t.task)
                        .u32(t.pid)
                        .u32(t.uid)
                        .str(&t.label)
                        .u32(t.names)
                        .u32(t.connections);
                }
            }
            CallValue::Stats(s) => {
                w.u8(8)
                    .u64(s.tasks)
                    .u64(s.ports)
                    .u64(s.port_sets)
                    .u64(s.names)
                    .u64(s.queued_messages)
                    .u64(s.send_rights)
                    .u64(s.send_once_rights)
                    .u64(s.connections);
            }
            CallValue::Spawned { task, pid } => {
                w.u8(9).u64(*task).u32(*pid);
            }
            CallValue::Strings(v) => {
                w.u8(10).u32(v.len() as u32);
                for s in v {
                    w.str(s);
                }
            }
        }
    }

    pub(super) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let flag = |r: &mut Reader<'_>| -> Result<bool, DecodeError> { Ok(r.u8()? != 0) };
        Ok(match r.u8()? {
            0 => CallValue::Unit,
            1 => CallValue::Name(decode_name(r)?),
            2 => CallValue::Count(r.u32()?),
            3 => CallValue::Rights(RightKind(r.u8()?)),
            4 => CallValue::Status(PortStatus {
                pset: decode_name(r)?,
                seqno: r.u64()?,
                mscount: r.u32()?,
                qlimit: r.u32()?,
                msgcount: r.u32()?,
                sorights: r.u32()?,
                srights: flag(r)?,
                pdrequest: flag(r)?,
                nsrequest: flag(r)?,
                blocked_senders: r.u32()?,
                waiting_receivers: r.u32()?,
            }),
            5 => {
                let n = r.count("names", MAX_LIST)?;
                CallValue::Names((0..n).map(|_| decode_name(r)).collect::<Result<_, _>>()?)
            }
            6 => {
                let n = r.count("name infos", MAX_LIST)?;
                CallValue::NameInfos(
                    (0..n)
                        .map(|_| {
                            Ok(NameInfo {
                                name: decode_name(r)?,
                                rights: RightKind(r.u8()?),
                                urefs: r.u32()?,
                                port_id: r.u64()?,
                                receiver_task: r.u64()?,
                                receiver_pid: r.u32()?,
                                queued: r.u32()?,
                            })
                        })
                        .collect::<Result<_, DecodeError>>()?,
                )
            }
            7 => {
                let n = r.count("tasks", MAX_LIST)?;
                CallValue::Tasks(
                    (0..n)
                        .map(|_| {
                            Ok(TaskInfo {
                                task: r.u64()?,
                                pid: r.u32()?,
                                uid: r.u32()?,
                                label: r.string("label", MAX_STRING)?,
                                names: r.u32()?,
                                connections: r.u32()?,
                            })
                        })
                        .collect::<Result<_, DecodeError>>()?,
                )
            }
            8 => CallValue::Stats(KernelStats {
                tasks: r.u64()?,
                ports: r.u64()?,
                port_sets: r.u64()?,
                names: r.u64()?,
                queued_messages: r.u64()?,
                send_rights: r.u64()?,
                send_once_rights: r.u64()?,
                connections: r.u64()?,
            }),
            9 => CallValue::Spawned {
                task: r.u64()?,
                pid: r.u32()?,
            },
            10 => {
                let n = r.count("strings", MAX_LIST)?;
                CallValue::Strings(
                    (0..n)
                        .map(|_| r.string("string", MAX_STRING))
                        .collect::<Result<_, _>>()?,
                )
            }
            v => return Err(bad("call value", v)),
        })
    }
}
