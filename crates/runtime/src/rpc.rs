//! `Task::rpc`: send a request with a send-once reply right to the calling thread's reply
//! port and receive the answer, in one frame.
//!
//! Each thread keeps one reply port per task, allocated on its first rpc. A late reply
//! must never be taken for the answer to a later call, so the port is destroyed after any
//! rpc that did not end with its reply (the late reply then finds a dead port and the
//! server drops it), and a message whose id is not the request id + 100 is discarded
//! while the wait goes on until the deadline. A send-once notification instead of the
//! reply means the server destroyed the reply right unanswered: it died (MIG's
//! `MIG_SERVER_DIED`).

use std::time::Instant;

use herd_wire::frame::{
    msg_option, notify_id, AllocateKind, CallValue, PortCall, Request, Response, Timeout,
};
use herd_wire::{Disposition, KernError, PortDescriptor, PortName};

use crate::error::{ConnError, RpcError};
use crate::message::{OutMessage, PortArg, Received, SendOutcome};
use crate::task::Task;

/// The reply id for a request id (the IDL's convention).
pub fn reply_id(request_id: u32) -> u32 {
    request_id.wrapping_add(100)
}

/// Whether a `MachMsg` error comes from the receive half (Mach's `MACH_RCV_*` codes).
pub(crate) fn is_receive_error(e: KernError) -> bool {
    (0x1000_4000..0x1000_8000).contains(&e.code())
}

impl Task {
    /// Sends `msg` with a send-once reply right to the calling thread's reply port and
    /// waits at most `timeout` (for queue room, then for the reply) for the answer, whose
    /// id must be `msg.id + 100`. `msg.reply` must be `PortArg::Null`.
    pub fn rpc(&self, msg: OutMessage, timeout: Timeout) -> Result<Received, RpcError> {
        if !matches!(msg.reply, PortArg::Null) {
            return Err(RpcError::Send(KernError::SendInvalidReply));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let expected = reply_id(msg.id);
        let (mut message, outgoing) = msg.into_wire(timeout).map_err(RpcError::Send)?;
        let reply_port = self.reply_port()?;
        message.header.reply = PortDescriptor::send(reply_port, Disposition::MakeSendOnce);
        let request = Request::MachMsg {
            options: msg_option::SEND | msg_option::RECEIVE,
            send_timeout: timeout,
            rcv_name: reply_port,
            rcv_timeout: timeout,
            message: Some(message),
        };
        let outcome = match self.mach_msg(&request, &outgoing.fds()) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "rpc: kernel connection lost");
                outgoing.settle(SendOutcome::Consumed);
                return Err(RpcError::ConnectionLost);
            }
        };
        let result = match outcome.result {
            Err(e) if !is_receive_error(e) => {
                // Nothing was sent; a message handed back is dropped with its rights.
                drop(self.settle_failed_send(outgoing, e, outcome.message, outcome.fds));
                self.reset_reply_port();
                return Err(match e {
                    KernError::SendInvalidDest => RpcError::ServerDied,
                    KernError::SendTimedOut => RpcError::Timeout,
                    e => RpcError::Send(e),
                });
            }
            other => {
                outgoing.settle(SendOutcome::Consumed);
                other.map(|()| (outcome.message, outcome.fds))
            }
        };
        let answer = self.await_reply(reply_port, expected, deadline, result);
        if answer.is_err() {
            self.reset_reply_port();
        }
        answer
    }

    /// Checks what came back and keeps receiving past stale messages until the reply or
    /// the deadline.
    fn await_reply(
        &self,
        reply_port: PortName,
        expected: u32,
        deadline: Option<Instant>,
        mut result: Result<(Option<herd_wire::Message>, Vec<std::os::fd::OwnedFd>), KernError>,
    ) -> Result<Received, RpcError> {
        loop {
            let (message, fds) = match result {
                Ok(m) => m,
                Err(KernError::RcvTimedOut) => return Err(RpcError::Timeout),
                Err(e) => return Err(RpcError::Receive(e)),
            };
            let received = self.received(message, fds).map_err(RpcError::Receive)?;
            if received.id == expected {
                return Ok(received);
            }
            if received.id == notify_id::SEND_ONCE {
                return Err(RpcError::ServerDied);
            }
            tracing::warn!(id = received.id, expected, "rpc: discarding a stale reply");
            drop(received);
            let remaining = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err(RpcError::Timeout),
                },
            };
            let request = Request::MachMsg {
                options: msg_option::RECEIVE,
                send_timeout: None,
                rcv_name: reply_port,
                rcv_timeout: remaining,
                message: None,
            };
            let outcome = self.mach_msg(&request, &[]).map_err(|e| {
                tracing::warn!(error = %e, "rpc: kernel connection lost");
                RpcError::ConnectionLost
            })?;
            result = outcome.result.map(|()| (outcome.message, outcome.fds));
        }
    }

    /// The calling thread's reply port for this task, allocated on first use.
    fn reply_port(&self) -> Result<PortName, RpcError> {
        let allocated = self.with_conn(|tc| {
            if let Some(port) = tc.reply_port {
                return Ok(Ok(port));
            }
            let call = Request::Call(PortCall::Allocate(AllocateKind::Receive));
            Ok(match tc.conn.roundtrip(&call, &[])? {
                (Response::Call(Ok(CallValue::Name(port))), _) => {
                    tc.reply_port = Some(port);
                    Ok(port)
                }
                (Response::Call(Err(e)), _) => Err(e),
                (other, _) => {
                    return Err(ConnError::Protocol(format!(
                        "kernel answered an allocation with {other:?}"
                    )))
                }
            })
        });
        match allocated {
            Ok(Ok(port)) => Ok(port),
            Ok(Err(e)) => Err(RpcError::Send(e)),
            Err(e) => {
                tracing::warn!(error = %e, "rpc: kernel connection lost");
                Err(RpcError::ConnectionLost)
            }
        }
    }

    /// Destroys the calling thread's reply port; the next rpc allocates a fresh one.
    fn reset_reply_port(&self) {
        let _ = self.with_conn(|tc| {
            tc.drop_reply_port();
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_errors_are_told_from_send_errors() {
        assert!(is_receive_error(KernError::RcvTimedOut));
        assert!(is_receive_error(KernError::RcvPortDied));
        assert!(is_receive_error(KernError::RcvInvalidName));
        assert!(!is_receive_error(KernError::SendInvalidDest));
        assert!(!is_receive_error(KernError::SendTimedOut));
        assert!(!is_receive_error(KernError::InvalidName));
        assert!(!is_receive_error(KernError::ProtocolViolation));
    }

    #[test]
    fn reply_ids_follow_the_idl_convention() {
        assert_eq!(reply_id(1000), 1100);
        assert_eq!(reply_id(u32::MAX), 99);
    }
}
