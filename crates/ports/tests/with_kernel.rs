//! libports against a real kernel in this process: objects cleaned exactly once when the
//! last send right goes, stale and forged no-senders ignored, many concurrent clients,
//! inhibition, bad messages and shutdown.
//!
//! Client and server are threads of one task here (each thread has its own connection):
//! a send right a task holds to its own port shares the receive right's name, so dropping
//! the "client's" right is exactly what drives no-senders.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use herd_interfaces::test::{self, TestServer};
use herd_interfaces::Request;
use herd_kernel::KernelHandle;
use herd_ports::{Bucket, Class, Demuxer, PortRef};
use herd_runtime::{Errno, OutMessage, PortArg, PortName, Right, SendRight, ServeOptions, Task};
use herd_testing::{kernel, wait_until, LONG};

/// An object behind a port.
struct Thing(u32);

/// The test server: `make_port` makes a `Thing`, `give_port` looks a right up, `echo`
/// blocks until released (an RPC in progress), `ping` answers.
struct Server {
    bucket: Bucket,
    things: Class<Thing>,
    made: AtomicUsize,
    hold: Mutex<Option<mpsc::Receiver<()>>>,
    entered: Mutex<Option<mpsc::Sender<()>>>,
}

impl TestServer for Server {
    fn ping(&self, _req: &Request) -> Result<(), Errno> {
        Ok(())
    }

    fn make_port(&self, _req: &Request) -> Result<PortArg, Errno> {
        let n = self.made.fetch_add(1, Ordering::Relaxed) as u32;
        self.bucket
            .create_port(&self.things, Thing(n))?
            .make_send_arg()
    }

    fn give_port(&self, _req: &Request, right: Right) -> Result<PortName, Errno> {
        Ok(self
            .bucket
            .lookup_right::<Thing>(&right)
            .map_or(PortName::NULL, |t| PortName(t.0)))
    }

    fn echo(&self, _req: &Request, data: Vec<u8>) -> Result<Vec<u8>, Errno> {
        if let Some(tx) = self.entered.lock().unwrap().as_ref() {
            let _ = tx.send(());
        }
        if let Some(rx) = self.hold.lock().unwrap().as_ref() {
            let _ = rx.recv_timeout(LONG);
        }
        Ok(data)
    }
}

struct Setup {
    _kernel: KernelHandle,
    task: Task,
    server: Arc<Server>,
    cleaned: Arc<AtomicUsize>,
    /// A send right to the server's own (factory) port.
    factory: SendRight,
    _factory_ref: PortRef<Thing>,
    serving: Mutex<mpsc::Receiver<()>>,
}

fn setup(label: &str, max_threads: usize) -> Setup {
    let (kernel, task) = kernel(label);
    let bucket = Bucket::new(&task).unwrap();
    let cleaned = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&cleaned);
    let things = Class::with_clean("things", move |_t: &Thing| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let server = Arc::new(Server {
        bucket: bucket.clone(),
        things: things.clone(),
        made: AtomicUsize::new(1000),
        hold: Mutex::new(None),
        entered: Mutex::new(None),
    });
    let factory_class = Class::new("factory");
    let factory_ref = bucket.create_port(&factory_class, Thing(1)).unwrap();
    let factory = factory_ref.make_send().unwrap();
    let (done_tx, serving) = mpsc::channel();
    let srv = Arc::clone(&server);
    let opts = ServeOptions {
        max_threads,
        idle_timeout: Duration::from_millis(200),
        ..ServeOptions::default()
    };
    thread::spawn(move || {
        let demux = Demuxer::new().with(move |m| test::try_dispatch(&*srv, m));
        let _ = bucket.serve(demux, opts);
        let _ = done_tx.send(());
    });
    Setup {
        _kernel: kernel,
        task,
        server,
        cleaned,
        factory,
        _factory_ref: factory_ref,
        serving: Mutex::new(serving),
    }
}

