//! The runtime's error types, one per boundary: joining a kernel ([`RuntimeError`]),
//! sending ([`SendError`]), calling a server ([`RpcError`]) and the connection itself
//! (crate-private `ConnError`).

use std::path::PathBuf;

use herd_wire::{Errno, KernError};
use thiserror::Error;

use crate::message::Returned;

/// Why this process could not become (or stay) a task of a node kernel.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// The kernel socket could not be reached.
    #[error("cannot connect to the kernel at {path}: {source}")]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// What the connect failed with.
        source: std::io::Error,
    },
    /// The connection failed while saying hello.
    #[error("kernel connection failed during the handshake: {0}")]
    Io(#[from] std::io::Error),
    /// The kernel refused the connection (a bad token, a dead task, a protocol error).
    #[error("the kernel refused the task: {0}")]
    Refused(KernError),
    /// The kernel answered the handshake with something other than `Hello`.
    #[error("unexpected handshake answer from the kernel: {0}")]
    Handshake(String),
    /// The environment does not describe a task (a variable is missing or malformed).
    #[error("bad task environment: {var}: {problem}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// Why [`Task::send`](crate::Task::send) failed.
#[derive(Debug, Error)]
pub enum SendError {
    /// The destination's port is dead or was never valid (`SendInvalidDest`): the server
    /// is gone.
    #[error("the destination port is dead (server died)")]
    ServerDied,
    /// The destination queue stayed full for the whole timeout. The kernel handed the
    /// message back (Mach's pseudo-receive); its rights are here, owned again.
    #[error("send timed out: the destination queue stayed full")]
    TimedOut {
        /// The message, with its rights, as the kernel returned it.
        returned: Option<Box<Returned>>,
    },
    /// Any other kernel refusal.
    #[error("send failed: {0}")]
    Kern(KernError),
    /// This thread's connection to the kernel is gone.
    #[error("the connection to the kernel is lost")]
    ConnectionLost,
}

impl SendError {
    /// The error as a Hurd-style errno (Mach codes travel as errno values).
    pub fn errno(&self) -> Errno {
        match self {
            SendError::ServerDied => Errno::EDIED,
            SendError::TimedOut { .. } => Errno::ETIMEDOUT,
            SendError::Kern(e) => Errno::from(*e),
            SendError::ConnectionLost => Errno::EIO,
        }
    }
}

/// Why [`Task::rpc`](crate::Task::rpc) failed.
#[derive(Debug, Error)]
pub enum RpcError {
    /// The server is gone: its port is dead (`SendInvalidDest`), or it destroyed the
    /// reply right without answering (a send-once notification came instead of a reply,
    /// MIG's `MIG_SERVER_DIED`).
    #[error("the server died")]
    ServerDied,
    /// The request could not be sent.
    #[error("rpc send failed: {0}")]
    Send(KernError),
    /// The request went out but the reply could not be received.
    #[error("rpc receive failed: {0}")]
    Receive(KernError),
    /// The request could not be queued, or no reply came, before the timeout.
    #[error("rpc timed out")]
    Timeout,
    /// This thread's connection to the kernel is gone.
    #[error("the connection to the kernel is lost")]
    ConnectionLost,
}

impl RpcError {
    /// The error as a Hurd-style errno: `EDIED` for a dead server, `ETIMEDOUT` for a
    /// timeout, `EIO` for a lost kernel connection, the Mach code otherwise.
    pub fn errno(&self) -> Errno {
        match self {
            RpcError::ServerDied => Errno::EDIED,
            RpcError::Send(e) | RpcError::Receive(e) => Errno::from(*e),
            RpcError::Timeout => Errno::ETIMEDOUT,
            RpcError::ConnectionLost => Errno::EIO,
        }
    }

    /// Whether the server is gone (as opposed to slow or refusing).
    pub fn is_server_died(&self) -> bool {
        matches!(self, RpcError::ServerDied)
    }
}

impl From<RpcError> for Errno {
    fn from(e: RpcError) -> Errno {
        e.errno()
    }
}

impl From<SendError> for Errno {
    fn from(e: SendError) -> Errno {
        e.errno()
    }
}

/// Why a frame exchange on a connection failed. Every variant leaves the connection dead.
#[derive(Debug, Error)]
pub(crate) enum ConnError {
    /// The socket failed or closed.
    #[error("kernel connection I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The kernel closed the connection.
    #[error("the kernel closed the connection")]
    Closed,
    /// The kernel declared the connection dead.
    #[error("the kernel closed the connection: {0}")]
    Fatal(KernError),
    /// The kernel's answer did not parse or did not fit the request.
    #[error("kernel protocol error: {0}")]
    Protocol(String),
    /// No connection could be made for this thread.
    #[error("cannot join the task from this thread: {0}")]
    Join(String),
}

impl ConnError {
    /// How a raw kernel call reports a lost connection: the task is gone as far as this
    /// thread can tell.
    pub(crate) fn as_kern(&self) -> KernError {
        match self {
            ConnError::Fatal(e) => *e,
            _ => KernError::InvalidTask,
        }
    }
}
