//! Property test: several tasks do random sequences of port operations (including bad
//! ones); after every step every right and reference is recounted and must match, and
//! when all tasks are gone nothing is left.

mod sim;

use std::time::Duration;

use herd_wire::frame::{AllocateKind, CallValue, NotifyKind, PortCall};
use herd_wire::message::PortDescriptor;
use herd_wire::{Disposition, Message, PortName, RightKind};
use proptest::prelude::*;
use sim::Sim;

#[derive(Debug, Clone)]
enum Op {
    Allocate(u8, u8),
    Make(u8, u16, bool),
    Send {
        task: u8,
        dest: u16,
        dest_disp: u8,
        reply: u16,
        reply_disp: u8,
        body: Vec<(u16, u8)>,
        timeout0: bool,
    },
    Receive(u8, u16),
    Deallocate(u8, u16),
    ModRefs(u8, u16, u8, i8),
    Destroy(u8, u16),
    Notify(u8, u16, u8, u16, u32),
    Move(u8, u16, u16),
    Qlimit(u8, u16, u8),
    Kill(u8),
    Advance(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<u8>(), 0u8..3).prop_map(|(t, k)| Op::Allocate(t, k)),
        (any::<u8>(), any::<u16>(), any::<bool>()).prop_map(|(t, n, o)| Op::Make(t, n, o)),
        (
            any::<u8>(),
            any::<u16>(),
            15u8..23,
            any::<u16>(),
            14u8..23,
            proptest::collection::vec((any::<u16>(), 14u8..23), 0..4),
            any::<bool>()
        )
            .prop_map(
                |(task, dest, dest_disp, reply, reply_disp, body, timeout0)| Op::Send {
                    task,
                    dest,
                    dest_disp,
                    reply,
                    reply_disp,
                    body,
                    timeout0
                }
            ),
        (any::<u8>(), any::<u16>()).prop_map(|(t, n)| Op::Receive(t, n)),
        (any::<u8>(), any::<u16>()).prop_map(|(t, n)| Op::Deallocate(t, n)),
        (any::<u8>(), any::<u16>(), 0u8..5, -2i8..3)
            .prop_map(|(t, n, r, d)| Op::ModRefs(t, n, r, d)),
        (any::<u8>(), any::<u16>()).prop_map(|(t, n)| Op::Destroy(t, n)),
        (any::<u8>(), any::<u16>(), 0u8..3, any::<u16>(), 0u32..3)
            .prop_map(|(t, n, k, m, s)| Op::Notify(t, n, k, m, s)),
        (any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(t, a, b)| Op::Move(t, a, b)),
        (any::<u8>(), any::<u16>(), 0u8..4).prop_map(|(t, n, l)| Op::Qlimit(t, n, l)),
        any::<u8>().prop_map(Op::Kill),
        (1u8..50).prop_map(Op::Advance),
    ]
}

/// The task's names, with a forged one at the end so bad names get tried too.
fn names(s: &mut Sim, conn: u64) -> Vec<PortName> {
    let mut v: Vec<PortName> = match s.call(conn, PortCall::TaskNames(0)) {
        Ok(CallValue::NameInfos(v)) => v.into_iter().map(|i| i.name).collect(),
        other => panic!("{other:?}"),
    };
    v.push(PortName(0xdead_0001));
    v.push(PortName::NULL);
    v
}

fn pick(v: &[PortName], i: u16) -> PortName {
    v[i as usize % v.len()]
}

struct World {
    s: Sim,
    conns: Vec<u64>,
    /// Connections blocked in a send or receive; they are not used until answered.
    busy: Vec<u64>,
}

impl World {
    fn new() -> Self {
        let mut s = Sim::new();
        let root = s.task(1000);
        let p = s.port(root);
        let mut conns = vec![root];
        for _ in 0..2 {
            let (c, _) = s.spawn(root, vec![PortDescriptor::send(p, Disposition::MakeSend)]);
            conns.push(c);
        }
        World {
            s,
            conns,
            busy: Vec::new(),
        }
    }

    fn settle(&mut self) {
        let done: Vec<u64> = self
            .busy
            .iter()
            .copied()
            .filter(|c| self.s.take(*c).is_some())
            .collect();
        self.busy.retain(|c| !done.contains(c));
    }

    fn task(&mut self, i: u8) -> Option<u64> {
        self.settle();
        let free: Vec<u64> = self
            .conns
            .iter()
            .copied()
            .filter(|c| !self.busy.contains(c))
            .collect();
        if free.is_empty() {
            return None;
        }
        Some(free[i as usize % free.len()])
    }

