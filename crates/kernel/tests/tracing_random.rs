//! Random interleavings of RPCs, tracing, untracing, tiny tracer queues, spawns and task
//! deaths: after every step every count is exact (the sim recounts), and when every task
//! is gone nothing is left: no port, right, name or message.

mod sim;

use std::time::Duration;

use herd_wire::frame::{CallValue, PortCall};
use herd_wire::message::PortDescriptor;
use herd_wire::{Disposition, PortName, Response};
use proptest::prelude::*;
use sim::{msg, Sim};

#[derive(Debug, Clone)]
enum Op {
    /// Task `a` calls the root server (request with a send-once reply right).
    Call(u8),
    /// The root serves one request, answering it (or dropping it when `drop`).
    Serve(bool),
    /// Task `a` takes one message from its port.
    Take(u8),
    /// Task `a` traces task `b` to `a`'s port.
    Trace(u8, u8, bool),
    /// Task `a` stops tracing `b`.
    Untrace(u8, u8),
    /// Task `a`'s port holds at most `n` messages.
    Qlimit(u8, u8),
    /// Task `a` spawns a task (which gets a send right to the root).
    Spawn(u8),
    /// Task `a` dies.
    Kill(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u8>().prop_map(Op::Call),
        3 => any::<bool>().prop_map(Op::Serve),
        3 => any::<u8>().prop_map(Op::Take),
        2 => (any::<u8>(), any::<u8>(), any::<bool>()).prop_map(|(a, b, f)| Op::Trace(a, b, f)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Untrace(a, b)),
        1 => (any::<u8>(), 1u8..4).prop_map(|(a, n)| Op::Qlimit(a, n)),
        1 => any::<u8>().prop_map(Op::Spawn),
        1 => any::<u8>().prop_map(Op::Kill),
    ]
}

/// A live task: its connection, its port, its name for the root's port, its kernel id.
struct Member {
    conn: u64,
    port: PortName,
    to_root: PortName,
    id: u64,
}

struct World {
    s: Sim,
    root: u64,
    root_port: PortName,
    members: Vec<Member>,
}

impl World {
    fn new() -> World {
        let mut s = Sim::new();
        let root = s.task(1000);
        let root_port = s.port(root);
        let mut w = World {
            s,
            root,
            root_port,
            members: Vec::new(),
        };
        for _ in 0..3 {
            w.spawn_from(root, root_port, Disposition::MakeSend);
        }
        w
    }

    fn spawn_from(&mut self, parent: u64, name: PortName, d: Disposition) {
        let (conn, names) = self.s.spawn(parent, vec![PortDescriptor::send(name, d)]);
        let port = self.s.port(conn);
        let id = match self.s.call(conn, PortCall::Tasks) {
            Ok(CallValue::Tasks(v)) => v.iter().find(|t| t.pid == conn as u32).unwrap().task,
            other => panic!("{other:?}"),
        };
        self.members.push(Member {
            conn,
            port,
            to_root: names[0],
            id,
        });
    }

    fn member(&self, i: u8) -> Option<&Member> {
        (!self.members.is_empty()).then(|| &self.members[i as usize % self.members.len()])
    }

    fn step(&mut self, op: Op) {
        let zero = Some(Duration::ZERO);
        match op {
            Op::Call(a) => {
                let Some(m) = self.member(a) else { return };
                let mut req = msg(m.to_root, Disposition::CopySend, 1001);
                req.header.reply = PortDescriptor::send(m.port, Disposition::MakeSendOnce);
                let conn = m.conn;
                let _ = self.s.msg(conn, Some(req), zero, None);
            }
            Op::Serve(drop_it) => {
                let (root, port) = (self.root, self.root_port);
                if let Ok(req) = self.s.recv_now(root, port) {
                    let reply = req.header.reply.name;
                    if drop_it || !reply.is_valid() {
                        let _ = self.s.call(root, PortCall::Deallocate(reply));
                    } else {
                        let _ = self.s.msg(
                            root,
                            Some(msg(reply, Disposition::MoveSendOnce, 1101)),
                            zero,
                            None,
                        );
                    }
                }
            }
            Op::Take(a) => {
                let Some(m) = self.member(a) else { return };
                let (conn, port) = (m.conn, m.port);
                if let Ok(got) = self.s.recv_now(conn, port) {
                    // Received rights are given back (a reply carries none, a record none).
                    for r in got.ports.iter().chain([&got.header.reply]) {
                        if r.name.is_valid() {
                            let _ = self.s.call(conn, PortCall::Destroy(r.name));
                        }
                    }
                }
            }
            Op::Trace(a, b, follow) => {
                let (Some(x), Some(y)) = (self.member(a), self.member(b)) else {
                    return;
                };
                let call = PortCall::Trace {
                    task: y.id,
                    tracer: x.port,
                    follow,
                };
                let conn = x.conn;
                let _ = self.s.call(conn, call);
            }
            Op::Untrace(a, b) => {
                let (Some(x), Some(y)) = (self.member(a), self.member(b)) else {
                    return;
                };
                let (conn, id) = (x.conn, y.id);
                let _ = self.s.call(conn, PortCall::Untrace(id));
            }
            Op::Qlimit(a, n) => {
                let Some(m) = self.member(a) else { return };
                let call = PortCall::SetQlimit {
                    name: m.port,
                    limit: n as u32,
                };
                let conn = m.conn;
                self.s.call(conn, call).unwrap();
            }
            Op::Spawn(a) => {
                let Some(m) = self.member(a) else { return };
                if self.members.len() < 8 {
                    let (conn, to_root) = (m.conn, m.to_root);
                    self.spawn_from(conn, to_root, Disposition::CopySend);
                }
            }
            Op::Kill(a) => {
                if self.members.is_empty() {
                    return;
                }
                let i = a as usize % self.members.len();
                let m = self.members.remove(i);
                self.s.close(m.conn);
            }
        }
        // Answers to zero-timeout operations came at once; none is left waiting.
        for m in &self.members {
            assert!(
                !matches!(self.s.take(m.conn), Some(Response::Fatal(_))),
                "no protocol violation"
            );
        }
    }

    fn finish(mut self) {
        for m in std::mem::take(&mut self.members) {
            self.s.close(m.conn);
        }
        self.s.close(self.root);
        let st = self.s.stats();
        assert_eq!(
            (
                st.tasks,
                st.ports,
                st.names,
                st.send_rights,
                st.send_once_rights
            ),
            (0, 0, 0, 0, 0),
            "{st:?}"
        );
        assert_eq!(st.queued_messages, 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn tracing_keeps_every_count_exact_and_leaks_nothing(ops in proptest::collection::vec(op(), 1..80)) {
        let mut w = World::new();
        for op in ops {
            w.step(op);
        }
        w.finish();
    }
}
