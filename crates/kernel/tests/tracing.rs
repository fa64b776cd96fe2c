//! Tracing by the kernel, driven through the state machine: records of sends and
//! receives, permissions, drops when the tracer falls behind, untracing, the death of the
//! tracer and of the traced task, and following spawned tasks. Every step checks the
//! kernel's invariants, which count the kernel's send right to each tracer port.

mod sim;

use std::time::{Duration, Instant};

use herd_kernel::{Action, Input};
use herd_wire::frame::{CallValue, PortCall};
use herd_wire::message::PortDescriptor;
use herd_wire::trace::{record_flags, record_id, Holder, TraceEvent, TraceRecord};
use herd_wire::{Disposition, KernError, PortName, ReceivedRight, Request, Response};
use sim::{msg, Sim};

/// The kernel task id of the task `conn` belongs to (the sim gives each task pid = conn).
fn task_id(s: &mut Sim, conn: u64) -> u64 {
    match s.call(conn, PortCall::Tasks) {
        Ok(CallValue::Tasks(v)) => v
            .iter()
            .find(|t| t.pid == conn as u32)
            .map(|t| t.task)
            .expect("task listed"),
        other => panic!("{other:?}"),
    }
}

fn trace(
    s: &mut Sim,
    tracer: u64,
    port: PortName,
    target: u64,
    follow: bool,
) -> Result<(), KernError> {
    s.call(
        tracer,
        PortCall::Trace {
            task: target,
            tracer: port,
            follow,
        },
    )
    .map(|_| ())
}

/// A tracer task with a record port that holds `qlimit` messages.
fn tracer(s: &mut Sim, uid: u32, qlimit: u32) -> (u64, PortName) {
    let t = s.task(uid);
    let port = s.port(t);
    s.call(
        t,
        PortCall::SetQlimit {
            name: port,
            limit: qlimit,
        },
    )
    .unwrap();
    (t, port)
}

/// Every record queued on the tracer's port.
fn records(s: &mut Sim, tracer: u64, port: PortName) -> Vec<TraceRecord> {
    let mut out = Vec::new();
    while let Ok(m) = s.recv_now(tracer, port) {
        assert!(record_id::is_record(m.header.id));
        assert!(
            m.ports.is_empty() && m.ool.is_empty(),
            "records carry no rights"
        );
        out.push(TraceRecord::decode(m.header.id, &m.data).expect("records parse"));
    }
    out
}

/// A server with a port and a client it spawned holding a send right to it; the client
/// has a reply port. Returns (server, client, sport, cport, to_server).
fn pair(s: &mut Sim) -> (u64, u64, PortName, PortName, PortName) {
    let server = s.task(1000);
    let sport = s.port(server);
    s.call(
        server,
        PortCall::SetQlimit {
            name: sport,
            limit: 1024,
        },
    )
    .unwrap();
    let (client, names) = s.spawn(
        server,
        vec![PortDescriptor::send(sport, Disposition::MakeSend)],
    );
    let cport = s.port(client);
    (server, client, sport, cport, names[0])
}

fn rpc(s: &mut Sim, client: u64, to_server: PortName, cport: PortName, data: &[u8]) {
    let mut m = msg(to_server, Disposition::CopySend, 1001);
    m.header.reply = PortDescriptor::send(cport, Disposition::MakeSendOnce);
    m.data = data.to_vec();
    s.send(client, m);
}