    fn apply(&mut self, op: Op) {
        let Some(t) = (match &op {
            Op::Advance(_) => Some(0),
            Op::Allocate(t, _)
            | Op::Make(t, _, _)
            | Op::Send { task: t, .. }
            | Op::Receive(t, _)
            | Op::Deallocate(t, _)
            | Op::ModRefs(t, _, _, _)
            | Op::Destroy(t, _)
            | Op::Notify(t, _, _, _, _)
            | Op::Move(t, _, _)
            | Op::Qlimit(t, _, _)
            | Op::Kill(t) => self.task(*t),
        }) else {
            return;
        };
        let s = &mut self.s;
        match op {
            Op::Allocate(_, k) => {
                let kind = [
                    AllocateKind::Receive,
                    AllocateKind::PortSet,
                    AllocateKind::DeadName,
                ][k as usize];
                s.call(t, PortCall::Allocate(kind)).unwrap();
            }
            Op::Make(_, n, once) => {
                let name = pick(&names(s, t), n);
                let disposition = if once {
                    Disposition::MakeSendOnce
                } else {
                    Disposition::MakeSend
                };
                let _ = s.call(t, PortCall::MakeRight { name, disposition });
            }
            Op::Send {
                dest,
                dest_disp,
                reply,
                reply_disp,
                body,
                timeout0,
                ..
            } => {
                let v = names(s, t);
                let mut m = Message::new(pick(&v, dest), Disposition::MoveSend, 1);
                m.header.dest.kind = dest_disp;
                m.header.reply = PortDescriptor {
                    name: pick(&v, reply),
                    kind: if reply_disp < 16 { 0 } else { reply_disp },
                };
                m.ports = body
                    .iter()
                    .map(|(n, k)| PortDescriptor {
                        name: pick(&v, *n),
                        kind: *k,
                    })
                    .collect();
                let timeout = if timeout0 {
                    Some(Duration::ZERO)
                } else {
                    Some(Duration::from_millis(20))
                };
                if s.msg(t, Some(m), timeout, None).is_none() {
                    self.busy.push(t);
                }
            }
            Op::Receive(_, n) => {
                let name = pick(&names(s, t), n);
                if s.msg(t, None, None, Some((name, Some(Duration::from_millis(5)))))
                    .is_none()
                {
                    self.busy.push(t);
                }
            }
            Op::Deallocate(_, n) => {
                let name = pick(&names(s, t), n);
                let _ = s.call(t, PortCall::Deallocate(name));
            }
            Op::ModRefs(_, n, r, delta) => {
                let name = pick(&names(s, t), n);
                let right = [
                    RightKind::SEND,
                    RightKind::RECEIVE,
                    RightKind::SEND_ONCE,
                    RightKind::PORT_SET,
                    RightKind::DEAD_NAME,
                ][r as usize];
                let _ = s.call(
                    t,
                    PortCall::ModRefs {
                        name,
                        right,
                        delta: delta as i32,
                    },
                );
            }
            Op::Destroy(_, n) => {
                let name = pick(&names(s, t), n);
                let _ = s.call(t, PortCall::Destroy(name));
            }
            Op::Notify(_, n, k, m, sync) => {
                let v = names(s, t);
                let kind = [
                    NotifyKind::NoSenders,
                    NotifyKind::DeadName,
                    NotifyKind::PortDestroyed,
                ][k as usize];
                let _ = s.call(
                    t,
                    PortCall::RequestNotification {
                        name: pick(&v, n),
                        kind,
                        sync,
                        notify: pick(&v, m),
                        notify_disposition: if m % 2 == 0 {
                            Disposition::MakeSendOnce
                        } else {
                            Disposition::MoveSendOnce
                        },
                    },
                );
            }
            Op::Move(_, a, b) => {
                let v = names(s, t);
                let _ = s.call(
                    t,
                    PortCall::MoveMember {
                        member: pick(&v, a),
                        set: pick(&v, b),
                    },
                );
            }
            Op::Qlimit(_, n, l) => {
                let name = pick(&names(s, t), n);
                let _ = s.call(
                    t,
                    PortCall::SetQlimit {
                        name,
                        limit: l as u32,
                    },
                );
            }
            Op::Kill(_) => {
                if self.conns.len() > 1 {
                    s.close(t);
                    self.conns.retain(|c| *c != t);
                    self.busy.retain(|c| *c != t);
                }
            }
            Op::Advance(ms) => s.advance(Duration::from_millis(ms as u64)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_count_right_and_leak_nothing(ops in proptest::collection::vec(op(), 1..120)) {
        let mut w = World::new();
        for op in ops {
            w.apply(op);
        }
        for c in w.conns.clone() {
            w.s.close(c);
        }
        let st = w.s.stats();
        prop_assert_eq!((st.tasks, st.ports, st.port_sets, st.names), (0, 0, 0, 0));
        prop_assert_eq!((st.queued_messages, st.send_rights, st.send_once_rights, st.connections), (0, 0, 0, 0));
    }
}
