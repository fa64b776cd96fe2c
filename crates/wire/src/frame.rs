//! Frames: what a task asks of the kernel (`Request`) and what the kernel answers
//! (`Response`). Each request gets exactly one response, in order, on the same connection.

use std::time::Duration;

use crate::codec::{DecodeError, Reader, Writer};
use crate::codes::KernError;
use crate::message::Message;
use crate::name::{Disposition, PortName, RightKind};

/// The largest frame either side sends or accepts, in bytes.
pub const MAX_FRAME: usize = 96 * 1024;
/// The longest label, program path or argument a frame may carry.
pub const MAX_STRING: usize = 4096;
/// The most arguments or environment entries in a spawn request.
pub const MAX_ARGS: usize = 1024;

/// The option bits of [`Request::MachMsg`].
pub mod msg_option {
    /// Send the message in the request.
    pub const SEND: u32 = 1;
    /// Then receive from `rcv_name`.
    pub const RECEIVE: u32 = 2;
    /// All defined bits.
    pub const ALL: u32 = SEND | RECEIVE;
}

/// What kind of right [`PortCall::Allocate`] creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AllocateKind {
    /// A new port; the caller gets its receive right.
    Receive = 1,
    /// A new, empty port set.
    PortSet = 2,
    /// A dead name with one user reference.
    DeadName = 3,
}

/// Which notification [`PortCall::RequestNotification`] asks for (Mach's ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum NotifyKind {
    /// The receive right is about to be destroyed: hand it to the notify port instead.
    PortDestroyed = 69,
    /// The port has no more send rights anywhere.
    NoSenders = 70,
    /// The port behind a send or send-once name died.
    DeadName = 72,
}

/// The message ids of the `notify` interface, fixed by Mach.
pub mod notify_id {
    /// A name with a dead-name request was freed.
    pub const PORT_DELETED: u32 = 65;
    /// A receive right was destroyed and handed to its backup.
    pub const PORT_DESTROYED: u32 = 69;
    /// The last send right is gone.
    pub const NO_SENDERS: u32 = 70;
    /// A send-once right was destroyed unused.
    pub const SEND_ONCE: u32 = 71;
    /// A port died.
    pub const DEAD_NAME: u32 = 72;
}

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

