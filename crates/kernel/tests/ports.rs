//! Port semantics, driven through the kernel state machine with simulated connections.

mod sim;

use std::time::Duration;

use herd_wire::frame::{notify_id, CallValue, NotifyKind, PortCall};
use herd_wire::message::PortDescriptor;
use herd_wire::{Disposition, KernError, PortName, ReceivedRight, Response, RightKind};
use sim::{msg, Sim};

fn rights(s: &mut Sim, conn: u64, name: PortName) -> Result<RightKind, KernError> {
    s.call(conn, PortCall::Type(name)).map(|v| match v {
        CallValue::Rights(r) => r,
        other => panic!("{other:?}"),
    })
}

fn refs(s: &mut Sim, conn: u64, name: PortName, right: RightKind) -> u32 {
    match s.call(conn, PortCall::GetRefs { name, right }) {
        Ok(CallValue::Count(n)) => n,
        other => panic!("{other:?}"),
    }
}

fn request(
    s: &mut Sim,
    conn: u64,
    name: PortName,
    kind: NotifyKind,
    sync: u32,
    notify: PortName,
) -> PortName {
    match s.call(
        conn,
        PortCall::RequestNotification {
            name,
            kind,
            sync,
            notify,
            notify_disposition: Disposition::MakeSendOnce,
        },
    ) {
        Ok(CallValue::Name(n)) => n,
        other => panic!("{other:?}"),
    }
}

/// Two tasks: a server with a port, and a client it started with a send right to it.
/// The client has a port of its own. Returns (server, client, sport, cport, to_server).
fn pair(s: &mut Sim) -> (u64, u64, PortName, PortName, PortName) {
    let server = s.task(1000);
    let sport = s.port(server);
    let (client, names) = s.spawn(
        server,
        vec![PortDescriptor::send(sport, Disposition::MakeSend)],
    );
    let cport = s.port(client);
    (server, client, sport, cport, names[0])
}

#[test]
fn rpc_round_trip_with_send_once_reply_and_seqnos() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    for i in 0..3u64 {
        let mut m = msg(to_server, Disposition::CopySend, 100);
        m.header.reply = PortDescriptor::send(cport, Disposition::MakeSendOnce);
        m.data = vec![i as u8];
        s.send(client, m);
        let req = s.recv_now(server, sport).unwrap();
        assert_eq!(req.header.dest.name, sport);
        assert_eq!(req.header.seqno, i, "seqnos count per port");
        assert_eq!(req.header.reply.kind, ReceivedRight::SendOnce as u8);
        let mut reply = msg(req.header.reply.name, Disposition::MoveSendOnce, 200);
        reply.data = req.data.clone();
        s.send(server, reply);
        let got = s.recv_now(client, cport).unwrap();
        assert_eq!(got.header.dest.kind, ReceivedRight::SendOnce as u8);
        assert_eq!(got.data, vec![i as u8]);
        assert_eq!(
            rights(&mut s, server, req.header.reply.name),
            Err(KernError::InvalidName)
        );
    }
}