#[test]
fn a_traced_client_shows_its_request_and_the_reply_paired_by_port() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    let (t, tport) = tracer(&mut s, 1000, 64);
    let client_id = task_id(&mut s, client);
    let server_id = task_id(&mut s, server);
    trace(&mut s, t, tport, client_id, false).unwrap();
    rpc(&mut s, client, to_server, cport, b"hi");
    let req = s.recv_now(server, sport).unwrap();
    let mut reply = msg(req.header.reply.name, Disposition::MoveSendOnce, 1101);
    reply.data = vec![0, 0, 0, 0];
    s.send(server, reply);
    let got = s.recv_now(client, cport).unwrap();
    assert_eq!(got.header.id, 1101);

    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 2, "{recs:#?}");
    let TraceEvent::Send(sent) = &recs[0].event else {
        panic!("{recs:?}")
    };
    assert_eq!(recs[0].task.task, client_id);
    assert_eq!(recs[0].task.pid, client as u32);
    assert_eq!(sent.id, 1001);
    assert_eq!(sent.status, 0);
    assert_eq!(sent.data, b"hi");
    assert_eq!(sent.dest.name, to_server);
    assert_eq!(sent.dest.kind, Disposition::CopySend as u8);
    match &sent.dest.receiver {
        Holder::Task(r) => {
            assert_eq!(r.task, server_id);
            assert_eq!(r.pid, server as u32);
            assert_eq!(r.label, format!("t{server}"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sent.reply.kind, Disposition::MakeSendOnce as u8);
    assert!(matches!(&sent.reply.receiver, Holder::Task(r) if r.task == client_id));
    let TraceEvent::Receive(back) = &recs[1].event else {
        panic!("{recs:?}")
    };
    assert_eq!(back.id, 1101);
    assert_eq!(back.dest.name, cport);
    assert_eq!(back.dest.kind, ReceivedRight::SendOnce as u8);
    assert_eq!(
        back.dest.port_id, sent.reply.port_id,
        "the reply arrives on the request's reply port"
    );
    assert_ne!(sent.reply.port_id, 0);
    assert!(recs[1].time_ns >= recs[0].time_ns);
}

#[test]
fn a_traced_server_shows_what_it_is_asked_and_by_whom() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    let (t, tport) = tracer(&mut s, 1000, 64);
    let client_id = task_id(&mut s, client);
    let server_id = task_id(&mut s, server);
    trace(&mut s, t, tport, server_id, false).unwrap();
    rpc(&mut s, client, to_server, cport, b"x");
    let req = s.recv_now(server, sport).unwrap();
    s.send(
        server,
        msg(req.header.reply.name, Disposition::MoveSendOnce, 1101),
    );
    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 2, "{recs:#?}");
    let TraceEvent::Receive(asked) = &recs[0].event else {
        panic!("{recs:?}")
    };
    assert_eq!(asked.dest.name, sport);
    assert_eq!(asked.seqno, 0);
    assert_eq!(asked.reply.kind, ReceivedRight::SendOnce as u8);
    assert!(
        matches!(&asked.reply.receiver, Holder::Task(r) if r.task == client_id && r.pid == client as u32)
    );
    let TraceEvent::Send(answer) = &recs[1].event else {
        panic!("{recs:?}")
    };
    assert_eq!(
        answer.dest.port_id, asked.reply.port_id,
        "paired by reply port"
    );
    assert_eq!(answer.dest.kind, Disposition::MoveSendOnce as u8);
}

#[test]
fn only_the_owner_or_the_superuser_may_trace() {
    let mut s = Sim::new();
    let (_server, client, _sport, _cport, _to_server) = pair(&mut s);
    let client_id = task_id(&mut s, client);
    let (other, oport) = tracer(&mut s, 1001, 8);
    assert_eq!(
        trace(&mut s, other, oport, client_id, false),
        Err(KernError::NotPermitted)
    );
    assert_eq!(
        s.call(other, PortCall::TaskNamesOf(client_id)),
        Err(KernError::NotPermitted)
    );
    assert_eq!(
        trace(&mut s, other, oport, 999_999, false),
        Err(KernError::InvalidTask)
    );
    assert_eq!(
        trace(&mut s, other, oport, u64::MAX, false),
        Err(KernError::InvalidTask)
    );
    let (root, rport) = tracer(&mut s, 0, 8);
    trace(&mut s, root, rport, client_id, false).unwrap();
    // One tracer at a time.
    let (owner, wport) = tracer(&mut s, 1000, 8);
    assert_eq!(
        trace(&mut s, owner, wport, client_id, false),
        Err(KernError::NameExists)
    );
    // Nothing to trace records to.
    let owner_id = task_id(&mut s, owner);
    assert_eq!(
        trace(&mut s, root, PortName(0x4242), owner_id, false),
        Err(KernError::InvalidName)
    );
    assert_eq!(
        s.call(other, PortCall::Untrace(client_id)),
        Err(KernError::NotPermitted)
    );
    s.call(root, PortCall::Untrace(client_id)).unwrap();
    assert_eq!(
        s.call(root, PortCall::Untrace(client_id)),
        Err(KernError::InvalidArgument)
    );
}

#[test]
fn a_task_cannot_be_traced_to_its_own_port() {
    let mut s = Sim::new();
    let (server, _client, sport, _cport, _to_server) = pair(&mut s);
    let server_id = task_id(&mut s, server);
    assert_eq!(
        trace(&mut s, server, sport, server_id, false),
        Err(KernError::InvalidArgument)
    );
    assert_eq!(
        s.stats().send_rights,
        1,
        "the right taken for it was given back"
    );
}