/// A kernel call other than messaging: Mach's `mach_port_*` calls, task calls, introspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortCall {
    /// Create a right; answers [`CallValue::Name`].
    Allocate(AllocateKind),
    /// Drop one user reference of a send, send-once or dead-name right.
    Deallocate(PortName),
    /// Add `delta` to the user references of one right kind under `name`.
    ModRefs {
        /// The name.
        name: PortName,
        /// Exactly one of send, receive, send-once, port-set, dead-name.
        right: RightKind,
        /// The change.
        delta: i32,
    },
    /// User references of one right kind; answers [`CallValue::Count`].
    GetRefs {
        /// The name.
        name: PortName,
        /// Exactly one right kind.
        right: RightKind,
    },
    /// Remove every right under the name.
    Destroy(PortName),
    /// The rights under the name; answers [`CallValue::Rights`].
    Type(PortName),
    /// Make or copy a right in the caller's own space (`mach_port_insert_right` on oneself):
    /// `MakeSend` and `CopySend` add a send reference under the same name, `MakeSendOnce`
    /// makes a new send-once name. Answers [`CallValue::Name`].
    MakeRight {
        /// The receive (or send, for `CopySend`) right.
        name: PortName,
        /// `MakeSend`, `MakeSendOnce` or `CopySend`.
        disposition: Disposition,
    },
    /// Move a receive right into a port set, or out of any set when `set` is null.
    MoveMember {
        /// The receive right.
        member: PortName,
        /// The port set, or null.
        set: PortName,
    },
    /// Register (or with a null `notify`, cancel) a notification; answers
    /// [`CallValue::Name`] with the previous send-once right, or null.
    RequestNotification {
        /// The name the request is about.
        name: PortName,
        /// Which notification.
        kind: NotifyKind,
        /// For no-senders, the make-send count it is for; for dead-name, non-zero asks for
        /// an immediate notification if the name is already dead.
        sync: u32,
        /// The right notifications go to.
        notify: PortName,
        /// `MakeSendOnce` or `MoveSendOnce`.
        notify_disposition: Disposition,
    },
    /// Set a port's queue limit.
    SetQlimit {
        /// The receive right.
        name: PortName,
        /// The new limit (1 to the kernel's maximum).
        limit: u32,
    },
    /// Set a port's make-send count.
    SetMscount {
        /// The receive right.
        name: PortName,
        /// The new count.
        mscount: u32,
    },
    /// Set a port's next sequence number.
    SetSeqno {
        /// The receive right.
        name: PortName,
        /// The new number.
        seqno: u64,
    },
    /// A port's state; answers [`CallValue::Status`].
    GetReceiveStatus(PortName),
    /// A port set's members; answers [`CallValue::Names`].
    GetSetStatus(PortName),
    /// Every name of a task, by kernel task id (0 = the caller); answers
    /// [`CallValue::NameInfos`]. Only the task's owner or the superuser may look.
    TaskNames(u64),
    /// The tasks the caller may see; answers [`CallValue::Tasks`].
    Tasks,
    /// Whole-kernel counters; answers [`CallValue::Stats`].
    Stats,
    /// Start a program as a new task that inherits a connection; answers
    /// [`CallValue::Spawned`]. The rights listed are given to the new task, and their
    /// names there are passed in its environment as `HERD_PORTS`.
    Spawn {
        /// The program (a host path).
        program: String,
        /// Its arguments, `argv[0]` first.
        args: Vec<String>,
        /// Environment entries `KEY=VALUE` added to the kernel's.
        env: Vec<String>,
        /// Rights to give it, with their dispositions.
        rights: Vec<crate::message::PortDescriptor>,
    },
    /// Start tracing a task: from now on the kernel enqueues a record
    /// ([`crate::trace::TraceRecord`]) on `tracer`'s port for every message the task sends
    /// or receives, and when it spawns or dies. Only the task's owner or the superuser
    /// may trace it; a task has at most one tracer. Answers [`CallValue::Unit`].
    Trace {
        /// The kernel's task id, taken literally.
        task: u64,
        /// A send right (copied) or receive right (a send right is made) of the caller's,
        /// naming the port records go to. It may not be a port the traced task receives.
        tracer: PortName,
        /// Whether tasks the traced task spawns are traced to the same port.
        follow: bool,
    },
    /// Stop tracing a task (same permission as [`PortCall::Trace`]).
    Untrace(u64),
    /// [`PortCall::Spawn`], with the new task traced to `tracer` before it can send
    /// anything; answers [`CallValue::Spawned`].
    SpawnTraced {
        /// The program (a host path).
        program: String,
        /// Its arguments, `argv[0]` first.
        args: Vec<String>,
        /// Environment entries `KEY=VALUE` added to the kernel's.
        env: Vec<String>,
        /// Rights to give it, with their dispositions.
        rights: Vec<crate::message::PortDescriptor>,
        /// The tracer's port, as in [`PortCall::Trace`].
        tracer: PortName,
        /// Whether the new task's own children are traced too.
        follow: bool,
    },
    /// Every name of a task, by kernel task id taken literally (unlike
    /// [`PortCall::TaskNames`], 0 is task 0); answers [`CallValue::NameInfos`].
    TaskNamesOf(u64),
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
}

/// How long an operation may wait: `None` forever, `Some(ZERO)` not at all.
pub type Timeout = Option<Duration>;

/// What a task asks of the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// The first frame on a connection: become a new task.
    NewTask {
        /// A label for tools (the program name).
        label: String,
    },
    /// The first frame on a connection: join an existing task as another thread.
    JoinTask {
        /// The task's secret token, from [`Response::Hello`].
        token: u64,
    },
    /// Send, receive, or send then receive (one round trip for an RPC).
    MachMsg {
        /// Bits from [`msg_option`].
        options: u32,
        /// How long a send may wait for queue room.
        send_timeout: Timeout,
        /// What to receive from (a receive right or port set), when receiving.
        rcv_name: PortName,
        /// How long a receive may wait.
        rcv_timeout: Timeout,
        /// The message, when sending.
        message: Option<Message>,
    },
    /// Any other kernel call.
    Call(PortCall),
}

/// What the kernel answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The answer to `NewTask` or `JoinTask`.
    Hello {
        /// The kernel's task id.
        task: u64,
        /// The secret other threads join with.
        token: u64,
    },
    /// The answer to `MachMsg`: the outcome and, on receive (or when a send timed out and
    /// the message comes back to its sender), the message.
    Msg {
        /// `Ok` or why the send or the receive failed.
        result: Result<(), KernError>,
        /// The received (or returned) message.
        message: Option<Message>,
    },
    /// The answer to a call.
    Call(Result<CallValue, KernError>),
    /// The connection broke the protocol and is being closed.
    Fatal(KernError),
}

