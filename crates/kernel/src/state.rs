//! The kernel as a state machine: inputs (connections, frames, closes, time) in, actions
//! (frames to send, connections to close, programs to start) out. No I/O happens here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::os::fd::OwnedFd;
use std::time::Instant;

use herd_channel::PeerCredentials;
use herd_wire::codec::DecodeError;
use herd_wire::frame::{PortCall, Timeout};
use herd_wire::{KernError, Message, PortName, Request, Response};

use crate::objects::{ConnId, KMsg, Port, PortIdx, PortSet, SetIdx, Slab, TaskId};
use crate::space::Space;
use crate::trace::TraceState;

/// Something that happened outside the state machine.
#[derive(Debug)]
pub enum Input {
    /// A task connected (or the kernel made a connection for a task it spawns).
    Connected {
        /// The new connection.
        conn: ConnId,
        /// Who is on the other end.
        creds: PeerCredentials,
    },
    /// A frame arrived and parsed.
    Frame {
        /// From where.
        conn: ConnId,
        /// What it asks.
        request: Request,
        /// Descriptors that came with it.
        fds: Vec<OwnedFd>,
    },
    /// A frame arrived that did not parse (or broke a size limit).
    Malformed {
        /// From where.
        conn: ConnId,
        /// Why.
        error: DecodeError,
    },
    /// A connection closed.
    Closed {
        /// Which.
        conn: ConnId,
    },
    /// A program the kernel was asked to start has started (or failed to).
    Spawned {
        /// The connection made for the new task.
        child: ConnId,
        /// Its pid, or why it failed.
        result: Result<u32, KernError>,
    },
}

/// What the driver must do.
#[derive(Debug)]
pub enum Action {
    /// Send a frame.
    Send {
        /// To where.
        conn: ConnId,
        /// The frame.
        response: Response,
        /// Descriptors to pass with it.
        fds: Vec<OwnedFd>,
    },
    /// Close a connection (after sending what was queued for it).
    Close {
        /// Which.
        conn: ConnId,
    },
    /// Start a program as a task whose connection is `child`.
    Spawn(SpawnOrder),
}

/// A program to start.
#[derive(Debug)]
pub struct SpawnOrder {
    /// The connection id the driver must register for the new task's end of the pair.
    pub child: ConnId,
    /// The new task's id.
    pub task: TaskId,
    /// The new task's secret token.
    pub token: u64,
    /// The program.
    pub program: String,
    /// Arguments, `argv[0]` first.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<String>,
    /// The names of the initial rights in the new task.
    pub ports: Vec<PortName>,
}

/// A task.
#[derive(Debug)]
pub struct Task {
    /// Linux pid.
    pub pid: u32,
    /// Linux uid of its owner.
    pub uid: u32,
    /// Label for tools.
    pub label: String,
    /// Secret token for joining.
    pub token: u64,
    /// Its names.
    pub space: Space,
    /// Live connections.
    pub conns: u32,
    /// Its tracer, when traced.
    pub(crate) trace: Option<Box<TraceState>>,
}

/// What a blocked connection waits for.
#[derive(Debug)]
pub enum Wait {
    /// Waiting to receive from a port or set.
    Receive {
        /// From what.
        target: RecvTarget,
        /// Its timer, if it has a timeout.
        timer: Option<TimerKey>,
    },
    /// Waiting for room on a full queue.
    Send {
        /// The destination.
        port: PortIdx,
        /// The message.
        msg: KMsg,
        /// Its timer.
        timer: Option<TimerKey>,
        /// A receive to do after the send, as in a combined call.
        then: Option<(PortName, Timeout)>,
    },
    /// Waiting for a spawned program to start.
    Spawn,
}

/// A receive target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvTarget {
    /// A port.
    Port(PortIdx),
    /// A port set.
    Set(SetIdx),
}

/// A key in the timer table.
pub type TimerKey = (Instant, u64);

/// A connection.
#[derive(Debug)]
pub struct Conn {
    /// The task it belongs to, once it said hello.
    pub task: Option<TaskId>,
    /// Linux credentials of the peer.
    pub creds: PeerCredentials,
    /// What it waits for, if anything.
    pub wait: Option<Wait>,
}

/// The node kernel's whole state.
pub struct Kernel {
    pub(crate) tasks: Slab<Task>,
    pub(crate) ports: Slab<Port>,
    pub(crate) sets: Slab<PortSet>,
    pub(crate) conns: HashMap<ConnId, Conn>,
    pub(crate) timers: BTreeMap<TimerKey, ConnId>,
    timer_seq: u64,
    pub(crate) actions: Vec<Action>,
    pub(crate) now: Instant,
    tokens: HashMap<u64, TaskId>,
    token_key: std::collections::hash_map::RandomState,
    token_seq: u64,
    next_conn: ConnId,
    /// Connections the kernel made for tasks it spawns: child conn -> spawner conn.
    pub(crate) spawning: HashMap<ConnId, ConnId>,
    /// The uid the kernel runs as (spawning is limited to it and to root).
    pub(crate) kernel_uid: u32,
    /// When the kernel started (trace records count time from here).
    pub(crate) started: Instant,
    /// The traced tasks; empty is the untraced fast path.
    pub(crate) traced: BTreeSet<TaskId>,
    /// Ports that receive trace records, with the number of traces sending to each.
    pub(crate) tracer_ports: HashMap<PortIdx, u32>,
    /// The registry of special ports: send rights published under well-known names.
    pub(crate) special: BTreeMap<String, crate::objects::KRight>,
}

