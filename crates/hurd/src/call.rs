//! Timed RPCs: every call the client side makes goes through [`call`], which sends the
//! request with the namespace's timeout and decodes the reply, so a server that never
//! answers is `ETIMEDOUT` and a dead one `EDIED`, never a hang.

use herd_runtime::{Errno, OutMessage, PortArg, Received, Right, SendRight, Task, Timeout};

use crate::errno::EPROTO;

/// The destination argument for a request to `port` (a copy of the send right).
pub(crate) fn dest(port: &SendRight) -> PortArg {
    PortArg::CopySend(port.name())
}

/// Sends `msg` and waits at most `timeout` for the reply, which `decode` turns into the
/// answer (or the server's errno).
pub(crate) fn call<T>(
    task: &Task,
    timeout: Timeout,
    msg: OutMessage,
    decode: impl FnOnce(Received) -> Result<T, Errno>,
) -> Result<T, Errno> {
    let reply = task.rpc(msg, timeout).map_err(|e| e.errno())?;
    decode(reply)
}

/// The send right a server answered with: a dead one is `EDIED`, none (or another kind)
/// is a protocol error.
pub(crate) fn send_right(right: Right) -> Result<SendRight, Errno> {
    match right {
        Right::Send(port) => Ok(port),
        Right::Dead => Err(Errno::EDIED),
        _ => Err(EPROTO),
    }
}

impl crate::Namespace {
    /// [`call`] with this namespace's task and timeout.
    pub(crate) fn call<T>(
        &self,
        msg: OutMessage,
        decode: impl FnOnce(Received) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        call(&self.task, self.options.timeout, msg, decode)
    }
}
