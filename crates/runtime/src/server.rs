//! A server loop: a pool of threads receiving on one receive right or port set, calling a
//! handler, and sending each reply in the same frame as the next receive.
//!
//! The pool grows with load: a thread that takes a message when no other thread is left
//! waiting starts another (up to `max_threads`). Threads idle past `idle_timeout` exit,
//! keeping at least one. [`serve`] returns when the port (or set) dies, which is how its
//! owner stops it: drop the receive right. [`ServeOptions::stop`] stops it too, within
//! one `idle_timeout`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use herd_wire::frame::{msg_option, Request};
use herd_wire::{KernError, PortName};
use thiserror::Error;

use crate::message::{OutMessage, PortArg, Received, SendOutcome};
use crate::rights::Right;
use crate::rpc::is_receive_error;
use crate::task::Task;

/// How a server pool behaves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The most threads serving at once (at least 1).
    pub max_threads: usize,
    /// How long a thread may wait for a message before it exits (the last one stays).
    pub idle_timeout: Duration,
    /// Set to stop serving: threads exit after their current message or wait.
    pub stop: Option<Arc<AtomicBool>>,
    /// Prefix of the pool threads' names.
    pub thread_name: String,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            max_threads: 16,
            idle_timeout: Duration::from_secs(30),
            stop: None,
            thread_name: "herd-server".into(),
        }
    }
}

/// Why [`serve`] gave up (other than its port dying, which is a normal end).
#[derive(Debug, Error)]
pub enum ServeError {
    /// The kernel refused a receive, or the connection to it was lost.
    #[error("serving failed: {0}")]
    Kern(KernError),
}

/// What the pool's threads share.
struct Pool<H> {
    task: Task,
    on: PortName,
    handler: H,
    opts: ServeOptions,
    state: Mutex<PoolState>,
    /// Signalled when a thread leaves the pool.
    left: Condvar,
}

#[derive(Default)]
struct PoolState {
    /// Threads alive (including the one that called `serve`).
    threads: usize,
    /// Threads waiting in a receive.
    waiting: usize,
    /// Set once the port died or a thread failed: everyone leaves.
    finished: bool,
    /// The first failure.
    error: Option<KernError>,
    /// Highest number of threads seen at once.
    peak: usize,
}

/// Serves `on` (a receive right or port set of `task`) with `handler` until the port
/// dies (`Ok`) or `opts.stop` is set (`Ok`), or a receive fails otherwise (`Err`). The
/// calling thread is the pool's first thread.
///
/// The pool keeps each request's reply right: the handler sees `reply` as `Null` (it may
/// take the right with [`take_reply_right`] to answer later). A reply
/// whose `dest` is `Null` goes to that right (`MoveSendOnce`, or `MoveSend` for a send
/// right), in the same frame as the thread's next receive; a reply with its own `dest`
/// goes there. Replies never wait for queue room: one that cannot be delivered at once
/// (the client died, its queue is full) is dropped with its rights. A request answered
/// with `None` has its reply right released, which tells the client (a send-once
/// notification) that no answer will come. A handler that panics is logged and treated
/// as `None`.
pub fn serve<H>(task: &Task, on: PortName, handler: H, opts: ServeOptions) -> Result<(), ServeError>
where
    H: Fn(Received) -> Option<OutMessage> + Send + Sync + 'static,
{
    let pool = Arc::new(Pool {
        task: task.clone(),
        on,
        handler,
        opts,
        state: Mutex::new(PoolState {
            threads: 1,
            peak: 1,
            ..PoolState::default()
        }),
        left: Condvar::new(),
    });
    tracing::debug!(port = %on, max = pool.opts.max_threads, "serving");
    worker(&pool);
    let mut state = pool.lock();
    while state.threads > 0 {
        state = pool
            .left
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
    }
    tracing::debug!(port = %on, peak = state.peak, "server pool finished");
    match state.error {
        None => Ok(()),
        Some(e) => Err(ServeError::Kern(e)),
    }
}