#[test]
fn forged_and_wrong_names_are_refused_without_side_effects() {
    let mut s = Sim::new();
    let (server, client, sport, _cport, to_server) = pair(&mut s);
    let before = s.stats();
    for forged in [
        PortName(0x12345678),
        PortName(7),
        PortName::DEAD,
        PortName::NULL,
    ] {
        assert_eq!(
            s.try_send(client, msg(forged, Disposition::CopySend, 1)),
            Err(KernError::SendInvalidDest)
        );
    }
    // A receive right may not be used as a destination by a task that holds only a send.
    assert_eq!(
        s.try_send(client, msg(to_server, Disposition::MakeSend, 1)),
        Err(KernError::SendInvalidDest)
    );
    // A body right the sender does not hold: nothing of the message is taken.
    let mut m = msg(to_server, Disposition::MoveSend, 1);
    m.ports.push(PortDescriptor::send(
        PortName(999_999),
        Disposition::CopySend,
    ));
    assert_eq!(s.try_send(client, m), Err(KernError::SendInvalidRight));
    assert_eq!(
        refs(&mut s, client, to_server, RightKind::SEND),
        1,
        "the move did not happen"
    );
    assert_eq!(s.stats(), before, "nothing changed");
    // A bad disposition.
    let mut m = msg(to_server, Disposition::CopySend, 1);
    m.ports.push(PortDescriptor {
        name: to_server,
        kind: 99,
    });
    assert_eq!(s.try_send(client, m), Err(KernError::SendInvalidType));
    // Moving the same send twice with one reference.
    let mut m = msg(to_server, Disposition::MoveSend, 1);
    m.ports
        .push(PortDescriptor::send(to_server, Disposition::MoveSend));
    assert_eq!(s.try_send(client, m), Err(KernError::SendInvalidRight));
    // Move as destination and copy as reply with one reference works (Mach's header rule).
    let mut m = msg(to_server, Disposition::MoveSend, 1);
    m.header.reply = PortDescriptor::send(to_server, Disposition::CopySend);
    assert_eq!(s.try_send(client, m), Ok(()));
    let got = s.recv_now(server, sport).unwrap();
    assert_eq!(got.header.reply.kind, ReceivedRight::Send as u8);
    assert_eq!(
        got.header.reply.name, sport,
        "the server's own port comes back under its name"
    );
    assert_eq!(
        rights(&mut s, server, sport),
        Ok(RightKind::RECEIVE | RightKind::SEND)
    );
    // Calls on forged names.
    assert_eq!(
        s.call(client, PortCall::Deallocate(PortName(4242))),
        Err(KernError::InvalidName)
    );
    assert_eq!(
        s.call(
            client,
            PortCall::ModRefs {
                name: to_server,
                right: RightKind::RECEIVE,
                delta: -1
            }
        ),
        Err(KernError::InvalidName),
        "the send right moved away"
    );
    assert_eq!(
        s.recv_now(client, PortName(31337)),
        Err(KernError::RcvInvalidName)
    );
}

#[test]
fn no_senders_fires_once_with_make_send_count() {
    let mut s = Sim::new();
    let (server, client, sport, _cport, to_server) = pair(&mut s);
    let notify = s.port(server);
    assert_eq!(rights(&mut s, server, sport), Ok(RightKind::RECEIVE));
    // Two more send rights are made and dropped.
    s.make_send(server, sport);
    s.make_send(server, sport);
    s.call(
        server,
        PortCall::ModRefs {
            name: sport,
            right: RightKind::SEND,
            delta: -2,
        },
    )
    .unwrap();
    assert_eq!(
        request(&mut s, server, sport, NotifyKind::NoSenders, 0, notify),
        PortName::NULL
    );
    assert_eq!(
        s.recv_now(server, notify),
        Err(KernError::RcvTimedOut),
        "the client still holds one"
    );
    s.call(client, PortCall::Deallocate(to_server)).unwrap();
    let n = s.recv_now(server, notify).unwrap();
    assert_eq!(n.header.id, notify_id::NO_SENDERS);
    assert_eq!(
        n.data,
        3u32.to_le_bytes(),
        "three send rights were ever made"
    );
    assert_eq!(
        s.recv_now(server, notify),
        Err(KernError::RcvTimedOut),
        "exactly once"
    );
    // A request when there are no senders and sync <= mscount fires at once.
    request(&mut s, server, sport, NotifyKind::NoSenders, 3, notify);
    assert_eq!(
        s.recv_now(server, notify).unwrap().header.id,
        notify_id::NO_SENDERS
    );
    // With sync > mscount it waits for a new right to come and go.
    request(&mut s, server, sport, NotifyKind::NoSenders, 4, notify);
    assert_eq!(s.recv_now(server, notify), Err(KernError::RcvTimedOut));
}

#[test]
fn dead_name_notification_and_extra_reference() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    assert_eq!(
        request(&mut s, client, to_server, NotifyKind::DeadName, 0, cport),
        PortName::NULL
    );
    assert_eq!(
        rights(&mut s, client, to_server),
        Ok(RightKind::SEND | RightKind::DNREQUEST)
    );
    s.call(
        server,
        PortCall::ModRefs {
            name: sport,
            right: RightKind::RECEIVE,
            delta: -1,
        },
    )
    .unwrap();
    let n = s.recv_now(client, cport).unwrap();
    assert_eq!(n.header.id, notify_id::DEAD_NAME);
    assert_eq!(n.data, to_server.0.to_le_bytes());
    assert_eq!(rights(&mut s, client, to_server), Ok(RightKind::DEAD_NAME));
    assert_eq!(
        refs(&mut s, client, to_server, RightKind::DEAD_NAME),
        2,
        "one extra uref"
    );
    // Asking on an already-dead name with sync fires at once; without sync it is refused.
    request(&mut s, client, to_server, NotifyKind::DeadName, 1, cport);
    assert_eq!(
        s.recv_now(client, cport).unwrap().header.id,
        notify_id::DEAD_NAME
    );
    assert_eq!(refs(&mut s, client, to_server, RightKind::DEAD_NAME), 3);
    assert_eq!(
        s.call(
            client,
            PortCall::RequestNotification {
                name: to_server,
                kind: NotifyKind::DeadName,
                sync: 0,
                notify: cport,
                notify_disposition: Disposition::MakeSendOnce
            }
        ),
        Err(KernError::InvalidArgument)
    );
    // Sending to a dead name is an invalid destination.
    assert_eq!(
        s.try_send(client, msg(to_server, Disposition::CopySend, 1)),
        Err(KernError::SendInvalidDest)
    );
    for _ in 0..3 {
        s.call(client, PortCall::Deallocate(to_server)).unwrap();
    }
    assert_eq!(
        rights(&mut s, client, to_server),
        Err(KernError::InvalidName)
    );
}

