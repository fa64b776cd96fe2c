//! A harness that drives the kernel state machine directly, with simulated connections
//! and time, checking every invariant after every step.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use herd_channel::PeerCredentials;
use herd_kernel::{Action, Input, Kernel};
use herd_wire::frame::{msg_option, AllocateKind, CallValue, PortCall, Timeout};
use herd_wire::{Disposition, KernError, Message, PortName, Request, Response};

pub struct Sim {
    pub k: Kernel,
    pub now: Instant,
    next_conn: u64,
    pending: Vec<(u64, Response)>,
    tokens: Vec<(u64, u64)>,
}

impl Sim {
    pub fn new() -> Self {
        let now = Instant::now();
        Sim {
            k: Kernel::new(now, 1000),
            now,
            next_conn: 100,
            pending: Vec::new(),
            tokens: Vec::new(),
        }
    }

    fn input(&mut self, input: Input) {
        self.k.handle(self.now, input);
        self.collect();
        self.k.check_invariants().expect("invariants");
    }

    fn collect(&mut self) {
        for a in self.k.take_actions() {
            if let Action::Send { conn, response, .. } = a {
                self.pending.push((conn, response));
            }
        }
    }

    /// Connects a new task; returns its connection.
    pub fn task(&mut self, uid: u32) -> u64 {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.input(Input::Connected {
            conn,
            creds: PeerCredentials {
                pid: conn as u32,
                uid,
                gid: uid,
            },
        });
        self.input(Input::Frame {
            conn,
            request: Request::NewTask {
                label: format!("t{conn}"),
            },
            fds: Vec::new(),
        });
        match self.take(conn) {
            Some(Response::Hello { token, .. }) => self.tokens.push((conn, token)),
            other => panic!("hello: {other:?}"),
        }
        conn
    }

    /// Starts a task from `parent` (as the spawn call does), giving it `rights`; returns
    /// its connection and its names for the rights.
    pub fn spawn(
        &mut self,
        parent: u64,
        rights: Vec<herd_wire::message::PortDescriptor>,
    ) -> (u64, Vec<PortName>) {
        self.k.handle(
            self.now,
            Input::Frame {
                conn: parent,
                request: Request::Call(PortCall::Spawn {
                    program: "/bin/true".into(),
                    args: vec![],
                    env: vec![],
                    rights,
                }),
                fds: Vec::new(),
            },
        );
        let mut order = None;
        for a in self.k.take_actions() {
            match a {
                Action::Spawn(o) => order = Some(o),
                Action::Send { conn, response, .. } => self.pending.push((conn, response)),
                Action::Close { .. } => {}
            }
        }
        let order = order.expect("a spawn order");
        let child = order.child;
        self.tokens.push((child, order.token));
        self.input(Input::Spawned {
            child,
            result: Ok(child as u32),
        });
        match self.take(parent) {
            Some(Response::Call(Ok(CallValue::Spawned { .. }))) => {}
            other => panic!("spawn: {other:?}"),
        }
        (child, order.ports)
    }

    /// Another connection (thread) of the task `conn` belongs to.
    pub fn thread(&mut self, of: u64) -> u64 {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.input(Input::Connected {
            conn,
            creds: PeerCredentials {
                pid: of as u32,
                uid: 0,
                gid: 0,
            },
        });
        let token = self.token_of(of);
        self.input(Input::Frame {
            conn,
            request: Request::JoinTask { token },
            fds: Vec::new(),
        });
        assert!(matches!(self.take(conn), Some(Response::Hello { .. })));
        conn
    }

    fn token_of(&mut self, conn: u64) -> u64 {
        self.tokens
            .iter()
            .find(|(c, _)| *c == conn)
            .map(|(_, t)| *t)
            .unwrap()
    }

    pub fn take(&mut self, conn: u64) -> Option<Response> {
        let i = self.pending.iter().position(|(c, _)| *c == conn)?;
        Some(self.pending.remove(i).1)
    }

    pub fn close(&mut self, conn: u64) {
        self.input(Input::Closed { conn });
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.k.tick(self.now);
        self.collect();
        self.k.check_invariants().expect("invariants");
    }

    pub fn call(&mut self, conn: u64, call: PortCall) -> Result<CallValue, KernError> {
        self.input(Input::Frame {
            conn,
            request: Request::Call(call),
            fds: Vec::new(),
        });
        match self.take(conn) {
            Some(Response::Call(r)) => r,
            other => panic!("expected a call reply, got {other:?}"),
        }
    }

    pub fn port(&mut self, conn: u64) -> PortName {
        match self.call(conn, PortCall::Allocate(AllocateKind::Receive)) {
            Ok(CallValue::Name(n)) => n,
            other => panic!("{other:?}"),
        }
    }

    pub fn set(&mut self, conn: u64) -> PortName {
        match self.call(conn, PortCall::Allocate(AllocateKind::PortSet)) {
            Ok(CallValue::Name(n)) => n,
            other => panic!("{other:?}"),
        }
    }

    pub fn make_send(&mut self, conn: u64, name: PortName) -> PortName {
        match self.call(
            conn,
            PortCall::MakeRight {
                name,
                disposition: Disposition::MakeSend,
            },
        ) {
            Ok(CallValue::Name(n)) => n,
            other => panic!("{other:?}"),
        }
    }

    /// Starts a mach_msg; returns the answer if it came at once.
    pub fn msg(
        &mut self,
        conn: u64,
        message: Option<Message>,
        send_timeout: Timeout,
        rcv: Option<(PortName, Timeout)>,
    ) -> Option<Response> {
        let mut options = 0;
        if message.is_some() {
            options |= msg_option::SEND;
        }
        let (rcv_name, rcv_timeout) = rcv.unwrap_or((PortName::NULL, None));
        if rcv.is_some() {
            options |= msg_option::RECEIVE;
        }
        self.input(Input::Frame {
            conn,
            request: Request::MachMsg {
                options,
                send_timeout,
                rcv_name,
                rcv_timeout,
                message,
            },
            fds: Vec::new(),
        });
        self.take(conn)
    }

    /// Sends and expects success.
    pub fn send(&mut self, conn: u64, message: Message) {
        match self.msg(conn, Some(message), None, None) {
            Some(Response::Msg { result: Ok(()), .. }) => {}
            other => panic!("send: {other:?}"),
        }
    }

    /// Sends and returns the kernel's verdict.
    pub fn try_send(&mut self, conn: u64, message: Message) -> Result<(), KernError> {
        match self.msg(conn, Some(message), Some(Duration::ZERO), None) {
            Some(Response::Msg { result, .. }) => result,
            other => panic!("send: {other:?}"),
        }
    }

    /// Receives with a zero timeout.
    pub fn recv_now(&mut self, conn: u64, from: PortName) -> Result<Message, KernError> {
        match self.msg(conn, None, None, Some((from, Some(Duration::ZERO)))) {
            Some(Response::Msg {
                result: Ok(()),
                message: Some(m),
            }) => Ok(m),
            Some(Response::Msg { result: Err(e), .. }) => Err(e),
            other => panic!("receive: {other:?}"),
        }
    }

    pub fn stats(&self) -> herd_wire::frame::KernelStats {
        self.k.stats()
    }
}

pub fn msg(dest: PortName, disp: Disposition, id: u32) -> Message {
    Message::new(dest, disp, id)
}