const TAG_NEW_TASK: u8 = 1;
const TAG_JOIN_TASK: u8 = 2;
const TAG_MACH_MSG: u8 = 3;
const TAG_CALL: u8 = 4;

const TAG_HELLO: u8 = 1;
const TAG_MSG: u8 = 2;
const TAG_CALL_REPLY: u8 = 3;
const TAG_FATAL: u8 = 4;

fn encode_timeout(w: &mut Writer, t: Timeout) {
    w.u64(match t {
        None => u64::MAX,
        Some(d) => d.as_micros().min(u64::MAX as u128 - 1) as u64,
    });
}

fn decode_timeout(r: &mut Reader<'_>) -> Result<Timeout, DecodeError> {
    Ok(match r.u64()? {
        u64::MAX => None,
        us => Some(Duration::from_micros(us)),
    })
}

fn encode_result(w: &mut Writer, r: Result<(), KernError>) {
    w.u32(match r {
        Ok(()) => 0,
        Err(e) => e.code(),
    });
}

fn decode_result(r: &mut Reader<'_>) -> Result<Result<(), KernError>, DecodeError> {
    Ok(match KernError::from_code(r.u32()?) {
        None => Ok(()),
        Some(e) => Err(e),
    })
}

fn bad(what: &'static str, value: impl Into<u64>) -> DecodeError {
    DecodeError::BadValue {
        what,
        value: value.into(),
    }
}

fn decode_name(r: &mut Reader<'_>) -> Result<PortName, DecodeError> {
    Ok(PortName(r.u32()?))
}

fn decode_disposition(r: &mut Reader<'_>) -> Result<Disposition, DecodeError> {
    let v = r.u8()?;
    Disposition::from_u8(v).ok_or(bad("disposition", v))
}

fn decode_strings(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<String>, DecodeError> {
    let n = r.count(what, MAX_ARGS)?;
    (0..n).map(|_| r.string(what, MAX_STRING)).collect()
}

fn encode_strings(w: &mut Writer, v: &[String]) {
    w.u32(v.len() as u32);
    for s in v {
        w.str(s);
    }
}

fn decode_flag(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(bad("flag", v)),
    }
}

fn encode_spawn(
    w: &mut Writer,
    program: &str,
    args: &[String],
    env: &[String],
    rights: &[crate::message::PortDescriptor],
) {
    w.str(program);
    encode_strings(w, args);
    encode_strings(w, env);
    w.u32(rights.len() as u32);
    for d in rights {
        w.u32(d.name.0).u8(d.kind);
    }
}

/// A spawn request's program, arguments, environment and rights.
type SpawnParts = (
    String,
    Vec<String>,
    Vec<String>,
    Vec<crate::message::PortDescriptor>,
);

fn decode_spawn(r: &mut Reader<'_>) -> Result<SpawnParts, DecodeError> {
    let program = r.string("program", MAX_STRING)?;
    let args = decode_strings(r, "arguments")?;
    let env = decode_strings(r, "environment")?;
    let n = r.count("spawn rights", crate::message::MAX_PORTS)?;
    let rights = (0..n)
        .map(|_| {
            Ok(crate::message::PortDescriptor {
                name: decode_name(r)?,
                kind: r.u8()?,
            })
        })
        .collect::<Result<Vec<_>, DecodeError>>()?;
    Ok((program, args, env, rights))
}