impl<H> Pool<H>
where
    H: Fn(Received) -> Option<OutMessage> + Send + Sync + 'static,
{
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stop_requested(&self) -> bool {
        self.opts
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    /// Ends the pool (the port died, a stop, or an error).
    fn finish(&self, error: Option<KernError>) {
        let mut state = self.lock();
        state.finished = true;
        if state.error.is_none() {
            state.error = error;
        }
    }

    /// Starts another thread if none is left waiting and the pool has room.
    fn maybe_grow(self: &Arc<Self>) {
        let mut state = self.lock();
        if state.finished
            || self.stop_requested()
            || state.waiting > 0
            || state.threads >= self.opts.max_threads.max(1)
        {
            return;
        }
        state.threads += 1;
        state.peak = state.peak.max(state.threads);
        let n = state.threads;
        drop(state);
        let pool = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name(format!("{}-{n}", self.opts.thread_name))
            .spawn(move || {
                worker(&pool);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start a server thread");
            self.leave();
        }
    }

    /// Counts a thread out.
    fn leave(&self) {
        let mut state = self.lock();
        state.threads -= 1;
        self.left.notify_all();
    }

    /// Whether an idle thread should exit (it is not the last one).
    fn idle_exit(&self) -> bool {
        let mut state = self.lock();
        if state.threads > 1 {
            state.threads -= 1;
            self.left.notify_all();
            true
        } else {
            false
        }
    }
}

/// One pool thread: receive (with the previous reply in the same frame), handle, repeat.
fn worker<H>(pool: &Arc<Pool<H>>)
where
    H: Fn(Received) -> Option<OutMessage> + Send + Sync + 'static,
{
    let mut reply: Option<OutMessage> = None;
    loop {
        {
            let mut state = pool.lock();
            if state.finished || pool.stop_requested() {
                break;
            }
            state.waiting += 1;
        }
        let got = receive(pool, reply.take());
        pool.lock().waiting -= 1;
        match got {
            Ok(request) => {
                pool.maybe_grow();
                reply = handle(pool, request);
            }
            Err(KernError::RcvTimedOut) => {
                if pool.idle_exit() {
                    tracing::trace!(port = %pool.on, "idle server thread exits");
                    return;
                }
            }
            Err(KernError::RcvPortDied | KernError::RcvInvalidName) => {
                tracing::debug!(port = %pool.on, "served port is gone");
                pool.finish(None);
                break;
            }
            Err(KernError::InvalidTask) => {
                // The kernel is gone (the node halted): the normal end of every server.
                tracing::info!(port = %pool.on, "kernel connection closed; server ends");
                pool.finish(Some(KernError::InvalidTask));
                break;
            }
            Err(e) => {
                tracing::error!(port = %pool.on, error = %e, "server receive failed");
                pool.finish(Some(e));
                break;
            }
        }
    }
    if let Some(reply) = reply {
        // The last reply still goes out.
        if let Err(e) = pool.task.send(reply, Some(Duration::ZERO)) {
            tracing::debug!(error = %e, "dropping a reply");
        }
    }
    pool.leave();
}

/// Receives the next request, sending `reply` first in the same frame. A reply the
/// kernel refuses is dropped (its rights released as the send settles) and the receive
/// is retried on its own.
fn receive<H>(pool: &Pool<H>, mut reply: Option<OutMessage>) -> Result<Received, KernError> {
    let task = &pool.task;
    loop {
        let (message, outgoing) = match reply
            .take()
            .map(|r| r.into_wire(Some(Duration::ZERO)))
            .transpose()
        {
            Ok(Some((m, o))) => (Some(m), Some(o)),
            Ok(None) => (None, None),
            Err(e) => {
                tracing::warn!(error = %e, "dropping a reply that cannot be sent");
                (None, None)
            }
        };
        let options = match message {
            Some(_) => msg_option::SEND | msg_option::RECEIVE,
            None => msg_option::RECEIVE,
        };
        let request = Request::MachMsg {
            options,
            // A reply goes to a send-once right, which no queue limit holds back.
            send_timeout: Some(Duration::ZERO),
            rcv_name: pool.on,
            rcv_timeout: Some(pool.opts.idle_timeout),
            message,
        };
        let fds = outgoing.as_ref().map(|o| o.fds()).unwrap_or_default();
        let outcome = task.mach_msg(&request, &fds).map_err(|e| {
            tracing::info!(error = %e, "server lost its kernel connection");
            e.as_kern()
        });
        drop(fds);
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                if let Some(o) = outgoing {
                    o.settle(SendOutcome::Consumed);
                }
                return Err(e);
            }
        };
        match (outcome.result, outgoing) {
            (Err(e), Some(o)) if !is_receive_error(e) => {
                // The reply was refused and nothing was received.
                tracing::debug!(error = %e, "reply not delivered (client gone?)");
                drop(task.settle_failed_send(o, e, outcome.message, outcome.fds));
                continue;
            }
            (result, o) => {
                if let Some(o) = o {
                    o.settle(SendOutcome::Consumed);
                }
                result?;
                return task.received(outcome.message, outcome.fds);
            }
        }
    }
}

thread_local! {
    /// The reply right of the request this pool thread is handling, until the handler
    /// takes it ([`take_reply_right`]) or the pool uses it for the handler's answer.
    static CURRENT_REPLY: std::cell::RefCell<Right> = const { std::cell::RefCell::new(Right::Null) };
}

/// Takes the reply right of the request the calling handler is serving, so it can answer
/// later from anywhere (what the Hurd's `MIG_NO_REPLY` is for: the auth server's
/// handshake, a lock that waits). The pool then sends nothing for this request unless the
/// handler's answer names its own `dest`. Outside a handler, or called twice, it gives
/// `Right::Null`.
pub fn take_reply_right() -> Right {
    CURRENT_REPLY.with(|slot| std::mem::take(&mut *slot.borrow_mut()))
}

/// Runs the handler on one request and addresses its reply.
fn handle<H>(pool: &Pool<H>, mut request: Received) -> Option<OutMessage>
where
    H: Fn(Received) -> Option<OutMessage>,
{
    CURRENT_REPLY.with(|slot| *slot.borrow_mut() = request.take_reply());
    let id = request.id;
    let reply = match catch_unwind(AssertUnwindSafe(|| (pool.handler)(request))) {
        Ok(reply) => reply,
        Err(_) => {
            tracing::error!(id, port = %pool.on, "server handler panicked; request dropped");
            None
        }
    };
    let reply_right = CURRENT_REPLY.with(|slot| std::mem::take(&mut *slot.borrow_mut()));
    let mut reply = reply?;
    if matches!(reply.dest, PortArg::Null) {
        reply.dest = match reply_right {
            Right::SendOnce(r) => PortArg::MoveSendOnce(r),
            Right::Send(r) => PortArg::MoveSend(r),
            _ => {
                tracing::debug!(id, "request had no reply right; reply dropped");
                return None;
            }
        };
    }
    Some(reply)
}
