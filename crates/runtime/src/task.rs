//! `Task`: this process's membership in a node kernel, and the per-thread connections
//! every kernel call goes through.
//!
//! The connection `attach` made stays with the `Task` (it keeps the kernel task alive as
//! long as any handle or right of it lives) and serves the thread that attached. Every
//! other thread opens its own connection on first use (`JoinTask` with the task's token),
//! kept in a thread-local map and closed when the thread exits, so that one thread's
//! blocking receive never stalls another's calls.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use herd_channel::Channel;
use herd_wire::frame::msg_option;
use herd_wire::frame::{
    AllocateKind, CallValue, KernelStats, PortCall, Request, Response, Timeout,
};
use herd_wire::{KernError, Message, PortName};

use crate::connection::{Connection, Hello, ThreadConn};
use crate::env::TaskEnv;
use crate::error::{ConnError, RuntimeError, SendError};
use crate::message::{OutMessage, Received, Returned, SendOutcome};
use crate::rights::{PortSet, ReceiveRight};

/// Process-wide keys for `Task` instances (kernel task ids repeat across kernels, and
/// tests run several kernels in one process).
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// Process-wide thread numbers (`ThreadId` needs `thread::current()`, which is not
/// available while a thread's locals are being destroyed, when rights may still drop).
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's connections, by task instance key.
    static CONNECTIONS: RefCell<HashMap<u64, Joined>> = RefCell::new(HashMap::new());
    /// This thread's number, 0 until first asked (no destructor: always accessible).
    static THREAD_NUMBER: Cell<u64> = const { Cell::new(0) };
}

/// The calling thread's number.
fn thread_number() -> u64 {
    THREAD_NUMBER.with(|n| {
        if n.get() == 0 {
            n.set(NEXT_THREAD.fetch_add(1, Ordering::Relaxed));
        }
        n.get()
    })
}

/// A thread's connection to one task.
struct Joined {
    task: Weak<TaskInner>,
    conn: ThreadConn,
}

struct TaskInner {
    key: u64,
    id: u64,
    token: u64,
    socket: Option<PathBuf>,
    initial_ports: Vec<PortName>,
    primary_thread: u64,
    primary: Mutex<ThreadConn>,
}

impl Drop for TaskInner {
    fn drop(&mut self) {
        // This thread's joined connection, if any, has no more use.
        let _ = CONNECTIONS.try_with(|map| {
            if let Ok(mut map) = map.try_borrow_mut() {
                map.remove(&self.key);
            }
        });
    }
}

/// This process's membership in a node kernel (one per kernel task). Cloning is cheap
/// (an `Arc` clone); the kernel task lives while any clone, or any right of it, lives.
#[derive(Clone)]
pub struct Task {
    inner: Arc<TaskInner>,
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.inner.id).finish()
    }
}

/// What a `MachMsg` request came back with.
pub(crate) struct MsgOutcome {
    pub result: Result<(), KernError>,
    pub message: Option<Message>,
    pub fds: Vec<OwnedFd>,
}

impl Task {
    /// Connects to the kernel socket and becomes a new task (`Request::NewTask`).
    pub fn attach(socket: &Path, label: &str) -> Result<Task, RuntimeError> {
        let channel = Connection::connect(socket)?;
        let first = Request::NewTask {
            label: label.to_owned(),
        };
        Task::from_channel(channel, &first, Some(socket.to_owned()), Vec::new())
    }

    /// A task spawned by the kernel: its connection is the descriptor in `HERD_TASK_FD`
    /// (already bound to the task), `HERD_TASK_TOKEN` is the token further threads join
    /// with through the socket in `HERD_KERNEL`, and `HERD_PORTS` lists the initial port
    /// names (comma separated). The task id comes from `HERD_TASK_ID` or, if unset, from
    /// joining once through `HERD_KERNEL`. Without `HERD_TASK_FD` it joins through
    /// `HERD_KERNEL` with the token, or without a token attaches there as a new task
    /// labelled `label`.
    pub fn from_env(label: &str) -> Result<Task, RuntimeError> {
        let env = TaskEnv::parse(|k| std::env::var(k).ok())?;
        Task::from_task_env(env, label)
    }