#[test]
fn a_full_tracer_queue_drops_and_counts_without_slowing_the_task() {
    let mut s = Sim::new();
    let (server, client, sport, _cport, to_server) = pair(&mut s);
    let (t, tport) = tracer(&mut s, 1000, 1);
    let client_id = task_id(&mut s, client);
    trace(&mut s, t, tport, client_id, false).unwrap();
    for i in 0..10u8 {
        let mut m = msg(to_server, Disposition::CopySend, 1007);
        m.data = vec![i];
        // A zero send timeout: any wait for the tracer would fail the send.
        assert_eq!(s.try_send(client, m), Ok(()));
    }
    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].dropped, 0);
    s.send(client, msg(to_server, Disposition::CopySend, 1007));
    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].dropped, 9, "the count rides on the next record");
    for _ in 0..11 {
        s.recv_now(server, sport).unwrap();
    }
}

#[test]
fn a_burst_of_100000_messages_is_dropped_and_counted_never_held() {
    let mut s = Sim::new();
    let (server, client, sport, _cport, to_server) = pair(&mut s);
    let (t, tport) = tracer(&mut s, 1000, 1024);
    let client_id = task_id(&mut s, client);
    trace(&mut s, t, tport, client_id, false).unwrap();
    // Straight through the state machine (the harness's per-step recount would dominate).
    for i in 0..100_000u32 {
        let frame =
            |conn, message: Option<herd_wire::Message>, rcv: Option<PortName>| Input::Frame {
                conn,
                request: Request::MachMsg {
                    options: if message.is_some() { 1 } else { 2 },
                    send_timeout: Some(Duration::ZERO),
                    rcv_name: rcv.unwrap_or(PortName::NULL),
                    rcv_timeout: Some(Duration::ZERO),
                    message,
                },
                fds: Vec::new(),
            };
        let mut m = msg(to_server, Disposition::CopySend, 1007);
        m.data = i.to_le_bytes().to_vec();
        s.k.handle(Instant::now(), frame(client, Some(m), None));
        s.k.handle(Instant::now(), frame(server, None, Some(sport)));
        for a in s.k.take_actions() {
            if let Action::Send {
                conn,
                response: Response::Msg { result, .. },
                ..
            } = a
            {
                assert!(conn == client || conn == server);
                assert_eq!(result, Ok(()), "message {i}: the task never waits");
            }
        }
    }
    s.k.check_invariants().unwrap();
    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 1024);
    s.send(client, msg(to_server, Disposition::CopySend, 1007));
    let last = records(&mut s, t, tport);
    assert_eq!(last.len(), 1);
    assert_eq!(recs.len() as u64 + last[0].dropped, 100_000);
    s.recv_now(server, sport).unwrap();
}

#[test]
fn no_records_after_untrace_and_counts_go_back() {
    let mut s = Sim::new();
    let (_server, client, _sport, cport, to_server) = pair(&mut s);
    let (t, tport) = tracer(&mut s, 1000, 64);
    let client_id = task_id(&mut s, client);
    let before = s.stats();
    trace(&mut s, t, tport, client_id, false).unwrap();
    assert_eq!(
        s.stats().send_rights,
        before.send_rights + 1,
        "the kernel's right"
    );
    s.call(t, PortCall::Untrace(client_id)).unwrap();
    assert_eq!(s.stats(), before);
    rpc(&mut s, client, to_server, cport, b"quiet");
    assert!(records(&mut s, t, tport).is_empty());
}

#[test]
fn the_tracers_death_ends_the_trace_and_frees_its_port() {
    let mut s = Sim::new();
    let (server, client, sport, _cport, to_server) = pair(&mut s);
    let client_id = task_id(&mut s, client);
    let before = s.stats();
    let (t, tport) = tracer(&mut s, 1000, 64);
    trace(&mut s, t, tport, client_id, false).unwrap();
    s.send(client, msg(to_server, Disposition::CopySend, 1007));
    s.close(t);
    assert!(s.recv_now(server, sport).is_ok());
    assert_eq!(
        s.stats(),
        before,
        "the tracer's port, its record and the kernel's right are gone"
    );
    s.send(client, msg(to_server, Disposition::CopySend, 1007));
    assert!(s.recv_now(server, sport).is_ok());
    // Destroying the record port (without dying) ends the trace as well.
    let (t, tport) = tracer(&mut s, 1000, 64);
    trace(&mut s, t, tport, client_id, false).unwrap();
    s.call(t, PortCall::Destroy(tport)).unwrap();
    s.close(t);
    assert_eq!(s.stats(), before);
}

