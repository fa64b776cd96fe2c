//! RAII port rights. Each remembers its task and name; dropping one gives the right back
//! to the kernel, `into_name` hands the name over without doing so.

use std::fmt;

use herd_wire::frame::{NotifyKind, PortCall, PortStatus};
use herd_wire::name::{ReceivedRight, RightKind};
use herd_wire::{Disposition, KernError, PortDescriptor, PortName};

use crate::message::Malformed;
use crate::task::{unexpected, Task};

macro_rules! right_common {
    ($ty:ident, $what:literal) => {
        impl $ty {
            #[doc = concat!("Takes ownership of ", $what, " held under `name` in `task`: ")]
            /// the value releases it on drop.
            pub fn from_name(task: &Task, name: PortName) -> Self {
                $ty {
                    task: task.clone(),
                    name,
                }
            }

            /// The right's name in its task.
            pub fn name(&self) -> PortName {
                self.name
            }

            /// The task holding the right.
            pub fn task(&self) -> &Task {
                &self.task
            }

            /// Gives up the RAII wrapper without releasing the right, and returns its name:
            /// whoever takes the name now owns the right.
            pub fn into_name(mut self) -> PortName {
                // `Drop` releases nothing for a null name.
                std::mem::replace(&mut self.name, PortName::NULL)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "{}({}@task{})",
                    stringify!($ty),
                    self.name,
                    self.task.id()
                )
            }
        }
    };
}

/// Releases a right on drop, logging (not panicking) if the kernel refuses.
fn release(task: &Task, name: PortName, call: PortCall, what: &str) {
    if !name.is_valid() {
        return;
    }
    if let Err(e) = task.call(call) {
        tracing::debug!(%name, error = %e, "releasing {what} failed");
    }
}

/// Registers a notification about `name` (a right of `task`) to a new send-once right
/// made from `notify`; returns the previous request's send-once right, if any.
fn request_notification(
    task: &Task,
    name: PortName,
    kind: NotifyKind,
    sync: u32,
    notify: &ReceiveRight,
) -> Result<Option<SendOnceRight>, KernError> {
    let previous = task.call_name(PortCall::RequestNotification {
        name,
        kind,
        sync,
        notify: notify.name,
        notify_disposition: Disposition::MakeSendOnce,
    })?;
    Ok(previous
        .is_valid()
        .then(|| SendOnceRight::from_name(task, previous)))
}

/// The receive right of a port: dropping it destroys the port (its senders see a dead
/// name).
pub struct ReceiveRight {
    task: Task,
    name: PortName,
}

right_common!(ReceiveRight, "the receive right");

impl ReceiveRight {
    /// A new send right to this port (the make-send count goes up).
    pub fn make_send(&self) -> Result<SendRight, KernError> {
        let name = self.task.call_name(PortCall::MakeRight {
            name: self.name,
            disposition: Disposition::MakeSend,
        })?;
        Ok(SendRight::from_name(&self.task, name))
    }

    /// A new send-once right to this port.
    pub fn make_send_once(&self) -> Result<SendOnceRight, KernError> {
        let name = self.task.call_name(PortCall::MakeRight {
            name: self.name,
            disposition: Disposition::MakeSendOnce,
        })?;
        Ok(SendOnceRight::from_name(&self.task, name))
    }

    /// Sets the queue limit.
    pub fn set_qlimit(&self, limit: u32) -> Result<(), KernError> {
        self.task.call_unit(PortCall::SetQlimit {
            name: self.name,
            limit,
        })
    }

    /// The port's queue and notification state.
    pub fn status(&self) -> Result<PortStatus, KernError> {
        match self.task.call(PortCall::GetReceiveStatus(self.name))? {
            herd_wire::frame::CallValue::Status(s) => Ok(s),
            other => unexpected(other),
        }
    }

    /// Asks for a no-senders notification (id 70, carrying the make-send count) on
    /// `notify` once the port has no send rights; it fires at once if there are none now
    /// and `sync` ≤ the make-send count. Returns the request it replaces, if any.
    pub fn request_no_senders(
        &self,
        sync: u32,
        notify: &ReceiveRight,
    ) -> Result<Option<SendOnceRight>, KernError> {
        request_notification(&self.task, self.name, NotifyKind::NoSenders, sync, notify)
    }

    /// Asks for the receive right to be sent to `notify` (port-destroyed, id 69) instead
    /// of being destroyed. Returns the request it replaces, if any.
    pub fn request_port_destroyed(
        &self,
        notify: &ReceiveRight,
    ) -> Result<Option<SendOnceRight>, KernError> {
        request_notification(&self.task, self.name, NotifyKind::PortDestroyed, 0, notify)
    }
}

impl Drop for ReceiveRight {
    fn drop(&mut self) {
        let call = PortCall::ModRefs {
            name: self.name,
            right: RightKind::RECEIVE,
            delta: -1,
        };
        release(&self.task, self.name, call, "a receive right");
    }
}

/// A send right (one user reference of it). Cloning adds a user reference.
pub struct SendRight {
    task: Task,
    name: PortName,
}

right_common!(SendRight, "one user reference of the send right");

impl SendRight {
    /// Adds a user reference under the same name (of the send right, or of the dead name
    /// it became when its port died).
    pub fn try_clone(&self) -> Result<SendRight, KernError> {
        let add = |right| PortCall::ModRefs {
            name: self.name,
            right,
            delta: 1,
        };
        if self.name.is_valid() {
            match self.task.call_unit(add(RightKind::SEND)) {
                Err(KernError::InvalidRight) => self.task.call_unit(add(RightKind::DEAD_NAME))?,
                other => other?,
            }
        }
        Ok(SendRight::from_name(&self.task, self.name))
    }