    fn from_task_env(env: TaskEnv, label: &str) -> Result<Task, RuntimeError> {
        let Some(fd) = env.fd else {
            let path = env
                .kernel
                .as_deref()
                .expect("TaskEnv::parse requires a kernel");
            let first = match env.token {
                Some(token) => Request::JoinTask { token },
                None => Request::NewTask {
                    label: label.to_owned(),
                },
            };
            let channel = Connection::connect(path)?;
            return Task::from_channel(channel, &first, env.kernel, env.ports);
        };
        let token = env
            .token
            .expect("TaskEnv::parse requires a token with a descriptor");
        let conn = Connection::bound(Channel::from_fd(adopt_fd(fd)?));
        let id = match (env.task_id, &env.kernel) {
            (Some(id), _) => id,
            (None, Some(path)) => {
                let first = Request::JoinTask { token };
                Connection::handshake(Connection::connect(path)?, &first)?
                    .1
                    .task
            }
            (None, None) => {
                return Err(RuntimeError::Env {
                    var: crate::env::TASK_ID,
                    problem: format!("needed when {} is unset", crate::env::KERNEL),
                })
            }
        };
        let hello = Hello { task: id, token };
        Ok(Task::from_conn(conn, hello, env.kernel, env.ports))
    }

    /// Says hello on `channel` and wraps the result.
    pub(crate) fn from_channel(
        channel: Channel,
        first: &Request,
        socket: Option<PathBuf>,
        initial_ports: Vec<PortName>,
    ) -> Result<Task, RuntimeError> {
        let (conn, hello) = Connection::handshake(channel, first)?;
        Ok(Task::from_conn(conn, hello, socket, initial_ports))
    }

    fn from_conn(
        conn: Connection,
        hello: Hello,
        socket: Option<PathBuf>,
        initial_ports: Vec<PortName>,
    ) -> Task {
        tracing::debug!(task = hello.task, "attached to the kernel");
        Task {
            inner: Arc::new(TaskInner {
                key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
                id: hello.task,
                token: hello.token,
                socket,
                initial_ports,
                primary_thread: thread_number(),
                primary: Mutex::new(ThreadConn::new(conn)),
            }),
        }
    }

    /// The port names the kernel gave this task at spawn (`HERD_PORTS`), in order.
    pub fn initial_ports(&self) -> &[PortName] {
        &self.inner.initial_ports
    }

    /// The kernel's id for this task.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Whether two handles are the same task.
    pub fn same_task(&self, other: &Task) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Runs `f` on the calling thread's connection, opening it first if needed. `f` must
    /// only exchange frames: it must not use any `Task` (that would re-enter this).
    pub(crate) fn with_conn<R>(
        &self,
        f: impl FnOnce(&mut ThreadConn) -> Result<R, ConnError>,
    ) -> Result<R, ConnError> {
        let inner = &self.inner;
        if thread_number() == inner.primary_thread {
            let mut primary = inner.primary.lock().unwrap_or_else(PoisonError::into_inner);
            if !primary.conn.is_dead() {
                return f(&mut primary);
            }
        }
        CONNECTIONS
            .try_with(|map| {
                let mut map = map
                    .try_borrow_mut()
                    .map_err(|_| ConnError::Join("re-entered the connection map".into()))?;
                if map.get(&inner.key).is_some_and(|j| j.conn.conn.is_dead()) {
                    map.remove(&inner.key);
                }
                if !map.contains_key(&inner.key) {
                    map.retain(|_, j| j.task.strong_count() > 0);
                    let conn = self.join()?;
                    let joined = Joined {
                        task: Arc::downgrade(inner),
                        conn: ThreadConn::new(conn),
                    };
                    map.insert(inner.key, joined);
                }
                let joined = map.get_mut(&inner.key).expect("inserted above");
                f(&mut joined.conn)
            })
            .unwrap_or_else(|_| Err(ConnError::Join("the thread is exiting".into())))
    }