#[test]
fn port_deleted_when_a_watched_name_is_freed() {
    let mut s = Sim::new();
    let (_server, client, _sport, cport, to_server) = pair(&mut s);
    request(&mut s, client, to_server, NotifyKind::DeadName, 0, cport);
    s.call(client, PortCall::Deallocate(to_server)).unwrap();
    let n = s.recv_now(client, cport).unwrap();
    assert_eq!(n.header.id, notify_id::PORT_DELETED);
    assert_eq!(n.data, to_server.0.to_le_bytes());
}

#[test]
fn send_once_notification_when_unused_and_port_destroyed_backup() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    let mut m = msg(to_server, Disposition::CopySend, 7);
    m.header.reply = PortDescriptor::send(cport, Disposition::MakeSendOnce);
    s.send(client, m);
    let req = s.recv_now(server, sport).unwrap();
    s.call(server, PortCall::Deallocate(req.header.reply.name))
        .unwrap();
    let n = s.recv_now(client, cport).unwrap();
    assert_eq!(n.header.id, notify_id::SEND_ONCE);
    assert_eq!(s.recv_now(client, cport), Err(KernError::RcvTimedOut));
    // Port-destroyed: the receive right goes to the backup instead of dying.
    let backup = s.port(server);
    let victim = s.port(server);
    request(&mut s, server, victim, NotifyKind::PortDestroyed, 0, backup);
    s.call(server, PortCall::Destroy(victim)).unwrap();
    let n = s.recv_now(server, backup).unwrap();
    assert_eq!(n.header.id, notify_id::PORT_DESTROYED);
    assert_eq!(n.ports[0].kind, ReceivedRight::Receive as u8);
    assert_eq!(
        rights(&mut s, server, n.ports[0].name),
        Ok(RightKind::RECEIVE)
    );
}