impl PortCall {
    fn encode(&self, w: &mut Writer) {
        match self {
            PortCall::Allocate(k) => {
                w.u8(1).u8(*k as u8);
            }
            PortCall::Deallocate(n) => {
                w.u8(2).u32(n.0);
            }
            PortCall::ModRefs { name, right, delta } => {
                w.u8(3).u32(name.0).u8(right.0).i32(*delta);
            }
            PortCall::GetRefs { name, right } => {
                w.u8(4).u32(name.0).u8(right.0);
            }
            PortCall::Destroy(n) => {
                w.u8(5).u32(n.0);
            }
            PortCall::Type(n) => {
                w.u8(6).u32(n.0);
            }
            PortCall::MakeRight { name, disposition } => {
                w.u8(7).u32(name.0).u8(*disposition as u8);
            }
            PortCall::MoveMember { member, set } => {
                w.u8(8).u32(member.0).u32(set.0);
            }
            PortCall::RequestNotification {
                name,
                kind,
                sync,
                notify,
                notify_disposition,
            } => {
                w.u8(9)
                    .u32(name.0)
                    .u32(*kind as u32)
                    .u32(*sync)
                    .u32(notify.0)
                    .u8(*notify_disposition as u8);
            }
            PortCall::SetQlimit { name, limit } => {
                w.u8(10).u32(name.0).u32(*limit);
            }
            PortCall::SetMscount { name, mscount } => {
                w.u8(11).u32(name.0).u32(*mscount);
            }
            PortCall::SetSeqno { name, seqno } => {
                w.u8(12).u32(name.0).u64(*seqno);
            }
            PortCall::GetReceiveStatus(n) => {
                w.u8(13).u32(n.0);
            }
            PortCall::GetSetStatus(n) => {
                w.u8(14).u32(n.0);
            }
            PortCall::TaskNames(t) => {
                w.u8(15).u64(*t);
            }
            PortCall::Tasks => {
                w.u8(16);
            }
            PortCall::Stats => {
                w.u8(17);
            }
            PortCall::Spawn {
                program,
                args,
                env,
                rights,
            } => {
                w.u8(18);
                encode_spawn(w, program, args, env, rights);
            }
            PortCall::Trace {
                task,
                tracer,
                follow,
            } => {
                w.u8(19).u64(*task).u32(tracer.0).u8(*follow as u8);
            }
            PortCall::Untrace(t) => {
                w.u8(20).u64(*t);
            }
            PortCall::SpawnTraced {
                program,
                args,
                env,
                rights,
                tracer,
                follow,
            } => {
                w.u8(21);
                encode_spawn(w, program, args, env, rights);
                w.u32(tracer.0).u8(*follow as u8);
            }
            PortCall::TaskNamesOf(t) => {
                w.u8(22).u64(*t);
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let op = r.u8()?;
        Ok(match op {
            1 => PortCall::Allocate(match r.u8()? {
                1 => AllocateKind::Receive,
                2 => AllocateKind::PortSet,
                3 => AllocateKind::DeadName,
                v => return Err(bad("allocate kind", v)),
            }),
            2 => PortCall::Deallocate(decode_name(r)?),
            3 => PortCall::ModRefs {
                name: decode_name(r)?,
                right: RightKind(r.u8()?),
                delta: r.i32()?,
            },
            4 => PortCall::GetRefs {
                name: decode_name(r)?,
                right: RightKind(r.u8()?),
            },
            5 => PortCall::Destroy(decode_name(r)?),
            6 => PortCall::Type(decode_name(r)?),
            7 => PortCall::MakeRight {
                name: decode_name(r)?,
                disposition: decode_disposition(r)?,
            },
            8 => PortCall::MoveMember {
                member: decode_name(r)?,
                set: decode_name(r)?,
            },
            9 => PortCall::RequestNotification {
                name: decode_name(r)?,
                kind: match r.u32()? {
                    69 => NotifyKind::PortDestroyed,
                    70 => NotifyKind::NoSenders,
                    72 => NotifyKind::DeadName,
                    v => return Err(bad("notification kind", v)),
                },
                sync: r.u32()?,
                notify: decode_name(r)?,
                notify_disposition: decode_disposition(r)?,
            },
            10 => PortCall::SetQlimit {
                name: decode_name(r)?,
                limit: r.u32()?,
            },
            11 => PortCall::SetMscount {
                name: decode_name(r)?,
                mscount: r.u32()?,
            },
            12 => PortCall::SetSeqno {
                name: decode_name(r)?,
                seqno: r.u64()?,
            },
            13 => PortCall::GetReceiveStatus(decode_name(r)?),
            14 => PortCall::GetSetStatus(decode_name(r)?),
            15 => PortCall::TaskNames(r.u64()?),
            16 => PortCall::Tasks,
            17 => PortCall::Stats,
            18 => {
                let (program, args, env, rights) = decode_spawn(r)?;
                PortCall::Spawn {
                    program,
                    args,
                    env,
                    rights,
                }
            }
            19 => PortCall::Trace {
                task: r.u64()?,
                tracer: decode_name(r)?,
                follow: decode_flag(r)?,
            },
            20 => PortCall::Untrace(r.u64()?),
            21 => {
                let (program, args, env, rights) = decode_spawn(r)?;
                PortCall::SpawnTraced {
                    program,
                    args,
                    env,
                    rights,
                    tracer: decode_name(r)?,
                    follow: decode_flag(r)?,
                }
            }
            22 => PortCall::TaskNamesOf(r.u64()?),
            v => return Err(bad("call", v)),
        })
    }
}

/// The most entries a listing answer carries.
pub const MAX_LIST: usize = 4_000_000;

impl CallValue {
    fn encode(&self, w: &mut Writer) {
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
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
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
            v => return Err(bad("call value", v)),
        })
    }
}

