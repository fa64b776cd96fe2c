//! The generated code against a real kernel: a `TestServer` served by
//! `herd_runtime::serve`, every client stub called through it (error paths included), and
//! the kernel's own notifications decoded by the generated `notify` dispatcher.
//!
//! Client and server share one task here (each thread has its own connection): a second
//! task in the same process would have no way to receive its first send right.

use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use herd_interfaces::reflect::describe;
use herd_interfaces::test::{self, TestServer};
use herd_interfaces::{notify, support, Request};
use herd_runtime::server::ServeError;
use herd_runtime::{
    serve, Errno, OutMessage, PortArg, PortName, ReceiveRight, Region, Right, ServeOptions, Task,
};
use herd_testing::kernel;

/// Long enough for any message on a loaded machine; only reached if something is broken.
const PATIENCE: Option<Duration> = Some(Duration::from_secs(20));

/// The server: answers from its arguments, keeps the ports it makes, reports pokes.
struct Server {
    task: Task,
    made: Mutex<Vec<ReceiveRight>>,
    pokes: Mutex<mpsc::Sender<u32>>,
}

impl TestServer for Server {
    fn ping(&self, _req: &Request) -> Result<(), Errno> {
        Ok(())
    }

    fn echo(&self, _req: &Request, data: Vec<u8>) -> Result<Vec<u8>, Errno> {
        Ok(data)
    }

    fn echo_region(&self, _req: &Request, data: Region) -> Result<Region, Errno> {
        let bytes = data.read().map_err(|_| Errno::EIO)?;
        Region::from_bytes("echo", &bytes).map_err(|_| Errno::ENOMEM)
    }

    fn add(&self, _req: &Request, a: i64, b: i64) -> Result<i64, Errno> {
        a.checked_add(b).ok_or(Errno::EINVAL)
    }