#[test]
fn moving_a_receive_right_keeps_the_queue_and_resets_seqno() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    let moving = s.port(server);
    let ms = s.make_send(server, moving);
    for i in 0..3u8 {
        let mut m = msg(ms, Disposition::CopySend, 50);
        m.data = vec![i];
        s.send(server, m);
    }
    let _ = (sport, to_server);
    // The client gives the server a send right to its port first.
    let mut m = msg(to_server, Disposition::CopySend, 9);
    m.ports
        .push(PortDescriptor::send(cport, Disposition::MakeSend));
    s.send(client, m);
    let got = s.recv_now(server, sport).unwrap();
    let server_to_client = got.ports[0].name;
    let mut m = msg(server_to_client, Disposition::MoveSend, 10);
    m.ports
        .push(PortDescriptor::send(moving, Disposition::MoveReceive));
    s.send(server, m);
    assert_eq!(
        rights(&mut s, server, moving),
        Ok(RightKind::SEND),
        "send right stays under the name"
    );
    let got = s.recv_now(client, cport).unwrap();
    let new_name = got.ports[0].name;
    assert_eq!(got.ports[0].kind, ReceivedRight::Receive as u8);
    for i in 0..3u8 {
        let m = s.recv_now(client, new_name).unwrap();
        assert_eq!(m.data, vec![i], "queued messages come along, in order");
        assert_eq!(m.header.seqno, i as u64, "seqno reset when the right moved");
    }
    match s.call(client, PortCall::GetReceiveStatus(new_name)) {
        Ok(CallValue::Status(st)) => {
            assert_eq!(st.mscount, 0, "make-send count reset");
            assert!(st.srights, "the server's send right still counts");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn queue_limit_blocks_then_admits_and_send_timeout_returns_the_message() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    s.call(
        server,
        PortCall::SetQlimit {
            name: sport,
            limit: 2,
        },
    )
    .unwrap();
    s.send(client, msg(to_server, Disposition::CopySend, 1));
    s.send(client, msg(to_server, Disposition::CopySend, 2));
    // Non-blocking send fails and the message (with its rights) comes back.
    let mut m = msg(to_server, Disposition::CopySend, 3);
    m.ports
        .push(PortDescriptor::send(cport, Disposition::MakeSend));
    match s.msg(client, Some(m), Some(Duration::ZERO), None) {
        Some(Response::Msg {
            result: Err(KernError::SendTimedOut),
            message: Some(back),
        }) => {
            assert_eq!(
                back.ports[0].name, cport,
                "the right came back to its sender"
            );
        }
        other => panic!("{other:?}"),
    }
    // A blocking send waits; a timed send times out later, returning the message.
    let t2 = s.thread(client);
    assert!(s
        .msg(
            client,
            Some(msg(to_server, Disposition::CopySend, 4)),
            None,
            None
        )
        .is_none());
    assert!(s
        .msg(
            t2,
            Some(msg(to_server, Disposition::CopySend, 5)),
            Some(Duration::from_millis(50)),
            None
        )
        .is_none());
    s.advance(Duration::from_millis(60));
    match s.take(t2) {
        Some(Response::Msg {
            result: Err(KernError::SendTimedOut),
            message: Some(back),
        }) => {
            assert_eq!(back.header.id, 5)
        }
        other => panic!("{other:?}"),
    }
    // Receiving one message lets the blocked sender in.
    assert_eq!(s.recv_now(server, sport).unwrap().header.id, 1);
    assert!(matches!(
        s.take(client),
        Some(Response::Msg { result: Ok(()), .. })
    ));
    assert_eq!(s.recv_now(server, sport).unwrap().header.id, 2);
    assert_eq!(s.recv_now(server, sport).unwrap().header.id, 4);
    // Send-once destinations bypass the limit.
    s.send(client, msg(to_server, Disposition::CopySend, 1));
    s.send(client, msg(to_server, Disposition::CopySend, 2));
    let so = match s.call(
        server,
        PortCall::MakeRight {
            name: sport,
            disposition: Disposition::MakeSendOnce,
        },
    ) {
        Ok(CallValue::Name(n)) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        s.try_send(server, msg(so, Disposition::MoveSendOnce, 3)),
        Ok(())
    );
}

#[test]
fn receive_timeout_and_waiting_receivers_and_port_death_wakes_them() {
    let mut s = Sim::new();
    let (server, client, sport, _cport, to_server) = pair(&mut s);
    assert!(s
        .msg(
            server,
            None,
            None,
            Some((sport, Some(Duration::from_millis(10))))
        )
        .is_none());
    s.advance(Duration::from_millis(11));
    assert!(matches!(
        s.take(server),
        Some(Response::Msg {
            result: Err(KernError::RcvTimedOut),
            ..
        })
    ));
    // A waiting receiver gets the message as it is sent.
    assert!(s.msg(server, None, None, Some((sport, None))).is_none());
    s.send(client, msg(to_server, Disposition::CopySend, 77));
    match s.take(server) {
        Some(Response::Msg {
            result: Ok(()),
            message: Some(m),
        }) => assert_eq!(m.header.id, 77),
        other => panic!("{other:?}"),
    }
    // A receiver waiting on a port destroyed by another thread of its task learns it died.
    let t2 = s.thread(server);
    assert!(s.msg(server, None, None, Some((sport, None))).is_none());
    s.call(
        t2,
        PortCall::ModRefs {
            name: sport,
            right: RightKind::RECEIVE,
            delta: -1,
        },
    )
    .unwrap();
    assert!(matches!(
        s.take(server),
        Some(Response::Msg {
            result: Err(KernError::RcvPortDied),
            ..
        })
    ));
    assert_eq!(
        s.try_send(client, msg(to_server, Disposition::CopySend, 1)),
        Err(KernError::SendInvalidDest)
    );
}

#[test]
fn port_sets_serve_all_members_fairly() {
    let mut s = Sim::new();
    let t = s.task(1000);
    let set = s.set(t);
    let a = s.port(t);
    let b = s.port(t);
    let a_s = s.make_send(t, a);
    let b_s = s.make_send(t, b);
    for (name, member) in [(a, set), (b, set)] {
        s.call(
            t,
            PortCall::MoveMember {
                member: name,
                set: member,
            },
        )
        .unwrap();
    }
    assert_eq!(s.recv_now(t, a), Err(KernError::RcvInSet));
    for i in 0..3 {
        s.send(t, msg(a_s, Disposition::CopySend, 10 + i));
    }
    s.send(t, msg(b_s, Disposition::CopySend, 20));
    let order: Vec<u32> = (0..4)
        .map(|_| s.recv_now(t, set).unwrap().header.id)
        .collect();
    assert_eq!(order, vec![10, 20, 11, 12], "members take turns");
    // A waiter on the set gets a message sent to any member; removal works.
    let t2 = s.thread(t);
    assert!(s.msg(t2, None, None, Some((set, None))).is_none());
    s.send(t, msg(b_s, Disposition::CopySend, 30));
    match s.take(t2) {
        Some(Response::Msg {
            result: Ok(()),
            message: Some(m),
        }) => {
            assert_eq!(m.header.id, 30);
            assert_eq!(m.header.dest.name, b, "dest says which member");
        }
        other => panic!("{other:?}"),
    }
    s.call(
        t,
        PortCall::MoveMember {
            member: a,
            set: PortName::NULL,
        },
    )
    .unwrap();
    s.send(t, msg(a_s, Disposition::CopySend, 40));
    assert_eq!(s.recv_now(t, set), Err(KernError::RcvTimedOut));
    assert_eq!(s.recv_now(t, a).unwrap().header.id, 40);
    // Destroying the set wakes its waiters.
    assert!(s.msg(t2, None, None, Some((set, None))).is_none());
    s.call(t, PortCall::Destroy(set)).unwrap();
    assert!(matches!(
        s.take(t2),
        Some(Response::Msg {
            result: Err(KernError::RcvPortDied),
            ..
        })
    ));
}

#[test]
fn task_death_releases_everything_with_notifications() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    // The client watches the server's port; the server watches for no senders.
    let notify = s.port(server);
    request(&mut s, server, sport, NotifyKind::NoSenders, 0, notify);
    request(&mut s, client, to_server, NotifyKind::DeadName, 0, cport);
    // The client has a request in flight with a send-once reply right.
    let mut m = msg(to_server, Disposition::CopySend, 1);
    m.header.reply = PortDescriptor::send(cport, Disposition::MakeSendOnce);
    s.send(client, m);
    let req = s.recv_now(server, sport).unwrap();
    // Kill the client (its last connection closes).
    s.close(client);
    let n = s.recv_now(server, notify).unwrap();
    assert_eq!(n.header.id, notify_id::NO_SENDERS);
    // The server's reply goes to a dead port: dropped, no error to the server.
    let reply = msg(req.header.reply.name, Disposition::MoveSendOnce, 101);
    assert_eq!(s.try_send(server, reply), Err(KernError::SendInvalidDest));
    s.close(server);
    let st = s.stats();
    assert_eq!(
        (
            st.tasks,
            st.ports,
            st.port_sets,
            st.names,
            st.queued_messages
        ),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(
        (st.send_rights, st.send_once_rights, st.connections),
        (0, 0, 0)
    );
}

#[test]
fn receive_rights_in_a_cycle_are_refused() {
    let mut s = Sim::new();
    let t = s.task(1000);
    let a = s.port(t);
    let a_s = s.make_send(t, a);
    let mut m = msg(a_s, Disposition::CopySend, 1);
    m.ports
        .push(PortDescriptor::send(a, Disposition::MoveReceive));
    assert_eq!(s.try_send(t, m), Err(KernError::SendInvalidRight));
    // A chain: b's receive right waits in a's queue; sending a's right to b would close it.
    let b = s.port(t);
    let b_s = s.make_send(t, b);
    let mut m = msg(a_s, Disposition::CopySend, 2);
    m.ports
        .push(PortDescriptor::send(b, Disposition::MoveReceive));
    s.send(t, m);
    let mut m = msg(b_s, Disposition::CopySend, 3);
    m.ports
        .push(PortDescriptor::send(a, Disposition::MoveReceive));
    assert_eq!(s.try_send(t, m), Err(KernError::SendInvalidRight));
    s.close(t);
    assert_eq!(
        s.stats().ports,
        0,
        "a queued receive right dies with its carrier"
    );
}

#[test]
fn protocol_violations_close_the_connection() {
    let mut s = Sim::new();
    let t = s.task(1000);
    let p = s.port(t);
    assert!(s.msg(t, None, None, Some((p, None))).is_none());
    // A second request while the first is pending breaks the one-answer-per-request rule.
    s.k.handle(
        s.now,
        herd_kernel::Input::Frame {
            conn: t,
            request: herd_wire::Request::Call(PortCall::Stats),
            fds: Vec::new(),
        },
    );
    let actions = s.k.take_actions();
    assert!(actions
        .iter()
        .any(|a| matches!(a, herd_kernel::Action::Close { conn } if *conn == t)));
    assert_eq!(s.stats().tasks, 0);
    assert_eq!(s.stats().ports, 0);
}

#[test]
fn a_blocked_sender_gets_its_message_back_when_the_port_dies() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    s.call(
        server,
        PortCall::SetQlimit {
            name: sport,
            limit: 1,
        },
    )
    .unwrap();
    s.send(client, msg(to_server, Disposition::CopySend, 1));
    let mut m = msg(to_server, Disposition::CopySend, 2);
    m.ports
        .push(PortDescriptor::send(cport, Disposition::MakeSend));
    assert!(
        s.msg(client, Some(m), None, None).is_none(),
        "blocked on the full queue"
    );
    s.call(server, PortCall::Destroy(sport)).unwrap();
    match s.take(client) {
        Some(Response::Msg {
            result: Err(KernError::SendInvalidDest),
            message: Some(back),
        }) => {
            assert_eq!(back.header.id, 2);
            assert_eq!(back.ports[0].name, cport, "its right came back");
        }
        other => panic!("{other:?}"),
    }
}

