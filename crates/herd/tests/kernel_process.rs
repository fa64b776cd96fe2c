//! The kernel as a real process behind a real socket: garbage and forged input, and tasks
//! killed with SIGKILL in the middle of an RPC while others keep working.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use herd_channel::{memfd::Region, Channel, Frame};
use herd_runtime::{
    CallValue, KernError, KernelStats, OutMessage, PortArg, PortCall, PortName, Received,
    ServeOptions, Task,
};
use herd_wire::frame::{msg_option, AllocateKind, MAX_FRAME};
use herd_wire::{Disposition, Message, PortDescriptor, Request, Response};

/// A kernel process, killed when dropped.
struct KernelProcess {
    child: Child,
    socket: PathBuf,
    dir: PathBuf,
}

impl KernelProcess {
    fn start(name: &str) -> KernelProcess {
        let dir = std::env::temp_dir().join(format!("herd-kp-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("k.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_herd"))
            .args(["kernel", "--socket"])
            .arg(&socket)
            .spawn()
            .expect("start herd kernel");
        let k = KernelProcess { child, socket, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Channel::connect(&k.socket).is_err() {
            assert!(Instant::now() < deadline, "kernel did not come up");
            std::thread::yield_now();
        }
        k
    }
    fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for KernelProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends one raw frame and reads the answer; `None` when the kernel closed the connection.
fn exchange(ch: &Channel, bytes: &[u8], fds: &[std::os::fd::BorrowedFd<'_>]) -> Option<Response> {
    ch.send(bytes, fds).ok()?;
    let mut f = Frame::default();
    match ch.recv(&mut f, 1 << 24) {
        Ok(true) => Some(Response::decode(&f.bytes).expect("kernel frames parse")),
        _ => None,
    }
}

fn hello(ch: &Channel) {
    let r = exchange(
        ch,
        &Request::NewTask {
            label: "raw".into(),
        }
        .encode(),
        &[],
    );
    assert!(matches!(r, Some(Response::Hello { .. })), "{r:?}");
}

/// The connection got a Fatal answer and was closed.
fn assert_dropped(ch: &Channel, r: Option<Response>) {
    assert!(
        matches!(r, Some(Response::Fatal(_))),
        "expected Fatal, got {r:?}"
    );
    let mut f = Frame::default();
    assert!(
        !ch.recv(&mut f, 1024).unwrap_or(false),
        "connection closed after Fatal"
    );
}

fn send_with_region(port: PortName, claimed: u64) -> Vec<u8> {
    let mut m = Message::new(port, Disposition::MakeSend, 1);
    m.ool.push(claimed);
    Request::MachMsg {
        options: msg_option::SEND,
        send_timeout: None,
        rcv_name: PortName::NULL,
        rcv_timeout: None,
        message: Some(m),
    }
    .encode()
}

fn allocate(ch: &Channel) -> PortName {
    let req = Request::Call(PortCall::Allocate(AllocateKind::Receive)).encode();
    match exchange(ch, &req, &[]) {
        Some(Response::Call(Ok(CallValue::Name(n)))) => n,
        other => panic!("{other:?}"),
    }
}

fn wait_for_stats(task: &Task, cond: impl Fn(&KernelStats) -> bool) -> KernelStats {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = task.stats().unwrap();
        if cond(&s) || Instant::now() > deadline {
            return s;
        }
        std::thread::yield_now();
    }
}

#[test]
fn garbage_frames_get_a_clear_error_and_the_kernel_keeps_serving() {
    let k = KernelProcess::start("garbage");
    let observer = Task::attach(k.socket(), "observer").unwrap();
    let baseline = observer.stats().unwrap();
    let stats = Request::Call(PortCall::Stats).encode();
    // An empty packet reads as end of stream on a seqpacket socket: the kernel closes.
    let ch = Channel::connect(k.socket()).unwrap();
    hello(&ch);
    assert!(
        exchange(&ch, &[], &[]).is_none(),
        "closed on an empty packet"
    );
    let cases: Vec<Vec<u8>> = vec![
        vec![0xee],
        vec![3, 0xff, 0xff, 0xff, 0xff],
        vec![4, 200],
        stats[..1].to_vec(),
        [stats.clone(), vec![0]].concat(),
    ];
    for bytes in cases {
        let ch = Channel::connect(k.socket()).unwrap();
        hello(&ch);
        let r = exchange(&ch, &bytes, &[]);
        assert_dropped(&ch, r);
    }
    // A call before hello.
    let ch = Channel::connect(k.socket()).unwrap();
    let r = exchange(&ch, &stats, &[]);
    assert_dropped(&ch, r);
    // An oversized frame (it travels in a memfd, and is refused by size).
    let ch = Channel::connect(k.socket()).unwrap();
    hello(&ch);
    let r = exchange(&ch, &vec![3u8; MAX_FRAME + 10], &[]);
    assert_dropped(&ch, r);
    // An out-of-line "region" that is not a sealed memfd (a pipe could block a receiver).
    let ch = Channel::connect(k.socket()).unwrap();
    hello(&ch);
    let port = allocate(&ch);
    let (pipe_r, _pipe_w) = rustix::pipe::pipe().unwrap();
    let r = exchange(&ch, &send_with_region(port, 4096), &[pipe_r.as_fd()]);
    assert_dropped(&ch, r);
    // A region shorter than it claims.
    let ch = Channel::connect(k.socket()).unwrap();
    hello(&ch);
    let port = allocate(&ch);
    let short = Region::from_bytes("short", b"abc").unwrap();
    let r = exchange(&ch, &send_with_region(port, 4096), &[short.as_fd()]);
    assert_dropped(&ch, r);
    // A region listed without its descriptor.
    let ch = Channel::connect(k.socket()).unwrap();
    hello(&ch);
    let port = allocate(&ch);
    let r = exchange(&ch, &send_with_region(port, 3), &[]);
    assert_dropped(&ch, r);
    // After all that the kernel serves as before, and nothing of the dropped tasks is left.
    let after = wait_for_stats(&observer, |s| {
        s.tasks == baseline.tasks && s.ports == baseline.ports
    });
    assert_eq!(
        (after.tasks, after.ports, after.names, after.send_rights),
        (
            baseline.tasks,
            baseline.ports,
            baseline.names,
            baseline.send_rights
        )
    );
}

#[test]
fn forged_names_and_wrong_rights_are_refused_with_errors() {
    let k = KernelProcess::start("forged");
    let task = Task::attach(k.socket(), "forger").unwrap();
    let before = task.stats().unwrap();
    for forged in [PortName(0x4242_4201), PortName(257), PortName(u32::MAX - 1)] {
        let sent = task.send(
            OutMessage::new(PortArg::CopySend(forged), 1),
            Some(Duration::ZERO),
        );
        assert!(sent.is_err(), "send to forged {forged:?}");
        assert_eq!(
            task.call(PortCall::Deallocate(forged)),
            Err(KernError::InvalidName)
        );
        assert_eq!(
            task.receive(forged, Some(Duration::ZERO)).map(|_| ()),
            Err(KernError::RcvInvalidName)
        );
    }
    let port = task.allocate_port().unwrap();
    // A receive right named as a send right in the body: wrong kind.
    let mut m = OutMessage::new(PortArg::MakeSend(port.name()), 1);
    m.ports.push(PortArg::CopySend(port.name()));
    assert!(task.send(m, Some(Duration::ZERO)).is_err());
    drop(port);
    assert_eq!(task.stats().unwrap(), before);
}

const PING: u32 = 1;
const BLOCK: u32 = 5;

#[test]
fn a_task_killed_mid_rpc_releases_everything_while_others_keep_working() {
    let k = KernelProcess::start("sigkill");
    let server = Task::attach(k.socket(), "server").unwrap();
    let baseline = server.stats().unwrap();
    let port = server.allocate_port().unwrap();
    port.set_qlimit(64).unwrap();
    let (blocked_tx, blocked_rx) = mpsc::channel::<Received>();
    let held = std::sync::Mutex::new(blocked_tx);
    let serve_task = server.clone();
    let name = port.name();
    let serving = std::thread::spawn(move || {
        herd_runtime::serve(
            &serve_task,
            name,
            move |mut msg: Received| {
                if msg.id == BLOCK {
                    // Keep the request's reply right, unanswered, until the test drops it.
                    let reply = msg.take_reply();
                    msg.reply = reply;
                    held.lock().unwrap().send(msg).unwrap();
                    return None;
                }
                Some(OutMessage::new(
                    PortArg::Null,
                    herd_runtime::reply_id(msg.id),
                ))
            },
            ServeOptions {
                max_threads: 4,
                ..ServeOptions::default()
            },
        )
    });
    // A client process, started by the kernel, blocks in an RPC the server never answers.
    let spawned = server
        .call(PortCall::Spawn {
            program: env!("CARGO_BIN_EXE_herd").into(),
            args: ["herd", "bench-peer", "rpc-loop", "--id", &BLOCK.to_string()]
                .map(String::from)
                .to_vec(),
            env: vec!["HERD_LOG=off".into()],
            rights: vec![PortDescriptor::send(port.name(), Disposition::MakeSend)],
        })
        .unwrap();
    let CallValue::Spawned { pid, .. } = spawned else {
        panic!("{spawned:?}")
    };
    let request = blocked_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the client's request arrives");
    // Meanwhile another thread keeps calling while the client is killed.
    let client = server.clone();
    let to_server = port.make_send().unwrap();
    let call = |t: &Task| {
        t.rpc(
            OutMessage::new(PortArg::CopySend(to_server.name()), PING),
            Some(Duration::from_secs(20)),
        )
    };
    let calls = std::thread::scope(|s| {
        let worker = s.spawn(|| (0..500).filter(|_| call(&client).is_ok()).count());
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid as i32).unwrap(),
            rustix::process::Signal::KILL,
        )
        .unwrap();
        worker.join().unwrap()
    });
    assert_eq!(calls, 500, "every call of the other client succeeded");
    let s = wait_for_stats(&server, |s| s.tasks == baseline.tasks);
    assert_eq!(s.tasks, baseline.tasks, "the killed task is gone");
    // Answering the dead client's request now goes nowhere, without harm.
    drop(request);
    // (From a thread that exits, so its reply port goes with it.)
    std::thread::scope(|s| assert!(s.spawn(|| call(&client).is_ok()).join().unwrap()));
    drop(to_server);
    drop(client);
    drop(port);
    serving.join().unwrap().unwrap();
    let s = wait_for_stats(&server, |s| {
        s.tasks == baseline.tasks && s.ports == baseline.ports
    });
    assert_eq!(
        (
            s.tasks,
            s.ports,
            s.names,
            s.send_rights,
            s.send_once_rights,
            s.queued_messages
        ),
        (
            baseline.tasks,
            baseline.ports,
            baseline.names,
            baseline.send_rights,
            baseline.send_once_rights,
            baseline.queued_messages
        ),
        "counts return to where they were"
    );
}