    fn give_port(&self, _req: &Request, right: Right) -> Result<PortName, Errno> {
        match right {
            Right::Send(s) => Ok(s.name()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn make_port(&self, _req: &Request) -> Result<PortArg, Errno> {
        let port = self.task.allocate_port().map_err(Errno::from)?;
        let name = port.name();
        self.made.lock().unwrap().push(port);
        Ok(PortArg::MakeSend(name))
    }

    fn fail(&self, _req: &Request, errno: i32) -> Result<(), Errno> {
        match errno {
            0 => Ok(()),
            e => Err(Errno(e)),
        }
    }

    fn poke(&self, _req: &Request, n: u32) {
        let _ = self.pokes.lock().unwrap().send(n);
    }
}

/// A served port: the server, its receive right, and the thread pool's first thread.
struct Served {
    server: Arc<Server>,
    port: ReceiveRight,
    pool: JoinHandle<Result<(), ServeError>>,
    pokes: mpsc::Receiver<u32>,
}

fn start_server(task: &Task) -> Served {
    let (tx, pokes) = mpsc::channel();
    let server = Arc::new(Server {
        task: task.clone(),
        made: Mutex::new(Vec::new()),
        pokes: Mutex::new(tx),
    });
    let port = task.allocate_port().unwrap();
    let (on, pool_task, handler) = (port.name(), task.clone(), Arc::clone(&server));
    let pool = std::thread::spawn(move || {
        serve(
            &pool_task,
            on,
            move |msg| test::dispatch(&*handler, msg),
            ServeOptions::default(),
        )
    });
    Served {
        server,
        port,
        pool,
        pokes,
    }
}

#[test]
fn every_stub_works_against_a_served_port() {
    let (_kernel, task) = kernel("interfaces-test");
    let served = start_server(&task);
    let server = served.port.make_send().unwrap();

    assert_eq!(test::ping(&task, &server), Ok(()));
    assert_eq!(test::echo(&task, &server, b"hello").unwrap(), b"hello");
    assert_eq!(test::echo(&task, &server, b"").unwrap(), b"");
    let big: Vec<u8> = (0..60_000u32).map(|i| i as u8).collect();
    assert_eq!(test::echo(&task, &server, &big).unwrap(), big);

    let pattern: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    let region = Region::from_bytes("req", &pattern).unwrap();
    let back = test::echo_region(&task, &server, region).unwrap();
    assert_eq!(back.len(), pattern.len() as u64);
    assert_eq!(back.read().unwrap(), pattern);

    assert_eq!(test::add(&task, &server, 40, 2), Ok(42));
    assert_eq!(test::add(&task, &server, i64::MAX, 1), Err(Errno::EINVAL));

    let other = task.allocate_port().unwrap();
    let other_send = other.make_send().unwrap();
    let same = test::give_port(&task, &server, PortArg::CopySend(other_send.name()));
    assert_eq!(
        same,
        Ok(other_send.name()),
        "one space: the right keeps its name"
    );

    let made = test::make_port(&task, &server).unwrap();
    let Right::Send(made) = made else {
        panic!("make_port gave {made:?}")
    };
    let kept: Vec<PortName> = served
        .server
        .made
        .lock()
        .unwrap()
        .iter()
        .map(ReceiveRight::name)
        .collect();
    assert_eq!(kept, [made.name()]);

    assert_eq!(test::fail(&task, &server, 0), Ok(()));
    assert_eq!(
        test::fail(&task, &server, Errno::ENOENT.0),
        Err(Errno::ENOENT)
    );
    assert_eq!(test::fail(&task, &server, -12345), Err(Errno(-12345)));

    assert_eq!(test::poke(&task, &server, 7), Ok(()));
    assert_eq!(served.pokes.recv_timeout(PATIENCE.unwrap()), Ok(7));

    // Many clients at once: the pool grows and every answer is the right one.
    let callers: Vec<_> = (0..4i64)
        .map(|t| {
            let (task, server) = (task.clone(), server.clone());
            std::thread::spawn(move || {
                for i in 0..50 {
                    assert_eq!(test::add(&task, &server, t * 1000, i), Ok(t * 1000 + i));
                }
            })
        })
        .collect();
    for c in callers {
        c.join().unwrap();
    }

    // The server goes away: its port dies, the pool ends, callers get EDIED.
    let Served { port, pool, .. } = served;
    drop(port);
    assert!(pool.join().unwrap().is_ok());
    assert_eq!(test::ping(&task, &server), Err(Errno::EDIED));
    assert_eq!(test::poke(&task, &server, 1), Err(Errno::EDIED));
}

#[test]
fn bad_requests_get_mig_errors_from_the_dispatcher() {
    let (_kernel, task) = kernel("interfaces-bad");
    let served = start_server(&task);
    let server = served.port.make_send().unwrap();
    let raw = |id: u32, data: Vec<u8>| OutMessage {
        dest: PortArg::CopySend(server.name()),
        id,
        data,
        ..OutMessage::default()
    };

    let reply = task.rpc(raw(1050, vec![1, 2, 3]), PATIENCE).unwrap();
    assert_eq!(reply.id, 1150);
    assert_eq!(
        support::decode_reply(reply, 1150, |_| Ok(())),
        Err(Errno::MIG_BAD_ID)
    );

    let reply = task
        .rpc(raw(test::ids::ADD, vec![1, 2, 3]), PATIENCE)
        .unwrap();
    assert_eq!(
        test::codec::decode_add_reply(reply),
        Err(Errno::MIG_BAD_ARGUMENTS)
    );

    let reply = task.rpc(raw(test::ids::PING, vec![0]), PATIENCE).unwrap();
    assert_eq!(
        test::codec::decode_ping_reply(reply),
        Err(Errno::MIG_BAD_ARGUMENTS)
    );

    // A send-once right where a send right belongs.
    let other = task.allocate_port().unwrap();
    let wrong = test::give_port(&task, &server, PortArg::MakeSendOnce(other.name()));
    assert_eq!(wrong, Err(Errno::MIG_BAD_ARGUMENTS));
    // A region that is not there.
    let reply = task
        .rpc(raw(test::ids::ECHO_REGION, Vec::new()), PATIENCE)
        .unwrap();
    assert_eq!(
        test::codec::decode_echo_region_reply(reply).unwrap_err(),
        Errno::MIG_BAD_ARGUMENTS
    );

    // The server still works after all that.
    assert_eq!(test::add(&task, &server, 1, 2), Ok(3));
    let Served { port, pool, .. } = served;
    drop(port);
    assert!(pool.join().unwrap().is_ok());
}

/// A notify server that writes down what it was told.
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl notify::NotifyServer for Notes {
    fn port_destroyed(&self, req: &Request, rights: Right) {
        let kind = match rights {
            Right::Receive(_) => "receive",
            _ => "other",
        };
        self.note(format!("{}: port destroyed, {kind} right", req.dest));
    }
    fn no_senders(&self, req: &Request, mscount: u32) {
        self.note(format!("{}: no senders, mscount {mscount}", req.dest));
    }
    fn send_once(&self, req: &Request) {
        self.note(format!("{}: send once", req.dest));
    }
    fn dead_name(&self, req: &Request, name: PortName) {
        self.note(format!("{}: dead name {name}", req.dest));
    }
}

impl Notes {
    fn note(&self, s: String) {
        self.0.lock().unwrap().push(s);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Receives one kernel notification on `port`, checks its description, and dispatches it.
fn next_notification(task: &Task, port: &ReceiveRight, notes: &Notes, described: &str) {
    let msg = task
        .receive(port.name(), PATIENCE)
        .expect("a notification arrives");
    assert_eq!(describe(msg.id, &msg.data, &[], &[]), described);
    assert!(
        notify::dispatch(notes, msg).is_none(),
        "notifications are not answered"
    );
}

#[test]
fn kernel_notifications_decode_through_the_generated_dispatcher() {
    let (_kernel, task) = kernel("interfaces-notify");
    let notes = Notes::default();
    let inbox = task.allocate_port().unwrap();
    let n = inbox.name();

    // No senders: the last send right goes, the kernel reports the make-send count.
    let watched = task.allocate_port().unwrap();
    let send = watched.make_send().unwrap();
    let _send2 = watched.make_send().unwrap().into_name();
    watched.request_no_senders(0, &inbox).unwrap();
    drop(send);
    task.call(herd_runtime::PortCall::Deallocate(watched.name()))
        .unwrap();
    next_notification(&task, &inbox, &notes, "notify.no_senders(mscount=2)");
    assert_eq!(notes.take(), [format!("{n}: no senders, mscount 2")]);

    // Dead name: the port behind a send right dies.
    let doomed = task.allocate_port().unwrap();
    let dying = doomed.make_send().unwrap();
    let dying_name = dying.name();
    dying.request_dead_name(&inbox).unwrap();
    drop(doomed);
    next_notification(
        &task,
        &inbox,
        &notes,
        &format!("notify.dead_name(name={dying_name})"),
    );
    assert_eq!(notes.take(), [format!("{n}: dead name {dying_name}")]);
    drop(dying);

    // Send once: a send-once right destroyed unused.
    drop(inbox.make_send_once().unwrap());
    next_notification(&task, &inbox, &notes, "notify.send_once()");
    assert_eq!(notes.take(), [format!("{n}: send once")]);

    // Port destroyed: the receive right comes to the notify port instead of dying.
    let backed = task.allocate_port().unwrap();
    backed.request_port_destroyed(&inbox).unwrap();
    drop(backed);
    let msg = task.receive(n, PATIENCE).unwrap();
    assert_eq!(msg.id, notify::ids::PORT_DESTROYED);
    assert!(matches!(msg.ports[..], [Right::Receive(_)]));
    assert!(notify::dispatch(&notes, msg).is_none());
    assert_eq!(
        notes.take(),
        [format!("{n}: port destroyed, receive right")]
    );
}
