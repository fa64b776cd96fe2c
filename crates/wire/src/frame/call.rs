//! Kernel calls: what a task may ask besides messaging, and how each is encoded.

use crate::codec::{DecodeError, Reader, Writer};
use crate::name::{Disposition, PortName, RightKind};

use super::{
    bad, decode_disposition, decode_flag, decode_name, decode_strings, encode_strings, MAX_STRING,
};

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
    /// Publish a send right under a well-known name in the kernel's registry of special
    /// ports (`root`, `auth`, `proc`, ...: how tasks that attach find the node's servers);
    /// a null right removes the entry. Only the kernel's uid and root may publish.
    SetSpecialPort {
        /// The entry's name: 1 to 64 bytes of `[a-z0-9_.-]`.
        name: String,
        /// The right, with its disposition (`MakeSend`, `CopySend` or `MoveSend`), or null.
        right: crate::message::PortDescriptor,
    },
    /// A send right to the port published under a name; answers [`CallValue::Name`]
    /// (`PortName::DEAD` if the port died since).
    GetSpecialPort(String),
    /// The names published in the registry; answers [`CallValue::Strings`].
    ListSpecialPorts,
}

/// The longest special-port name.
pub const MAX_SPECIAL_NAME: usize = 64;

/// Whether `name` is a valid special-port name.
pub fn valid_special_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SPECIAL_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
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
    pub(super) fn encode(&self, w: &mut Writer) {
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
            PortCall::SetSpecialPort { name, right } => {
                w.u8(23).str(name).u32(right.name.0).u8(right.kind);
            }
            PortCall::GetSpecialPort(name) => {
                w.u8(24).str(name);
            }
            PortCall::ListSpecialPorts => {
                w.u8(25);
            }
        }
    }

    pub(super) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
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
            23 => PortCall::SetSpecialPort {
                name: r.string("special port name", MAX_SPECIAL_NAME)?,
                right: crate::message::PortDescriptor {
                    name: decode_name(r)?,
                    kind: r.u8()?,
                },
            },
            24 => PortCall::GetSpecialPort(r.string("special port name", MAX_SPECIAL_NAME)?),
            25 => PortCall::ListSpecialPorts,
            v => return Err(bad("call", v)),
        })
    }
}