/// The largest connection id handed to the driver for connections it accepts; ids above
/// it are made by the kernel for spawned tasks.
const KERNEL_CONN_BASE: ConnId = 1 << 62;

impl Kernel {
    /// An empty kernel running as `kernel_uid`.
    pub fn new(now: Instant, kernel_uid: u32) -> Self {
        Kernel {
            tasks: Slab::default(),
            ports: Slab::default(),
            sets: Slab::default(),
            conns: HashMap::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            actions: Vec::new(),
            now,
            tokens: HashMap::new(),
            token_key: Default::default(),
            token_seq: 0,
            next_conn: KERNEL_CONN_BASE,
            spawning: HashMap::new(),
            kernel_uid,
            started: now,
            traced: BTreeSet::new(),
            tracer_ports: HashMap::new(),
            special: BTreeMap::new(),
        }
    }

    /// Takes the actions produced so far.
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// Moves the actions produced so far into `out`.
    pub fn drain_actions_into(&mut self, out: &mut Vec<Action>) {
        out.append(&mut self.actions);
    }

    /// When the next timeout falls due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.keys().next().map(|k| k.0)
    }

    /// Handles one input at time `now`.
    pub fn handle(&mut self, now: Instant, input: Input) {
        self.now = now;
        match input {
            Input::Connected { conn, creds } => {
                self.conns.insert(
                    conn,
                    Conn {
                        task: None,
                        creds,
                        wait: None,
                    },
                );
            }
            Input::Frame { conn, request, fds } => self.frame(conn, request, fds),
            Input::Malformed { conn, error } => {
                tracing::debug!(conn, %error, "malformed frame");
                self.fatal(conn, KernError::SendInvalidData);
            }
            Input::Closed { conn } => self.close(conn),
            Input::Spawned { child, result } => self.spawned(child, result),
        }
        self.expire(now);
    }

    /// Fires every timeout due at `now`.
    pub fn tick(&mut self, now: Instant) {
        self.now = now;
        self.expire(now);
    }

    fn expire(&mut self, now: Instant) {
        while let Some((&key, &conn)) = self.timers.iter().next() {
            if key.0 > now {
                break;
            }
            self.timers.remove(&key);
            self.timed_out(conn);
        }
    }

    pub(crate) fn add_timer(&mut self, conn: ConnId, timeout: Timeout) -> Option<TimerKey> {
        let d = timeout?;
        self.timer_seq += 1;
        let key = (self.now + d, self.timer_seq);
        self.timers.insert(key, conn);
        Some(key)
    }

    pub(crate) fn reply(&mut self, conn: ConnId, response: Response, fds: Vec<OwnedFd>) {
        self.actions.push(Action::Send {
            conn,
            response,
            fds,
        });
    }

    pub(crate) fn reply_msg(
        &mut self,
        conn: ConnId,
        result: Result<(), KernError>,
        message: Option<(Message, Vec<OwnedFd>)>,
    ) {
        match message {
            Some((m, fds)) => self.reply(
                conn,
                Response::Msg {
                    result,
                    message: Some(m),
                },
                fds,
            ),
            None => self.reply(
                conn,
                Response::Msg {
                    result,
                    message: None,
                },
                Vec::new(),
            ),
        }
    }

    /// Tells the connection it broke the protocol and drops it.
    pub(crate) fn fatal(&mut self, conn: ConnId, e: KernError) {
        if self.conns.contains_key(&conn) {
            self.reply(conn, Response::Fatal(e), Vec::new());
            self.actions.push(Action::Close { conn });
            self.close(conn);
        }
    }

    fn frame(&mut self, conn: ConnId, request: Request, fds: Vec<OwnedFd>) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.wait.is_some() {
            return self.fatal(conn, KernError::ProtocolViolation);
        }
        match (c.task, request) {
            (None, Request::NewTask { label }) => self.new_task(conn, label),
            (None, Request::JoinTask { token }) => self.join_task(conn, token),
            (None, _) | (Some(_), Request::NewTask { .. } | Request::JoinTask { .. }) => {
                self.fatal(conn, KernError::ProtocolViolation)
            }
            (
                Some(task),
                Request::MachMsg {
                    options,
                    send_timeout,
                    rcv_name,
                    rcv_timeout,
                    message,
                },
            ) => self.mach_msg(
                conn,
                task,
                options,
                send_timeout,
                (rcv_name, rcv_timeout),
                message,
                fds,
            ),
            (Some(task), Request::Call(call)) => self.call(conn, task, call, fds),
        }
    }

    fn new_token(&mut self) -> u64 {
        loop {
            self.token_seq += 1;
            let mut h = self.token_key.build_hasher();
            h.write_u64(self.token_seq);
            let t = h.finish();
            if t != 0 && !self.tokens.contains_key(&t) {
                return t;
            }
        }
    }

    pub(crate) fn create_task(&mut self, pid: u32, uid: u32, label: String) -> TaskId {
        let token = self.new_token();
        let task = self.tasks.insert_with(|_| Task {
            pid,
            uid,
            label,
            token,
            space: Space::default(),
            conns: 0,
            trace: None,
        });
        self.tokens.insert(token, task);
        task
    }

    fn bind(&mut self, conn: ConnId, task: TaskId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.task = Some(task);
        }
        if let Some(t) = self.tasks.get_mut(task) {
            t.conns += 1;
        }
    }

    fn new_task(&mut self, conn: ConnId, label: String) {
        let creds = self.conns[&conn].creds;
        let task = self.create_task(creds.pid, creds.uid, label);
        self.bind(conn, task);
        let token = self.tasks.get(task).map_or(0, |t| t.token);
        tracing::debug!(conn, task, pid = creds.pid, "new task");
        self.reply(
            conn,
            Response::Hello {
                task: task as u64,
                token,
            },
            Vec::new(),
        );
    }

    fn join_task(&mut self, conn: ConnId, token: u64) {
        let creds = self.conns[&conn].creds;
        let Some(&task) = self.tokens.get(&token) else {
            return self.fatal(conn, KernError::InvalidTask);
        };
        let t = &self.tasks.get(task).expect("token of a live task");
        if t.pid != creds.pid && creds.uid != 0 {
            return self.fatal(conn, KernError::InvalidTask);
        }
        self.bind(conn, task);
        self.reply(
            conn,
            Response::Hello {
                task: task as u64,
                token,
            },
            Vec::new(),
        );
    }

    /// Makes a connection id for a task the kernel spawns.
    pub(crate) fn spawn_conn(&mut self, spawner: ConnId, task: TaskId) -> ConnId {
        self.next_conn += 1;
        let child = self.next_conn;
        let uid = self.tasks.get(task).map_or(0, |t| t.uid);
        self.conns.insert(
            child,
            Conn {
                task: None,
                creds: PeerCredentials {
                    pid: 0,
                    uid,
                    gid: 0,
                },
                wait: None,
            },
        );
        self.bind(child, task);
        self.spawning.insert(child, spawner);
        child
    }

    fn spawned(&mut self, child: ConnId, result: Result<u32, KernError>) {
        let Some(spawner) = self.spawning.remove(&child) else {
            return;
        };
        let task = self.conns.get(&child).and_then(|c| c.task);
        if let Some(c) = self.conns.get_mut(&spawner) {
            c.wait = None;
        }
        match (result, task) {
            (Ok(pid), Some(task)) => {
                if let Some(t) = self.tasks.get_mut(task) {
                    t.pid = pid;
                }
                if let Some(c) = self.conns.get_mut(&child) {
                    c.creds.pid = pid;
                }
                if let Some(parent) = self.task_of(spawner) {
                    self.trace_spawned(parent, task);
                }
                self.reply_call(
                    spawner,
                    Ok(herd_wire::frame::CallValue::Spawned {
                        task: task as u64,
                        pid,
                    }),
                );
            }
            (result, _) => {
                let e = result.err().unwrap_or(KernError::InvalidTask);
                self.close(child);
                self.reply_call(spawner, Err(e));
            }
        }
    }

    pub(crate) fn reply_call(
        &mut self,
        conn: ConnId,
        result: Result<herd_wire::frame::CallValue, KernError>,
    ) {
        if self.conns.contains_key(&conn) {
            self.reply(conn, Response::Call(result), Vec::new());
        }
    }

    fn call(&mut self, conn: ConnId, task: TaskId, call: PortCall, fds: Vec<OwnedFd>) {
        drop(fds);
        let result = self.port_call(conn, task, call);
        // A call may have destroyed a tracer's port.
        self.sweep_dead_tracers();
        if let Some(result) = result {
            self.reply_call(conn, result);
        }
    }

    /// A connection closed: cancel what it waited for; if it was its task's last, the
    /// task dies.
    fn close(&mut self, conn: ConnId) {
        self.cancel_wait(conn);
        self.spawning.remove(&conn);
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let Some(task) = c.task else { return };
        let last = match self.tasks.get_mut(task) {
            Some(t) => {
                t.conns -= 1;
                t.conns == 0
            }
            None => false,
        };
        if last {
            self.trace_exit(task);
            self.task_died(task);
            // The task may have been a tracer.
            self.sweep_dead_tracers();
        }
    }

    pub(crate) fn task_of(&self, conn: ConnId) -> Option<TaskId> {
        self.conns.get(&conn).and_then(|c| c.task)
    }

    /// Forgets the token of a dead task.
    pub(crate) fn forget_task(&mut self, task: TaskId) -> Option<Task> {
        self.stop_trace(task);
        let t = self.tasks.remove(task)?;
        self.tokens.remove(&t.token);
        Some(t)
    }
}