#[test]
fn the_traced_tasks_death_is_its_last_record() {
    let mut s = Sim::new();
    let (server, client, sport, _cport, to_server) = pair(&mut s);
    let client_id = task_id(&mut s, client);
    let (t, tport) = tracer(&mut s, 1000, 1);
    trace(&mut s, t, tport, client_id, false).unwrap();
    s.send(client, msg(to_server, Disposition::CopySend, 1007));
    s.send(client, msg(to_server, Disposition::CopySend, 1007));
    s.close(client);
    let recs = records(&mut s, t, tport);
    assert_eq!(
        recs.len(),
        2,
        "the exit record passes a full queue: {recs:?}"
    );
    assert_eq!(recs[1].event, TraceEvent::Exit);
    assert_eq!(recs[1].dropped, 1);
    assert_eq!(recs[1].task.task, client_id);
    // The kernel's right went with the task.
    s.close(t);
    for _ in 0..2 {
        s.recv_now(server, sport).unwrap();
    }
    assert_eq!(s.stats().send_rights, 0);
}

#[test]
fn a_refused_send_is_recorded_with_its_error_and_a_blocked_one_as_blocked() {
    let mut s = Sim::new();
    let (server, client, sport, _cport, to_server) = pair(&mut s);
    let client_id = task_id(&mut s, client);
    let (t, tport) = tracer(&mut s, 1000, 64);
    trace(&mut s, t, tport, client_id, false).unwrap();
    assert_eq!(
        s.try_send(client, msg(PortName(0x777), Disposition::CopySend, 1000)),
        Err(KernError::SendInvalidDest)
    );
    s.call(
        server,
        PortCall::SetQlimit {
            name: sport,
            limit: 1,
        },
    )
    .unwrap();
    s.send(client, msg(to_server, Disposition::CopySend, 1007));
    assert_eq!(
        s.msg(
            client,
            Some(msg(to_server, Disposition::CopySend, 1007)),
            None,
            None
        ),
        None,
        "the client waits for room"
    );
    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 3);
    let TraceEvent::Send(bad) = &recs[0].event else {
        panic!()
    };
    assert_eq!(bad.status, KernError::SendInvalidDest.code());
    assert_eq!(bad.dest.name, PortName(0x777));
    assert_eq!(bad.dest.port_id, 0);
    let TraceEvent::Send(blocked) = &recs[2].event else {
        panic!()
    };
    assert_eq!(blocked.flags & record_flags::BLOCKED, record_flags::BLOCKED);
    s.recv_now(server, sport).unwrap();
    assert!(matches!(
        s.take(client),
        Some(Response::Msg { result: Ok(()), .. })
    ));
}

/// `SpawnTraced` from `parent`; returns the child's connection.
fn spawn_traced(s: &mut Sim, parent: u64, tport: PortName, follow: bool) -> u64 {
    s.k.handle(
        s.now,
        Input::Frame {
            conn: parent,
            request: Request::Call(PortCall::SpawnTraced {
                program: "/bin/true".into(),
                args: vec![],
                env: vec![],
                rights: vec![],
                tracer: tport,
                follow,
            }),
            fds: Vec::new(),
        },
    );
    let child =
        s.k.take_actions()
            .into_iter()
            .find_map(|a| match a {
                Action::Spawn(o) => Some(o.child),
                _ => None,
            })
            .expect("a spawn order");
    s.k.handle(
        s.now,
        Input::Spawned {
            child,
            result: Ok(child as u32),
        },
    );
    for a in s.k.take_actions() {
        if let Action::Send { conn, response, .. } = a {
            assert_eq!(conn, parent);
            assert!(matches!(
                response,
                Response::Call(Ok(CallValue::Spawned { .. }))
            ));
        }
    }
    s.k.check_invariants().unwrap();
    child
}

