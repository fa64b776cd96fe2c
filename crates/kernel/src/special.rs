//! The registry of special ports: send rights the kernel keeps under well-known names
//! (`root`, `auth`, `proc`, ...), so that a task attaching to the node can find its
//! servers (what Mach's host special ports and the Hurd's bootstrap give a task).

use herd_wire::frame::{valid_special_name, CallValue};
use herd_wire::message::PortDescriptor;
use herd_wire::{Disposition, KernError, PortName};

use crate::objects::{KRight, TaskId};
use crate::state::Kernel;

type CallResult = Result<CallValue, KernError>;

impl Kernel {
    /// Publishes (or, with a null right, removes) a special port. Only the kernel's own
    /// uid and root may publish; the previous right under the name is released.
    pub(crate) fn set_special_port(
        &mut self,
        task: TaskId,
        name: String,
        right: PortDescriptor,
    ) -> CallResult {
        let uid = self.tasks.get(task).map_or(u32::MAX, |t| t.uid);
        if uid != 0 && uid != self.kernel_uid {
            return Err(KernError::NotPermitted);
        }
        if !valid_special_name(&name) {
            return Err(KernError::InvalidArgument);
        }
        let new = if right.name == PortName::NULL {
            None
        } else {
            match right.disposition() {
                Some(Disposition::MakeSend | Disposition::CopySend | Disposition::MoveSend) => {}
                _ => return Err(KernError::InvalidRight),
            }
            match self.copyin_rights(task, &[right])?.pop() {
                Some(r @ KRight::Send(_)) => Some(r),
                Some(other) => {
                    self.release(other);
                    return Err(KernError::InvalidRight);
                }
                None => return Err(KernError::InvalidRight),
            }
        };
        let old = match new {
            Some(r) => self.special.insert(name, r),
            None => self.special.remove(&name),
        };
        if let Some(old) = old {
            self.release(old);
        }
        Ok(CallValue::Unit)
    }

    /// A new send right to a published port, in the caller's space.
    pub(crate) fn special_port(&mut self, task: TaskId, name: &str) -> CallResult {
        let p = match self.special.get(name) {
            Some(KRight::Send(p)) => *p,
            _ => return Err(KernError::InvalidName),
        };
        if self.is_dead(p) {
            return Ok(CallValue::Name(PortName::DEAD));
        }
        if let Some(port) = self.ports.get_mut(p) {
            port.srights += 1;
            port.refs += 1;
        }
        Ok(CallValue::Name(
            self.copyout_right(task, KRight::Send(p)).name,
        ))
    }
}
