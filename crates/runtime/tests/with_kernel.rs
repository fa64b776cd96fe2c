//! The runtime against a real kernel running in this process: rpc, server pools, RAII
//! accounting, timeouts, dead servers, and a second task in a child process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use herd_runtime::server::{serve, ServeOptions};
use herd_runtime::{
    notify_id, reply_id, Disposition, KernelStats, OutMessage, PortArg, PortCall, PortDescriptor,
    ReceiveRight, Received, Region, Right, RpcError, SendError, Task,
};
use herd_testing::{kernel, wait_until, LONG};

/// An echo reply: the request's data, regions and rights, with the reply id.
fn echo(req: Received) -> Option<OutMessage> {
    let mut out = OutMessage::new(PortArg::Null, reply_id(req.id));
    out.data = req.data;
    out.ool = req.ool;
    out.ports = req.ports.into_iter().map(PortArg::from).collect();
    Some(out)
}

/// Runs `serve` on a thread; the receiver yields its result when it returns.
fn spawn_server<H>(
    task: &Task,
    port: &ReceiveRight,
    handler: H,
    opts: ServeOptions,
) -> mpsc::Receiver<Result<(), herd_runtime::server::ServeError>>
where
    H: Fn(Received) -> Option<OutMessage> + Send + Sync + 'static,
{
    let (task, name) = (task.clone(), port.name());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(serve(&task, name, handler, opts));
    });
    rx
}

fn request(dest: &herd_runtime::SendRight, id: u32, data: &[u8]) -> OutMessage {
    let mut m = OutMessage::new(PortArg::CopySend(dest.name()), id);
    m.data = data.to_vec();
    m
}

/// The counters that RAII must bring back (connections and tasks come and go with threads).
fn rights_counters(s: KernelStats) -> [u64; 6] {
    [
        s.ports,
        s.port_sets,
        s.names,
        s.queued_messages,
        s.send_rights,
        s.send_once_rights,
    ]
}