fn publish(
    s: &mut Sim,
    conn: u64,
    name: &str,
    right: PortDescriptor,
) -> Result<CallValue, KernError> {
    s.call(
        conn,
        PortCall::SetSpecialPort {
            name: name.into(),
            right,
        },
    )
}

#[test]
fn special_ports_are_published_fetched_and_released() {
    let mut s = Sim::new();
    let server = s.task(1000);
    let root = s.port(server);
    publish(
        &mut s,
        server,
        "root",
        PortDescriptor::send(root, Disposition::MakeSend),
    )
    .unwrap();
    // Another task, of another user, finds it (but may not publish).
    let other = s.task(2000);
    let got = match s.call(other, PortCall::GetSpecialPort("root".into())) {
        Ok(CallValue::Name(n)) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(rights(&mut s, other, got), Ok(RightKind::SEND));
    s.send(other, msg(got, Disposition::CopySend, 9));
    assert_eq!(s.recv_now(server, root).unwrap().header.id, 9);
    assert_eq!(
        publish(
            &mut s,
            other,
            "root",
            PortDescriptor::send(got, Disposition::CopySend)
        ),
        Err(KernError::NotPermitted)
    );
    // Bad names and unknown entries.
    for bad in ["", "Root", "a/b", &"x".repeat(65)] {
        assert_eq!(
            publish(
                &mut s,
                server,
                bad,
                PortDescriptor::send(root, Disposition::MakeSend)
            ),
            Err(KernError::InvalidArgument),
            "{bad:?}"
        );
    }
    assert_eq!(
        s.call(other, PortCall::GetSpecialPort("nothing".into())),
        Err(KernError::InvalidName)
    );
    // A receive right cannot be published, nor a right the caller does not hold.
    assert_eq!(
        publish(
            &mut s,
            server,
            "auth",
            PortDescriptor::send(root, Disposition::MoveReceive)
        ),
        Err(KernError::InvalidRight)
    );
    assert!(publish(
        &mut s,
        server,
        "auth",
        PortDescriptor::send(PortName(4242), Disposition::CopySend)
    )
    .is_err());
    assert_eq!(
        s.call(server, PortCall::ListSpecialPorts),
        Ok(CallValue::Strings(vec!["root".into()]))
    );
    // The registry's right keeps no-senders away; when the port dies, fetching gives DEAD.
    s.call(server, PortCall::Destroy(root)).unwrap();
    assert_eq!(
        s.call(other, PortCall::GetSpecialPort("root".into())),
        Ok(CallValue::Name(PortName::DEAD))
    );
    publish(&mut s, server, "root", PortDescriptor::null()).unwrap();
    s.close(other);
    s.close(server);
    let st = s.stats();
    assert_eq!(
        (st.ports, st.send_rights),
        (0, 0),
        "the registry released its right"
    );
}
