//! The bootstrap handshake, both sides (the Hurd's `fsys_startup`).
//!
//! Whoever starts a translator (fshelp for settrans and passive translators; tests)
//! allocates a bootstrap port and spawns the translator as a kernel task whose first
//! initial port is a send right to it. The translator makes its control port and calls
//! `fsys_startup(bootstrap, openflags, control)`; the parent answers with the realnode
//! (the node the translator sits on, opened with `openflags | O_NOTRANS`, or null) and
//! keeps the control port. [`startup`] is the translator's side, [`accept_startup`] the
//! parent's, with a deadline and early news of a translator that dies first.

use std::time::{Duration, Instant};

use herd_interfaces::fsys;
use herd_interfaces::support::{error_reply, take_reply};
use herd_runtime::{notify_id, Errno, KernError, PortArg, ReceiveRight, Right, SendRight, Task};
use thiserror::Error;

/// The translator's side: sends `control` to `bootstrap` and answers the realnode, if
/// the parent gave one.
pub fn startup(
    task: &Task,
    bootstrap: &SendRight,
    control: SendRight,
) -> Result<Option<SendRight>, Errno> {
    let realnode = fsys::fsys_startup(task, bootstrap, 0, PortArg::MoveSend(control))?;
    Ok(realnode.into_send())
}

/// A translator that has started.
#[derive(Debug)]
pub struct Started {
    /// Its control port.
    pub control: SendRight,
    /// The open flags it asked its realnode to be opened with.
    pub openflags: u32,
}

/// Why a translator's startup failed, seen from the parent.
#[derive(Debug, Error)]
pub enum AcceptError {
    /// No `fsys_startup` came in time.
    #[error("the translator did not call fsys_startup within {0:?}")]
    TimedOut(Duration),
    /// Every send right to the bootstrap port went (the translator exited or died) first.
    #[error("the translator died before calling fsys_startup")]
    Died,
    /// The `fsys_startup` request did not decode, or carried no control port.
    #[error("malformed fsys_startup: {0}")]
    Malformed(String),
    /// The kernel refused the receive.
    #[error("receiving on the bootstrap port failed: {0}")]
    Kern(KernError),
}

/// The parent's side: waits at most `timeout` for `fsys_startup` on `bootstrap` (whose
/// send right the translator was given), answers it with `realnode`, and gives back the
/// translator's control port. If every send right to `bootstrap` goes first (the
/// translator died), that is known at once. Other messages on the port are refused.
pub fn accept_startup(
    task: &Task,
    bootstrap: &ReceiveRight,
    realnode: PortArg,
    timeout: Duration,
) -> Result<Started, AcceptError> {
    let deadline = Instant::now() + timeout;
    let status = bootstrap.status().map_err(AcceptError::Kern)?;
    // Fires at once if the translator is already gone; its send-once right is ours to
    // drop if an older request is replaced.
    drop(
        bootstrap
            .request_no_senders(status.mscount.max(1), bootstrap)
            .map_err(AcceptError::Kern)?,
    );
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut msg = match task.receive(bootstrap.name(), Some(left)) {
            Ok(m) => m,
            Err(KernError::RcvTimedOut) => return Err(AcceptError::TimedOut(timeout)),
            Err(e) => return Err(AcceptError::Kern(e)),
        };
        match msg.id {
            fsys::ids::FSYS_STARTUP => {}
            notify_id::NO_SENDERS => return Err(AcceptError::Died),
            notify_id::SEND_ONCE => continue,
            other => {
                tracing::debug!(id = other, "unexpected message on a bootstrap port");
                if let Some(reply) = error_reply(msg, Errno::MIG_BAD_ID) {
                    let _ = task.send(reply, Some(Duration::ZERO));
                }
                continue;
            }
        }
        let reply = take_reply(&mut msg);
        let (openflags, control) = fsys::codec::decode_fsys_startup_request(msg)
            .map_err(|e| AcceptError::Malformed(e.to_string()))?;
        let Right::Send(control) = control else {
            let answer = fsys::codec::encode_fsys_startup_reply(reply, Err(Errno::EINVAL));
            let _ = task.send(answer, Some(Duration::ZERO));
            return Err(AcceptError::Malformed("no control port".into()));
        };
        let answer = fsys::codec::encode_fsys_startup_reply(reply, Ok(realnode));
        if let Err(e) = task.send(answer, Some(Duration::ZERO)) {
            tracing::debug!(error = %e, "fsys_startup reply not delivered");
            return Err(AcceptError::Died);
        }
        return Ok(Started { control, openflags });
    }
}