impl Request {
    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        match self {
            Request::NewTask { label } => {
                w.u8(TAG_NEW_TASK).str(label);
            }
            Request::JoinTask { token } => {
                w.u8(TAG_JOIN_TASK).u64(*token);
            }
            Request::MachMsg {
                options,
                send_timeout,
                rcv_name,
                rcv_timeout,
                message,
            } => {
                w.u8(TAG_MACH_MSG).u32(*options);
                encode_timeout(&mut w, *send_timeout);
                w.u32(rcv_name.0);
                encode_timeout(&mut w, *rcv_timeout);
                match message {
                    Some(m) => {
                        w.u8(1);
                        m.encode(&mut w);
                    }
                    None => {
                        w.u8(0);
                    }
                }
            }
            Request::Call(c) => {
                w.u8(TAG_CALL);
                c.encode(&mut w);
            }
        }
        w.into_vec()
    }

    /// Parses one frame; every byte must belong to it.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_FRAME {
            return Err(DecodeError::TooLarge {
                what: "frame",
                value: bytes.len() as u64,
                limit: MAX_FRAME as u64,
            });
        }
        let mut r = Reader::new(bytes);
        let req = match r.u8()? {
            TAG_NEW_TASK => Request::NewTask {
                label: r.string("label", MAX_STRING)?,
            },
            TAG_JOIN_TASK => Request::JoinTask { token: r.u64()? },
            TAG_MACH_MSG => {
                let options = r.u32()?;
                if options & !msg_option::ALL != 0 {
                    return Err(bad("message options", options));
                }
                let send_timeout = decode_timeout(&mut r)?;
                let rcv_name = decode_name(&mut r)?;
                let rcv_timeout = decode_timeout(&mut r)?;
                let message = match r.u8()? {
                    0 => None,
                    1 => Some(Message::decode(&mut r)?),
                    v => return Err(bad("message presence", v)),
                };
                Request::MachMsg {
                    options,
                    send_timeout,
                    rcv_name,
                    rcv_timeout,
                    message,
                }
            }
            TAG_CALL => Request::Call(PortCall::decode(&mut r)?),
            v => return Err(bad("request tag", v)),
        };
        r.finish()?;
        Ok(req)
    }
}

impl Response {
    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        match self {
            Response::Hello { task, token } => {
                w.u8(TAG_HELLO).u64(*task).u64(*token);
            }
            Response::Msg { result, message } => {
                w.u8(TAG_MSG);
                encode_result(&mut w, *result);
                match message {
                    Some(m) => {
                        w.u8(1);
                        m.encode(&mut w);
                    }
                    None => {
                        w.u8(0);
                    }
                }
            }
            Response::Call(result) => {
                w.u8(TAG_CALL_REPLY);
                match result {
                    Ok(v) => {
                        w.u32(0);
                        v.encode(&mut w);
                    }
                    Err(e) => {
                        w.u32(e.code());
                    }
                }
            }
            Response::Fatal(e) => {
                w.u8(TAG_FATAL).u32(e.code());
            }
        }
        w.into_vec()
    }

    /// Parses one frame; every byte must belong to it. (Listings may exceed
    /// [`MAX_FRAME`]; the kernel sends them in one frame sized to fit.)
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let resp = match r.u8()? {
            TAG_HELLO => Response::Hello {
                task: r.u64()?,
                token: r.u64()?,
            },
            TAG_MSG => {
                let result = decode_result(&mut r)?;
                let message = match r.u8()? {
                    0 => None,
                    1 => Some(Message::decode(&mut r)?),
                    v => return Err(bad("message presence", v)),
                };
                Response::Msg { result, message }
            }
            TAG_CALL_REPLY => match KernError::from_code(r.u32()?) {
                None => Response::Call(Ok(CallValue::decode(&mut r)?)),
                Some(e) => Response::Call(Err(e)),
            },
            TAG_FATAL => Response::Fatal(
                KernError::from_code(r.u32()?).unwrap_or(KernError::ProtocolViolation),
            ),
            v => return Err(bad("response tag", v)),
        };
        r.finish()?;
        Ok(resp)
    }
}