fn new_thing(s: &Setup) -> SendRight {
    test::make_port(&s.task, &s.factory)
        .unwrap()
        .into_send()
        .expect("a send right")
}

#[test]
fn objects_are_cleaned_exactly_once_when_the_last_send_right_goes() {
    let s = setup("clean", 4);
    let thing = new_thing(&s);
    let copy = thing.clone();
    assert_eq!(test::ping(&s.task, &thing), Ok(()));
    // The server finds its own object behind a right it is handed.
    let name = test::give_port(&s.task, &s.factory, PortArg::CopySend(thing.name())).unwrap();
    assert_eq!(name, PortName(1000));
    assert_eq!(s.server.things.count(), 1);
    assert_eq!(s.server.bucket.len(), 2);
    drop(thing);
    // One user reference is left: nothing happens.
    assert_eq!(test::ping(&s.task, &copy), Ok(()));
    assert_eq!(s.cleaned.load(Ordering::SeqCst), 0);
    let dead = copy.name();
    drop(copy);
    wait_until("the object's clean routine", || {
        s.cleaned.load(Ordering::SeqCst) == 1
    });
    assert_eq!(s.server.things.count(), 0);
    assert_eq!(s.server.bucket.len(), 1, "only the factory is left");
    // More traffic does not clean it again; its port is gone.
    assert_eq!(test::ping(&s.task, &s.factory), Ok(()));
    assert_eq!(s.cleaned.load(Ordering::SeqCst), 1);
    assert!(s.task.call(herd_runtime::PortCall::Type(dead)).is_err());
}

#[test]
fn stale_and_forged_no_senders_notifications_are_ignored() {
    let s = setup("stale", 1);
    let thing = new_thing(&s);
    let forge = |mscount: u32| {
        let mut m = OutMessage::new(PortArg::CopySend(thing.name()), 70);
        m.data = mscount.to_le_bytes().to_vec();
        s.task.send(m, None).unwrap();
    };
    // A count below the library's is stale; an equal one while send rights exist is a
    // lie the kernel's status exposes. One server thread: the ping comes after both.
    forge(0);
    forge(1);
    forge(u32::MAX);
    assert_eq!(test::ping(&s.task, &thing), Ok(()));
    assert_eq!(s.cleaned.load(Ordering::SeqCst), 0);
    assert_eq!(s.server.things.count(), 1);
    drop(thing);
    wait_until("clean after the real last right", || {
        s.cleaned.load(Ordering::SeqCst) == 1
    });
}

#[test]
fn a_real_stale_notification_is_rearmed() {
    let (_kernel, task) = kernel("rearm");
    let bucket = Bucket::new(&task).unwrap();
    let cleaned = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&cleaned);
    let class = Class::with_clean("t", move |_: &u32| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let port = bucket.create_port(&class, 7u32).unwrap();
    // Not served yet: the first right's no-senders (count 1) waits in the queue while a
    // second right is made (count 2).
    drop(port.make_send().unwrap());
    wait_until("the notification to be queued", || {
        port_status(&task, port.name()).msgcount == 1
    });
    let second = port.make_send().unwrap();
    assert_eq!(port.mscount(), 2);
    drop(port);
    let served = bucket.clone();
    thread::spawn(move || served.serve(Demuxer::new(), ServeOptions::default()));
    wait_until("the stale notification to be handled", || {
        port_status(&task, second.name()).msgcount == 0
    });
    assert_eq!(cleaned.load(Ordering::SeqCst), 0, "stale: the port stays");
    assert_eq!(bucket.lookup::<u32>(second.name()).map(|p| *p), Some(7));
    drop(second);
    wait_until("clean", || cleaned.load(Ordering::SeqCst) == 1);
    assert!(bucket.is_empty());
    bucket.shutdown();
}