#[test]
fn rpc_through_a_server_pool_carries_data_regions_and_rights() {
    let (_k, task) = kernel("rpc");
    let port = task.allocate_port().unwrap();
    let to_server = port.make_send().unwrap();
    let done = spawn_server(&task, &port, echo, ServeOptions::default());

    let mut m = request(&to_server, 1000, b"hello");
    m.ool = vec![Region::from_bytes("blob", &[7u8; 10_000]).unwrap()];
    let carried = task.allocate_port().unwrap();
    m.ports = vec![PortArg::MakeSend(carried.name())];
    let reply = task.rpc(m, Some(LONG)).unwrap();
    assert_eq!(reply.id, 1100);
    assert_eq!(reply.data, b"hello");
    assert_eq!(reply.ool[0].read().unwrap(), vec![7u8; 10_000]);
    // The same port comes back under the same name (one name per port in a space).
    assert!(matches!(&reply.ports[..], [Right::Send(s)] if s.name() == carried.name()));

    drop(port);
    let result = done
        .recv_timeout(LONG)
        .expect("serve returns when its port dies");
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn many_threads_do_many_rpcs_and_each_gets_its_own_answer() {
    let (_k, task) = kernel("many");
    let port = task.allocate_port().unwrap();
    let to_server = port.make_send().unwrap();
    let opts = ServeOptions {
        max_threads: 4,
        ..ServeOptions::default()
    };
    let done = spawn_server(&task, &port, echo, opts);
    let clients: Vec<_> = (0..8u32)
        .map(|t| {
            let (task, dest) = (task.clone(), to_server.clone());
            thread::spawn(move || {
                for i in 0..1000u32 {
                    let data = [t.to_le_bytes(), i.to_le_bytes()].concat();
                    let id = 2000 + (i % 7);
                    let reply = task.rpc(request(&dest, id, &data), Some(LONG)).unwrap();
                    assert_eq!((reply.id, &reply.data), (id + 100, &data));
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    drop(port);
    assert!(done.recv_timeout(LONG).expect("serve returns").is_ok());
}

#[test]
fn dropping_rights_brings_the_kernel_counters_back() {
    let (_k, task) = kernel("raii");
    let start = task.stats().unwrap();
    {
        let port = task.allocate_port().unwrap();
        let set = task.allocate_port_set().unwrap();
        let member = task.allocate_port().unwrap();
        set.insert(&member).unwrap();
        let send = port.make_send().unwrap();
        let copies: Vec<_> = (0..3).map(|_| send.clone()).collect();
        let once = port.make_send_once().unwrap();
        // A queued message carrying rights, received and dropped.
        let mut m = OutMessage::new(once, 5);
        m.ports = vec![
            PortArg::MakeSend(member.name()),
            PortArg::MoveSend(copies[0].clone()),
        ];
        task.send(m, Some(LONG)).unwrap();
        // And one left queued, destroyed with its port.
        task.send(OutMessage::new(send.clone(), 6), Some(LONG))
            .unwrap();
        let got = task.receive(port.name(), Some(LONG)).unwrap();
        assert_eq!(got.id, 5);
        assert!(task.stats().unwrap().names > start.names);
        // Rpcs from other threads leave their reply ports and connections behind until
        // those threads exit.
        let served = task.allocate_port().unwrap();
        let to_served = served.make_send().unwrap();
        let done = spawn_server(&task, &served, echo, ServeOptions::default());
        let client = {
            let task = task.clone();
            thread::spawn(move || {
                task.rpc(request(&to_served, 10, b"x"), Some(LONG)).unwrap();
            })
        };
        client.join().unwrap();
        drop((got, copies, set, member));
        drop(served);
        assert!(done.recv_timeout(LONG).unwrap().is_ok());
    }
    wait_until("the counters to come back", || {
        let now = task.stats().unwrap();
        rights_counters(now) == rights_counters(start) && now.connections == start.connections
    });
}

/// A handler that holds every request until released, counting how many it holds.
#[derive(Default)]
struct Gate {
    state: Mutex<(usize, usize, bool)>, // (active, peak, open)
    changed: Condvar,
}

impl Gate {
    fn pass(&self) {
        let mut s = self.state.lock().unwrap();
        s.0 += 1;
        s.1 = s.1.max(s.0);
        self.changed.notify_all();
        while !s.2 {
            s = self.changed.wait(s).unwrap();
        }
        s.0 -= 1;
    }
    fn wait_active(&self, n: usize) {
        let s = self.state.lock().unwrap();
        let (s, timeout) = self
            .changed
            .wait_timeout_while(s, LONG, |s| s.0 < n)
            .unwrap();
        assert!(!timeout.timed_out(), "{} handlers active, wanted {n}", s.0);
    }
    fn open(&self) {
        self.state.lock().unwrap().2 = true;
        self.changed.notify_all();
    }
    fn peak(&self) -> usize {
        self.state.lock().unwrap().1
    }
}

#[test]
fn the_pool_grows_under_load_up_to_its_limit_and_shrinks_when_idle() {
    let (_k, task) = kernel("pool");
    let port = task.allocate_port().unwrap();
    let to_server = port.make_send().unwrap();
    let gate = Arc::new(Gate::default());
    let handler = {
        let gate = Arc::clone(&gate);
        move |req: Received| {
            gate.pass();
            echo(req)
        }
    };
    let opts = ServeOptions {
        max_threads: 3,
        idle_timeout: Duration::from_millis(50),
        ..ServeOptions::default()
    };
    let done = spawn_server(&task, &port, handler, opts);
    let clients: Vec<_> = (0..5u8)
        .map(|i| {
            let (task, dest) = (task.clone(), to_server.clone());
            thread::spawn(move || {
                let reply = task.rpc(request(&dest, 1, &[i]), Some(LONG)).unwrap();
                assert_eq!(reply.data, [i]);
            })
        })
        .collect();
    // Three requests are handled at once; the other two wait in the queue.
    gate.wait_active(3);
    wait_until("two requests queued", || {
        port.status().unwrap().msgcount == 2
    });
    assert_eq!(gate.peak(), 3);
    gate.open();
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(gate.peak(), 3, "the pool never passes max_threads");
    // Idle threads leave; one stays waiting.
    wait_until("the pool to shrink to one waiting thread", || {
        port.status().unwrap().waiting_receivers == 1
    });
    let reply = task
        .rpc(request(&to_server, 1, b"again"), Some(LONG))
        .unwrap();
    assert_eq!(reply.data, b"again");
    drop(port);
    assert!(done.recv_timeout(LONG).unwrap().is_ok());
}

#[test]
fn serve_stops_when_asked() {
    let (_k, task) = kernel("stop");
    let port = task.allocate_port().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let opts = ServeOptions {
        idle_timeout: Duration::from_millis(20),
        stop: Some(Arc::clone(&stop)),
        ..ServeOptions::default()
    };
    let done = spawn_server(&task, &port, echo, opts);
    stop.store(true, Ordering::Relaxed);
    assert!(done.recv_timeout(LONG).expect("serve returns").is_ok());
    assert!(port.status().is_ok(), "the port outlives the pool");
}

#[test]
fn a_timed_out_rpc_never_takes_a_late_reply_for_the_next_answer() {
    let (_k, task) = kernel("timeout");
    let port = task.allocate_port().unwrap();
    let to_server = port.make_send().unwrap();
    let gate = Arc::new(Gate::default());
    let handler = {
        let gate = Arc::clone(&gate);
        move |req: Received| {
            if req.data == b"slow" {
                gate.pass();
            }
            echo(req)
        }
    };
    let done = spawn_server(&task, &port, handler, ServeOptions::default());
    let err = task
        .rpc(
            request(&to_server, 1, b"slow"),
            Some(Duration::from_millis(30)),
        )
        .unwrap_err();
    assert!(matches!(err, RpcError::Timeout), "{err:?}");
    gate.wait_active(1);
    gate.open();
    // The late reply to "slow" goes to a dead reply port; the same routine again gets
    // its own answer.
    for _ in 0..3 {
        let reply = task
            .rpc(request(&to_server, 1, b"fast"), Some(LONG))
            .unwrap();
        assert_eq!(reply.data, b"fast");
    }
    drop(port);
    assert!(done.recv_timeout(LONG).unwrap().is_ok());
}

#[test]
fn a_server_that_drops_the_reply_right_is_reported_dead() {
    let (_k, task) = kernel("noreply");
    let port = task.allocate_port().unwrap();
    let to_server = port.make_send().unwrap();
    let done = spawn_server(&task, &port, |_req| None, ServeOptions::default());
    let err = task
        .rpc(request(&to_server, 1, b""), Some(LONG))
        .unwrap_err();
    assert!(err.is_server_died(), "{err:?}");
    drop(port);
    assert!(done.recv_timeout(LONG).unwrap().is_ok());
}

#[test]
fn sending_to_a_dead_port_reports_a_dead_server() {
    let (_k, task) = kernel("dead");
    let port = task.allocate_port().unwrap();
    let to_server = port.make_send().unwrap();
    drop(port);
    let err = task
        .rpc(request(&to_server, 1, b"?"), Some(LONG))
        .unwrap_err();
    assert!(matches!(err, RpcError::ServerDied), "{err:?}");
    assert_eq!(err.errno(), herd_runtime::Errno::EDIED);
    let err = task
        .send(request(&to_server, 1, b"?"), Some(LONG))
        .unwrap_err();
    assert!(matches!(err, SendError::ServerDied), "{err:?}");
}

#[test]
fn a_full_queue_times_out_and_hands_the_message_back() {
    let (_k, task) = kernel("full");
    let port = task.allocate_port().unwrap();
    port.set_qlimit(1).unwrap();
    let to_port = port.make_send().unwrap();
    task.send(request(&to_port, 1, b"fills"), Some(LONG))
        .unwrap();
    let start = task.stats().unwrap();
    let mut m = request(&to_port, 2, b"waits");
    m.ports = vec![PortArg::MoveSend(to_port.clone())];
    let err = task.send(m, Some(Duration::from_millis(20))).unwrap_err();
    let SendError::TimedOut {
        returned: Some(returned),
    } = err
    else {
        panic!("expected the message back, got {err:?}");
    };
    assert_eq!(returned.message.data, b"waits");
    assert!(matches!(&returned.message.ports[..], [Right::Send(s)] if s.name() == to_port.name()));
    drop(returned);
    // The right moved into the message came back and was released with it.
    assert_eq!(
        rights_counters(task.stats().unwrap()),
        rights_counters(start)
    );
}

#[test]
fn no_senders_notification_follows_the_last_send_right() {
    let (_k, task) = kernel("nosenders");
    let port = task.allocate_port().unwrap();
    let notify = task.allocate_port().unwrap();
    let send = port.make_send().unwrap();
    let copy = send.clone();
    assert!(port.request_no_senders(0, &notify).unwrap().is_none());
    drop(send);
    assert!(task.receive(notify.name(), Some(Duration::ZERO)).is_err());
    drop(copy);
    let n = task.receive(notify.name(), Some(LONG)).unwrap();
    assert_eq!(n.id, notify_id::NO_SENDERS);
}

#[test]
fn a_port_set_serves_every_member() {
    let (_k, task) = kernel("set");
    let set = task.allocate_port_set().unwrap();
    let a = task.allocate_port().unwrap();
    let b = task.allocate_port().unwrap();
    set.insert(&a).unwrap();
    set.insert(&b).unwrap();
    let mut members = set.members().unwrap();
    members.sort();
    let mut expected = vec![a.name(), b.name()];
    expected.sort();
    assert_eq!(members, expected);
    let (task2, set_name) = (task.clone(), set.name());
    let (tx, done) = mpsc::channel();
    let a_name = a.name();
    thread::spawn(move || {
        let handler = move |req: Received| {
            let mut out = echo(req)?;
            out.data.push(u8::from(out.id == 1100));
            Some(out)
        };
        let _ = tx.send(serve(&task2, set_name, handler, ServeOptions::default()));
    });
    let (to_a, to_b) = (a.make_send().unwrap(), b.make_send().unwrap());
    assert_eq!(
        task.rpc(request(&to_a, 1000, b"a"), Some(LONG))
            .unwrap()
            .data,
        b"a\x01"
    );
    assert_eq!(
        task.rpc(request(&to_b, 1001, b"b"), Some(LONG))
            .unwrap()
            .data,
        b"b\x00"
    );
    assert_eq!(a_name, a.name());
    drop(set);
    assert!(done.recv_timeout(LONG).unwrap().is_ok());
}

const CHILD: &str = "HERD_RUNTIME_TEST_CHILD";
const QUIT: u32 = 9000;

/// The other side of `a_second_task_in_a_child_process_serves_and_dies`: a task spawned by
/// the kernel, holding the receive right it was given, echoing until told to quit.
#[test]
#[ignore = "runs in a child process started by a_second_task_in_a_child_process_serves_and_dies"]
fn child_echo_server() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "only runs as a spawned task"
    );
    let task = Task::from_env("child").expect("a spawned task finds its connection");
    let port = ReceiveRight::from_name(&task, task.initial_ports()[0]);
    let stop = Arc::new(AtomicBool::new(false));
    let opts = ServeOptions {
        idle_timeout: Duration::from_millis(20),
        stop: Some(Arc::clone(&stop)),
        ..ServeOptions::default()
    };
    let handler = move |req: Received| {
        if req.id == QUIT {
            stop.store(true, Ordering::Relaxed);
        }
        echo(req)
    };
    serve(&task, port.name(), handler, opts).unwrap();
}

#[test]
fn a_second_task_in_a_child_process_serves_and_dies() {
    let (_k, task) = kernel("parent");
    let port = task.allocate_port().unwrap();
    let to_child = port.make_send().unwrap();
    let exe = std::env::current_exe()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let spawned = task.call(PortCall::Spawn {
        program: exe.clone(),
        args: vec![
            exe,
            "--exact".into(),
            "child_echo_server".into(),
            "--ignored".into(),
            "--quiet".into(),
        ],
        env: vec![format!("{CHILD}=1")],
        rights: vec![PortDescriptor::send(
            port.into_name(),
            Disposition::MoveReceive,
        )],
    });
    assert!(
        matches!(spawned, Ok(herd_runtime::CallValue::Spawned { .. })),
        "{spawned:?}"
    );

    let mine = task.allocate_port().unwrap();
    let mut m = request(&to_child, 1000, b"across");
    m.ports = vec![PortArg::MakeSend(mine.name())];
    let reply = task.rpc(m, Some(LONG)).unwrap();
    assert_eq!(reply.data, b"across");
    assert!(matches!(&reply.ports[..], [Right::Send(s)] if s.name() == mine.name()));

    let notify = task.allocate_port().unwrap();
    to_child.request_dead_name(&notify).unwrap();
    task.rpc(request(&to_child, QUIT, b""), Some(LONG)).unwrap();
    let n = task
        .receive(notify.name(), Some(LONG))
        .expect("the child task dies");
    assert_eq!(n.id, notify_id::DEAD_NAME);
    let err = task
        .rpc(request(&to_child, 1000, b"?"), Some(LONG))
        .unwrap_err();
    assert!(err.is_server_died(), "{err:?}");
}
