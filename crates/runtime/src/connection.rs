//! One thread's connection to the kernel: a seqpacket channel on which every request gets
//! exactly one response, in order, plus the thread's cached rpc reply port.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use herd_channel::{Channel, Frame, RecvError};
use herd_wire::frame::{PortCall, Request, Response};
use herd_wire::name::RightKind;
use herd_wire::PortName;

use crate::error::{ConnError, RuntimeError};

/// The largest response accepted (listings of a big kernel travel in one large frame).
const RESPONSE_LIMIT: usize = 256 * 1024 * 1024;

/// A connection bound to a task, after the handshake.
#[derive(Debug)]
pub(crate) struct Connection {
    channel: Channel,
    frame: Frame,
    dead: bool,
}

/// What the kernel said hello with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hello {
    /// The kernel's task id.
    pub task: u64,
    /// The token further connections join with.
    pub token: u64,
}

impl Connection {
    /// Connects a new channel to the kernel at `path`.
    pub(crate) fn connect(path: &Path) -> Result<Channel, RuntimeError> {
        Channel::connect(path).map_err(|source| RuntimeError::Connect {
            path: path.to_owned(),
            source,
        })
    }

    /// Wraps a channel the kernel already bound to a task (a spawned task's inherited one).
    pub(crate) fn bound(channel: Channel) -> Connection {
        Connection {
            channel,
            frame: Frame::default(),
            dead: false,
        }
    }

    /// Sends the first frame (`NewTask` or `JoinTask`) on `channel` and waits for `Hello`.
    pub(crate) fn handshake(
        channel: Channel,
        first: &Request,
    ) -> Result<(Connection, Hello), RuntimeError> {
        let mut conn = Connection::bound(channel);
        match conn.roundtrip(first, &[]) {
            Ok((Response::Hello { task, token }, _)) => Ok((conn, Hello { task, token })),
            Ok((other, _)) => Err(RuntimeError::Handshake(format!("{other:?}"))),
            Err(ConnError::Fatal(e)) => Err(RuntimeError::Refused(e)),
            Err(ConnError::Io(e)) => Err(RuntimeError::Io(e)),
            Err(e) => Err(RuntimeError::Handshake(e.to_string())),
        }
    }

    /// Whether the connection failed and must not be used again.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead
    }

    /// Sends one request with `fds` beside it and returns its response with the
    /// descriptors that came with it. Any failure kills the connection.
    pub(crate) fn roundtrip(
        &mut self,
        request: &Request,
        fds: &[BorrowedFd<'_>],
    ) -> Result<(Response, Vec<OwnedFd>), ConnError> {
        if self.dead {
            return Err(ConnError::Closed);
        }
        let result = self.exchange(request, fds);
        if result.is_err() {
            self.dead = true;
        }
        result
    }

    fn exchange(
        &mut self,
        request: &Request,
        fds: &[BorrowedFd<'_>],
    ) -> Result<(Response, Vec<OwnedFd>), ConnError> {
        self.channel.send(&request.encode(), fds)?;
        match self.channel.recv(&mut self.frame, RESPONSE_LIMIT) {
            Ok(true) => {}
            Ok(false) => return Err(ConnError::Closed),
            Err(RecvError::Io(e)) => return Err(ConnError::Io(e)),
            Err(e) => return Err(ConnError::Protocol(e.to_string())),
        }
        let fds = std::mem::take(&mut self.frame.fds);
        match Response::decode(&self.frame.bytes) {
            Ok(Response::Fatal(e)) => {
                tracing::error!(error = %e, "kernel closed the connection");
                Err(ConnError::Fatal(e))
            }
            Ok(response) => Ok((response, fds)),
            Err(e) => Err(ConnError::Protocol(format!("undecodable response: {e}"))),
        }
    }
}

/// A thread's connection to one task, with the reply port its rpcs use.
#[derive(Debug)]
pub(crate) struct ThreadConn {
    /// The connection.
    pub conn: Connection,
    /// The receive right replies come to, allocated on the thread's first rpc.
    pub reply_port: Option<PortName>,
}

impl ThreadConn {
    /// A thread connection with no reply port yet.
    pub(crate) fn new(conn: Connection) -> Self {
        ThreadConn {
            conn,
            reply_port: None,
        }
    }

    /// Destroys the reply port (after a failed rpc, so a late reply cannot be taken for
    /// the answer to a later call, or when the thread is done).
    pub(crate) fn drop_reply_port(&mut self) {
        if let Some(name) = self.reply_port.take() {
            let call = Request::Call(PortCall::ModRefs {
                name,
                right: RightKind::RECEIVE,
                delta: -1,
            });
            // A dead connection already took the port with it when the task died, or
            // will when the task's last connection closes.
            let _ = self.conn.roundtrip(&call, &[]);
        }
    }
}

impl Drop for ThreadConn {
    fn drop(&mut self) {
        self.drop_reply_port();
    }
}
