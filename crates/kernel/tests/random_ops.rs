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
        3 => (any::<u8>(), 0u8..3).prop_map(|(t, k)| Op::Allocate(t, k)),
        3 => (any::<u8>(), any::<u16>(), any::<bool>()).prop_map(|(t, n, o)| Op::Make(t, n, o)),
        6 => (
            any::<u8>(),
            any::<u16>(),
            0u8..21,
            any::<u16>(),
            0u8..21,
            proptest::collection::vec((any::<u16>(), 0u8..21), 0..3),
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
        3 => (any::<u8>(), any::<u16>()).prop_map(|(t, n)| Op::Receive(t, n)),
        1 => (any::<u8>(), any::<u16>()).prop_map(|(t, n)| Op::Deallocate(t, n)),
        1 => (any::<u8>(), any::<u16>(), 0u8..5, -2i8..3)
            .prop_map(|(t, n, r, d)| Op::ModRefs(t, n, r, d)),
        1 => (any::<u8>(), any::<u16>()).prop_map(|(t, n)| Op::Destroy(t, n)),
        1 => (any::<u8>(), any::<u16>(), 0u8..3, any::<u16>(), 0u32..3)
            .prop_map(|(t, n, k, m, s)| Op::Notify(t, n, k, m, s)),
        1 => (any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(t, a, b)| Op::Move(t, a, b)),
        1 => (any::<u8>(), any::<u16>(), 0u8..4).prop_map(|(t, n, l)| Op::Qlimit(t, n, l)),
        1 => any::<u8>().prop_map(Op::Kill),
        1 => (1u8..50).prop_map(Op::Advance),
    ]
}

/// The task's names, with a forged one at the end so bad names get tried too.
fn names(s: &mut Sim, conn: u64) -> Vec<PortName> {
    match s.call(conn, PortCall::TaskNames(0)) {
        Ok(CallValue::NameInfos(v)) => v.into_iter().map(|i| i.name).collect(),
        other => panic!("{other:?}"),
    }
}

/// The task's names with their rights.
fn rights(s: &mut Sim, conn: u64) -> Vec<(PortName, RightKind)> {
    match s.call(conn, PortCall::TaskNames(0)) {
        Ok(CallValue::NameInfos(v)) => v.into_iter().map(|i| (i.name, i.rights)).collect(),
        other => panic!("{other:?}"),
    }
}

/// A disposition that suits the rights held (or a null right's 0).
fn fitting(rights: Option<RightKind>, seed: u16) -> u8 {
    let Some(r) = rights else { return 0 };
    let d = if r.contains(RightKind::RECEIVE) {
        [
            Disposition::MakeSend,
            Disposition::MakeSendOnce,
            Disposition::MoveReceive,
        ][seed as usize % 3]
    } else if r.contains(RightKind::SEND) {
        [Disposition::CopySend, Disposition::MoveSend][seed as usize % 2]
    } else if r.contains(RightKind::SEND_ONCE) {
        Disposition::MoveSendOnce
    } else {
        Disposition::CopySend
    };
    d as u8
}

/// One of the names, or now and then (and always when there are none) a forged or null one.
fn pick(v: &[PortName], i: u16) -> PortName {
    match i % 10 {
        _ if v.is_empty() => PortName(0xdead_0001),
        0 => PortName(0xdead_0001),
        1 => PortName::NULL,
        _ => v[(i / 10) as usize % v.len()],
    }
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
                let held = rights(s, t);
                // Kind selectors below 12 mean "a disposition that fits the right", so that
                // most messages go through; 12..=20 become raw values 14..=22, which try
                // every wrong combination (14, 15 and 22 are not dispositions at all).
                let kind = |name: PortName, k: u8, seed: u16| {
                    if k >= 12 {
                        return k + 2;
                    }
                    let r = held.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
                    fitting(r, seed)
                };
                // Mostly a name that can be a destination; sometimes any name at all.
                let sendable: Vec<PortName> = held
                    .iter()
                    .filter(|(_, r)| {
                        r.contains(RightKind::SEND)
                            || r.contains(RightKind::SEND_ONCE)
                            || r.contains(RightKind::RECEIVE)
                    })
                    .map(|(n, _)| *n)
                    .collect();
                let dest_name = match sendable.len() {
                    0 => pick(&v, dest),
                    _ if dest % 5 == 0 => pick(&v, dest),
                    n => sendable[dest as usize % n],
                };
                let mut m = Message::new(dest_name, Disposition::MoveSend, 1);
                // A receive right cannot be moved as the destination: make a right instead.
                m.header.dest.kind = match kind(dest_name, dest_disp, dest) {
                    16 => Disposition::MakeSend as u8,
                    k => k,
                };
                let reply_name = pick(&v, reply);
                m.header.reply = PortDescriptor {
                    name: reply_name,
                    kind: kind(reply_name, reply_disp, reply),
                };
                m.ports = body
                    .iter()
                    .map(|(n, k)| {
                        let name = pick(&v, *n);
                        PortDescriptor {
                            name,
                            kind: kind(name, *k, *n),
                        }
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