    /// Opens a new connection for the calling thread (`JoinTask`).
    fn join(&self) -> Result<Connection, ConnError> {
        let inner = &self.inner;
        let socket = inner
            .socket
            .as_deref()
            .ok_or_else(|| ConnError::Join("no kernel socket known (HERD_KERNEL unset)".into()))?;
        let channel = Connection::connect(socket).map_err(|e| ConnError::Join(e.to_string()))?;
        let first = Request::JoinTask { token: inner.token };
        let (conn, hello) =
            Connection::handshake(channel, &first).map_err(|e| ConnError::Join(e.to_string()))?;
        if hello.task != inner.id {
            return Err(ConnError::Join(format!(
                "joined task {} instead of {}",
                hello.task, inner.id
            )));
        }
        tracing::trace!(task = inner.id, "thread joined the task");
        Ok(conn)
    }

    /// One request on the calling thread's connection.
    fn roundtrip(
        &self,
        request: &Request,
        fds: &[BorrowedFd<'_>],
    ) -> Result<(Response, Vec<OwnedFd>), ConnError> {
        self.with_conn(|tc| tc.conn.roundtrip(request, fds))
    }

    /// Raw kernel call on the calling thread's own connection. A lost connection is
    /// reported as `KernError::InvalidTask` (or the kernel's fatal code).
    pub fn call(&self, c: PortCall) -> Result<CallValue, KernError> {
        match self.roundtrip(&Request::Call(c), &[]) {
            Ok((Response::Call(result), _)) => result,
            Ok((other, _)) => {
                tracing::error!(response = ?other, "kernel answered a call with another frame");
                Err(KernError::ProtocolViolation)
            }
            Err(e) => {
                // Only the connection fails here (the kernel went away, as when a node
                // halts); a refused call is an `Ok` answer above.
                tracing::info!(error = %e, task = self.id(), "kernel call failed");
                Err(e.as_kern())
            }
        }
    }

    /// A call that answers a name.
    pub(crate) fn call_name(&self, c: PortCall) -> Result<PortName, KernError> {
        match self.call(c)? {
            CallValue::Name(n) => Ok(n),
            other => unexpected(other),
        }
    }

    /// A call that answers nothing.
    pub(crate) fn call_unit(&self, c: PortCall) -> Result<(), KernError> {
        self.call(c).map(|_| ())
    }

    /// Creates a port; the caller holds its receive right.
    pub fn allocate_port(&self) -> Result<ReceiveRight, KernError> {
        let name = self.call_name(PortCall::Allocate(AllocateKind::Receive))?;
        Ok(ReceiveRight::from_name(self, name))
    }

    /// Creates an empty port set.
    pub fn allocate_port_set(&self) -> Result<PortSet, KernError> {
        let name = self.call_name(PortCall::Allocate(AllocateKind::PortSet))?;
        Ok(PortSet::from_name(self, name))
    }

    /// One `MachMsg` request on the calling thread's connection.
    pub(crate) fn mach_msg(
        &self,
        request: &Request,
        fds: &[BorrowedFd<'_>],
    ) -> Result<MsgOutcome, ConnError> {
        match self.roundtrip(request, fds)? {
            (Response::Msg { result, message }, fds) => Ok(MsgOutcome {
                result,
                message,
                fds,
            }),
            (other, _) => Err(ConnError::Protocol(format!(
                "kernel answered a message with {other:?}"
            ))),
        }
    }

    /// Sends a message, waiting at most `timeout` for room in the destination queue.
    /// Rights moved into the message belong to the receiver once it is queued; if the
    /// kernel refuses the message untouched they are released here.
    pub fn send(&self, msg: OutMessage, timeout: Timeout) -> Result<(), SendError> {
        let (message, outgoing) = msg.into_wire(timeout).map_err(SendError::Kern)?;
        let request = Request::MachMsg {
            options: msg_option::SEND,
            send_timeout: timeout,
            rcv_name: PortName::NULL,
            rcv_timeout: None,
            message: Some(message),
        };
        let outcome = match self.mach_msg(&request, &outgoing.fds()) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "send: kernel connection lost");
                // Whether the message went out is unknown: keep the names (a leak at
                // worst), never release rights the receiver may now hold.
                outgoing.settle(SendOutcome::Consumed);
                return Err(SendError::ConnectionLost);
            }
        };
        let error = match outcome.result {
            Ok(()) => {
                outgoing.settle(SendOutcome::Consumed);
                return Ok(());
            }
            Err(e) => e,
        };
        let returned = self.settle_failed_send(outgoing, error, outcome.message, outcome.fds);
        Err(match error {
            KernError::SendInvalidDest => SendError::ServerDied,
            KernError::SendTimedOut => SendError::TimedOut {
                returned: returned.map(Box::new),
            },
            e => SendError::Kern(e),
        })
    }

    /// Accounts for the rights of a message the kernel refused: a message handed back
    /// (pseudo-receive) holds them again; otherwise they are still ours or destroyed,
    /// depending on the error.
    pub(crate) fn settle_failed_send(
        &self,
        outgoing: crate::message::Outgoing,
        error: KernError,
        returned: Option<Message>,
        fds: Vec<OwnedFd>,
    ) -> Option<Returned> {
        match returned {
            Some(message) => {
                outgoing.settle(SendOutcome::Consumed);
                match Returned::from_wire(self, message, fds) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        tracing::error!(error = %e, "returned message does not fit its descriptors");
                        None
                    }
                }
            }
            None => {
                outgoing.settle(SendOutcome::Refused(error));
                None
            }
        }
    }

    /// Receives one message from a receive right or port set, waiting at most `timeout`.
    pub fn receive(&self, from: PortName, timeout: Timeout) -> Result<Received, KernError> {
        let request = Request::MachMsg {
            options: msg_option::RECEIVE,
            send_timeout: None,
            rcv_name: from,
            rcv_timeout: timeout,
            message: None,
        };
        let outcome = self.mach_msg(&request, &[]).map_err(|e| {
            tracing::warn!(error = %e, "receive: kernel connection lost");
            e.as_kern()
        })?;
        outcome.result?;
        self.received(outcome.message, outcome.fds)
    }

    /// Wraps a successfully received message.
    pub(crate) fn received(
        &self,
        message: Option<Message>,
        fds: Vec<OwnedFd>,
    ) -> Result<Received, KernError> {
        let Some(message) = message else {
            tracing::error!("kernel reported a receive without a message");
            return Err(KernError::ProtocolViolation);
        };
        Received::from_wire(self, message, fds).map_err(|e| {
            tracing::error!(error = %e, "received message does not fit its descriptors");
            KernError::ProtocolViolation
        })
    }

    /// Whole-kernel counters.
    pub fn stats(&self) -> Result<KernelStats, KernError> {
        match self.call(PortCall::Stats)? {
            CallValue::Stats(s) => Ok(s),
            other => unexpected(other),
        }
    }
}

/// A call answered with the wrong kind of value.
pub(crate) fn unexpected<T>(value: CallValue) -> Result<T, KernError> {
    tracing::error!(
        ?value,
        "kernel answered a call with the wrong kind of value"
    );
    Err(KernError::ProtocolViolation)
}

/// Takes ownership of the inherited kernel connection by its descriptor number (checked
/// to be an open seqpacket socket, and made close-on-exec so Linux children of this task
/// do not keep the task alive).
fn adopt_fd(fd: i32) -> Result<OwnedFd, RuntimeError> {
    herd_channel::adopt_inherited_socket(fd).map_err(|e| RuntimeError::Env {
        var: crate::env::TASK_FD,
        problem: format!("cannot take descriptor {fd}: {e}"),
    })
}