    /// Asks for a dead-name notification (id 72) on `notify` when this right's port dies
    /// (at once if it is already dead). Returns the request it replaces, if any.
    pub fn request_dead_name(
        &self,
        notify: &ReceiveRight,
    ) -> Result<Option<SendOnceRight>, KernError> {
        request_notification(&self.task, self.name, NotifyKind::DeadName, 1, notify)
    }
}

impl Clone for SendRight {
    /// Adds a user reference. If the kernel refuses (the name is gone), the clone holds
    /// `PortName::DEAD`, which sends as a dead right and releases nothing.
    fn clone(&self) -> Self {
        self.try_clone().unwrap_or_else(|e| {
            tracing::warn!(name = %self.name, error = %e, "cloning a send right failed");
            SendRight::from_name(&self.task, PortName::DEAD)
        })
    }
}

impl Drop for SendRight {
    fn drop(&mut self) {
        release(
            &self.task,
            self.name,
            PortCall::Deallocate(self.name),
            "a send right",
        );
    }
}

/// A send-once right. Dropping it unused makes the kernel send a send-once notification
/// to its port.
pub struct SendOnceRight {
    task: Task,
    name: PortName,
}

right_common!(SendOnceRight, "the send-once right");

impl Drop for SendOnceRight {
    fn drop(&mut self) {
        let call = PortCall::Deallocate(self.name);
        release(&self.task, self.name, call, "a send-once right");
    }
}

/// A port set: receiving from it takes a message from any member.
pub struct PortSet {
    task: Task,
    name: PortName,
}

right_common!(PortSet, "the port set");

impl PortSet {
    /// Moves `member` into this set (out of any other).
    pub fn insert(&self, member: &ReceiveRight) -> Result<(), KernError> {
        self.task.call_unit(PortCall::MoveMember {
            member: member.name(),
            set: self.name,
        })
    }

    /// Takes `member` out of this set.
    pub fn remove(&self, member: &ReceiveRight) -> Result<(), KernError> {
        self.task.call_unit(PortCall::MoveMember {
            member: member.name(),
            set: PortName::NULL,
        })
    }

    /// The set's members.
    pub fn members(&self) -> Result<Vec<PortName>, KernError> {
        match self.task.call(PortCall::GetSetStatus(self.name))? {
            herd_wire::frame::CallValue::Names(n) => Ok(n),
            other => unexpected(other),
        }
    }
}

impl Drop for PortSet {
    fn drop(&mut self) {
        let call = PortCall::ModRefs {
            name: self.name,
            right: RightKind::PORT_SET,
            delta: -1,
        };
        release(&self.task, self.name, call, "a port set");
    }
}

/// A right that arrived in a message.
#[derive(Debug, Default)]
pub enum Right {
    /// No right.
    #[default]
    Null,
    /// The right's port died in transit.
    Dead,
    /// A receive right.
    Receive(ReceiveRight),
    /// A send right.
    Send(SendRight),
    /// A send-once right.
    SendOnce(SendOnceRight),
}

impl Right {
    /// Wraps a received descriptor.
    pub(crate) fn from_wire(task: &Task, d: PortDescriptor) -> Result<Right, Malformed> {
        if d.name == PortName::NULL {
            return Ok(Right::Null);
        }
        if d.name == PortName::DEAD {
            return Ok(Right::Dead);
        }
        Ok(match d.received() {
            Some(ReceivedRight::Receive) => Right::Receive(ReceiveRight::from_name(task, d.name)),
            Some(ReceivedRight::Send) => Right::Send(SendRight::from_name(task, d.name)),
            Some(ReceivedRight::SendOnce) => {
                Right::SendOnce(SendOnceRight::from_name(task, d.name))
            }
            Some(ReceivedRight::None) | None => {
                return Err(Malformed::UnknownRight {
                    name: d.name,
                    kind: d.kind,
                })
            }
        })
    }

    /// The name (`NULL` or `DEAD` for those).
    pub fn name(&self) -> PortName {
        match self {
            Right::Null => PortName::NULL,
            Right::Dead => PortName::DEAD,
            Right::Receive(r) => r.name(),
            Right::Send(r) => r.name(),
            Right::SendOnce(r) => r.name(),
        }
    }

    /// Whether no right is held.
    pub fn is_null(&self) -> bool {
        matches!(self, Right::Null)
    }

    /// Gives up the RAII wrapper without releasing the right, and returns its name.
    pub fn into_name(self) -> PortName {
        match self {
            Right::Null => PortName::NULL,
            Right::Dead => PortName::DEAD,
            Right::Receive(r) => r.into_name(),
            Right::Send(r) => r.into_name(),
            Right::SendOnce(r) => r.into_name(),
        }
    }

    /// The receive right, if that is what this is (otherwise it is released).
    pub fn into_receive(self) -> Option<ReceiveRight> {
        match self {
            Right::Receive(r) => Some(r),
            _ => None,
        }
    }

    /// The send right, if that is what this is (otherwise it is released).
    pub fn into_send(self) -> Option<SendRight> {
        match self {
            Right::Send(r) => Some(r),
            _ => None,
        }
    }

    /// The send-once right, if that is what this is (otherwise it is released).
    pub fn into_send_once(self) -> Option<SendOnceRight> {
        match self {
            Right::SendOnce(r) => Some(r),
            _ => None,
        }
    }
}

impl From<ReceiveRight> for Right {
    fn from(r: ReceiveRight) -> Self {
        Right::Receive(r)
    }
}

impl From<SendRight> for Right {
    fn from(r: SendRight) -> Self {
        Right::Send(r)
    }
}

impl From<SendOnceRight> for Right {
    fn from(r: SendOnceRight) -> Self {
        Right::SendOnce(r)
    }
}
