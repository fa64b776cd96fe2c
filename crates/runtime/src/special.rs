//! The kernel's registry of special ports: how a task that attaches to a node finds the
//! node's servers (`root`, `auth`, `proc`, ...), and how `herd boot` publishes them.

use herd_wire::frame::{CallValue, PortCall};
use herd_wire::{Disposition, KernError, PortDescriptor, PortName};

use crate::rights::{ReceiveRight, SendRight};
use crate::task::{unexpected, Task};

impl Task {
    /// A send right to the port published as `name`. `InvalidName` if nothing is
    /// published under it, `SendInvalidDest` if the published port has died.
    pub fn special_port(&self, name: &str) -> Result<SendRight, KernError> {
        match self.call(PortCall::GetSpecialPort(name.to_owned()))? {
            CallValue::Name(n) if n.is_valid() => Ok(SendRight::from_name(self, n)),
            CallValue::Name(_) => Err(KernError::SendInvalidDest),
            other => unexpected(other),
        }
    }

    /// Publishes a copy of `right` as `name` (replacing what was there). Only the
    /// kernel's uid and root may publish.
    pub fn set_special_port(&self, name: &str, right: &SendRight) -> Result<(), KernError> {
        self.publish(
            name,
            PortDescriptor::send(right.name(), Disposition::CopySend),
        )
    }

    /// Publishes a new send right to `port` as `name`.
    pub fn publish_port(&self, name: &str, port: &ReceiveRight) -> Result<(), KernError> {
        self.publish(
            name,
            PortDescriptor::send(port.name(), Disposition::MakeSend),
        )
    }

    /// Removes what is published as `name`.
    pub fn clear_special_port(&self, name: &str) -> Result<(), KernError> {
        self.publish(
            name,
            PortDescriptor {
                name: PortName::NULL,
                kind: 0,
            },
        )
    }

    /// The names published in the registry.
    pub fn special_port_names(&self) -> Result<Vec<String>, KernError> {
        match self.call(PortCall::ListSpecialPorts)? {
            CallValue::Strings(v) => Ok(v),
            other => unexpected(other),
        }
    }

    fn publish(&self, name: &str, right: PortDescriptor) -> Result<(), KernError> {
        match self.call(PortCall::SetSpecialPort {
            name: name.to_owned(),
            right,
        })? {
            CallValue::Unit => Ok(()),
            other => unexpected(other),
        }
    }
}