#[test]
fn spawn_traced_arms_the_trace_before_the_child_runs_and_follow_reaches_grandchildren() {
    let mut s = Sim::new();
    let (t, tport) = tracer(&mut s, 1000, 64);
    let child = spawn_traced(&mut s, t, tport, true);
    let cid = task_id(&mut s, child);
    assert!(
        records(&mut s, t, tport).is_empty(),
        "the tracer itself is not traced"
    );
    // The child's first act is recorded: it spawns a grandchild, which is traced too.
    let (grandchild, _) = s.spawn(child, vec![]);
    let gid = task_id(&mut s, grandchild);
    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0].task.task, cid);
    match &recs[0].event {
        TraceEvent::Spawned { child, followed } => {
            assert_eq!(child.task, gid);
            assert_eq!(child.pid, grandchild as u32);
            assert!(followed);
        }
        other => panic!("{other:?}"),
    }
    let gport = s.port(grandchild);
    let gsend = s.make_send(grandchild, gport);
    s.send(grandchild, msg(gsend, Disposition::CopySend, 1007));
    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].task.task, gid);
    s.recv_now(grandchild, gport).unwrap();
    let recs = records(&mut s, t, tport);
    assert!(matches!(recs[0].event, TraceEvent::Receive(_)));
    // Without follow, a child's children are not traced.
    let lone = spawn_traced(&mut s, t, tport, false);
    let (lone_child, _) = s.spawn(lone, vec![]);
    let recs = records(&mut s, t, tport);
    assert!(
        matches!(&recs[..], [r] if matches!(r.event, TraceEvent::Spawned { followed: false, .. }))
    );
    let lport = s.port(lone_child);
    let lsend = s.make_send(lone_child, lport);
    s.send(lone_child, msg(lsend, Disposition::CopySend, 1007));
    assert!(records(&mut s, t, tport).is_empty());
    // Everything goes away with the tasks.
    for c in [grandchild, child, lone_child, lone] {
        s.close(c);
    }
    let exits = records(&mut s, t, tport)
        .into_iter()
        .filter(|r| r.event == TraceEvent::Exit)
        .count();
    assert_eq!(exits, 3);
    s.close(t);
    let st = s.stats();
    assert_eq!((st.tasks, st.ports, st.send_rights), (0, 0, 0), "{st:?}");
}

#[test]
fn a_traced_task_receiving_records_does_not_trace_them() {
    let mut s = Sim::new();
    let (t, tport) = tracer(&mut s, 1000, 64);
    let a = s.task(1000);
    let aid = task_id(&mut s, a);
    let tid = task_id(&mut s, t);
    // The tracer is itself traced, to a port of `a`'s.
    let aport = s.port(a);
    trace(&mut s, t, tport, aid, false).unwrap();
    trace(&mut s, a, aport, tid, false).unwrap();
    let aself = s.port(a);
    let aself_send = s.make_send(a, aself);
    s.send(a, msg(aself_send, Disposition::CopySend, 1007));
    // The tracer receives a's send record; that receive is not itself recorded.
    assert_eq!(records(&mut s, t, tport).len(), 1);
    assert!(records(&mut s, a, aport).is_empty());
}

#[test]
fn attaching_to_a_task_blocked_in_an_rpc_shows_the_call_waiting_on_its_reply_port() {
    let mut s = Sim::new();
    let (server, client, sport, cport, to_server) = pair(&mut s);
    let client_id = task_id(&mut s, client);
    let server_id = task_id(&mut s, server);
    // The client sends its request and waits on its reply port (one frame, as rpc does).
    let mut m = msg(to_server, Disposition::CopySend, 1001);
    m.header.reply = PortDescriptor::send(cport, Disposition::MakeSendOnce);
    assert_eq!(s.msg(client, Some(m), None, Some((cport, None))), None);
    // The server waits for more work.
    let req = s.recv_now(server, sport).unwrap();
    assert_eq!(s.msg(server, None, None, Some((sport, None))), None);
    let (t, tport) = tracer(&mut s, 1000, 64);
    trace(&mut s, t, tport, client_id, false).unwrap();
    trace(&mut s, t, tport, server_id, false).unwrap();
    let recs = records(&mut s, t, tport);
    assert_eq!(recs.len(), 2, "{recs:#?}");
    let TraceEvent::Waiting {
        sending: false,
        port: ref waited,
        in_call: true,
        ..
    } = recs[0].event
    else {
        panic!("{recs:?}")
    };
    assert_eq!(waited.name, cport);
    assert!(matches!(
        recs[1].event,
        TraceEvent::Waiting {
            sending: false,
            in_call: false,
            ..
        }
    ));
    // The reply comes: it arrives on the port the call waited on.
    let worker = s.thread(server);
    s.send(
        worker,
        msg(req.header.reply.name, Disposition::MoveSendOnce, 1101),
    );
    assert!(matches!(
        s.take(client),
        Some(Response::Msg { result: Ok(()), .. })
    ));
    let recs = records(&mut s, t, tport);
    let TraceEvent::Receive(reply) = &recs
        .iter()
        .find(|r| r.task.task == client_id)
        .expect("the client's record")
        .event
    else {
        panic!("{recs:?}")
    };
    assert_eq!(reply.dest.port_id, waited.port_id);
}