fn port_status(task: &Task, name: PortName) -> herd_runtime::PortStatus {
    match task.call(herd_runtime::PortCall::GetReceiveStatus(name)) {
        Ok(herd_runtime::CallValue::Status(s)) => s,
        other => panic!("no status: {other:?}"),
    }
}

#[test]
fn many_concurrent_clients() {
    let s = Arc::new(setup("many", 8));
    let ports_before = s.task.stats().unwrap().ports;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                for _ in 0..40 {
                    let thing = new_thing(&s);
                    assert_eq!(test::ping(&s.task, &thing), Ok(()));
                    assert_eq!(test::echo(&s.task, &thing, b"x"), Ok(b"x".to_vec()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    wait_until("every object cleaned", || {
        s.cleaned.load(Ordering::SeqCst) == 320
    });
    assert_eq!(s.server.things.count(), 0);
    assert_eq!(s.server.bucket.len(), 1);
    // Every object's port is gone from the kernel too (reply ports of the client
    // threads, which have exited, are gone as well).
    wait_until("the kernel's port count to come back", || {
        s.task.stats().unwrap().ports <= ports_before
    });
}

#[test]
fn inhibit_refuses_new_rpcs_and_drains_old_ones() {
    let s = setup("inhibit", 4);
    let (release, hold) = mpsc::channel();
    let (entered_tx, entered) = mpsc::channel();
    *s.server.hold.lock().unwrap() = Some(hold);
    *s.server.entered.lock().unwrap() = Some(entered_tx);
    let thing = new_thing(&s);
    let busy = {
        let (task, right) = (s.task.clone(), thing.clone());
        thread::spawn(move || test::echo(&task, &right, b"slow"))
    };
    entered.recv_timeout(LONG).unwrap();
    // An RPC is in progress: a short inhibit gives up with EBUSY and reopens.
    assert_eq!(
        s.server.things.inhibit(Duration::from_millis(20)).err(),
        Some(Errno::EBUSY)
    );
    assert_eq!(test::ping(&s.task, &thing), Ok(()));
    // A patient one waits for it to drain.
    let bucket = s.server.bucket.clone();
    let inhibiting = thread::spawn(move || bucket.inhibit(LONG));
    wait_until("new RPCs to be refused", || {
        test::ping(&s.task, &thing) == Err(Errno::EBUSY)
    });
    release.send(()).unwrap();
    assert_eq!(busy.join().unwrap(), Ok(b"slow".to_vec()));
    let inhibited = inhibiting.join().unwrap().expect("drained");
    assert_eq!(test::ping(&s.task, &s.factory), Err(Errno::EBUSY));
    drop(inhibited);
    assert_eq!(test::ping(&s.task, &thing), Ok(()));
}

#[test]
fn bad_messages_get_mig_codes_and_shutdown_stops_serving() {
    let s = setup("bad", 2);
    let reply = s
        .task
        .rpc(
            OutMessage::new(PortArg::CopySend(s.factory.name()), 4242),
            None,
        )
        .unwrap();
    assert_eq!(reply.data, Errno::MIG_BAD_ID.0.to_le_bytes());
    let mut add = OutMessage::new(PortArg::CopySend(s.factory.name()), test::ids::ADD);
    add.data = vec![1, 2, 3];
    let reply = s.task.rpc(add, None).unwrap();
    assert_eq!(reply.data, Errno::MIG_BAD_ARGUMENTS.0.to_le_bytes());
    // A malformed no-senders message is dropped without harm.
    let mut ns = OutMessage::new(PortArg::CopySend(s.factory.name()), 70);
    ns.data = vec![1];
    s.task.send(ns, None).unwrap();
    assert_eq!(test::ping(&s.task, &s.factory), Ok(()));
    s.server.bucket.shutdown();
    assert_eq!(test::ping(&s.task, &s.factory), Err(Errno::EDIED));
    s.serving
        .lock()
        .unwrap()
        .recv_timeout(LONG)
        .expect("serve returns");
}
