//! `herd rpctrace` and `herd portinfo` as a user runs them, against a real kernel process:
//! a command traced with its children, a server under load traced by pid, a client blocked
//! forever (pending, and the tracer ends when it dies), a burst of 100,000 calls (drops
//! counted, nothing held up), bad pids, another user's task, and the port listings.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use herd_channel::Channel;
use herd_runtime::{CallValue, PortCall, RightKind, Task};

const HERD: &str = env!("CARGO_BIN_EXE_herd");

/// A kernel process in a scratch directory, killed when dropped.
struct Kernel {
    child: Child,
    socket: PathBuf,
    dir: PathBuf,
}

impl Kernel {
    fn start(name: &str) -> Kernel {
        let dir = std::env::temp_dir().join(format!("herd-rt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("k.sock");
        let child = Command::new(HERD)
            .args(["kernel", "--socket"])
            .arg(&socket)
            .stderr(Stdio::null())
            .spawn()
            .expect("start herd kernel");
        let k = Kernel { child, socket, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Channel::connect(&k.socket).is_err() {
            assert!(Instant::now() < deadline, "kernel did not come up");
            std::thread::yield_now();
        }
        k
    }

    fn socket(&self) -> &Path {
        &self.socket
    }

    /// `herd SUBCOMMAND --socket S ARGS...`, not started yet.
    fn herd(&self, sub: &str, args: &[&str]) -> Command {
        let mut c = Command::new(HERD);
        c.arg(sub).arg("--socket").arg(&self.socket).args(args);
        c
    }

    /// `herd rpctrace-peer client --socket S ARGS...`, not started yet.
    fn client(&self, args: &[&str]) -> Command {
        let mut c = Command::new(HERD);
        c.args(["rpctrace-peer", "client", "--socket"])
            .arg(&self.socket)
            .args(args);
        c
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Text a child writes, gathered as it comes.
#[derive(Default)]
struct Captured {
    text: Mutex<(String, bool)>,
    grew: Condvar,
}

impl Captured {
    fn from(mut r: impl Read + Send + 'static) -> Arc<Captured> {
        let c = Arc::new(Captured::default());
        let c2 = c.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = r.read(&mut buf).unwrap_or(0);
                let mut t = c2.text.lock().unwrap();
                if n == 0 {
                    t.1 = true;
                    c2.grew.notify_all();
                    return;
                }
                t.0.push_str(&String::from_utf8_lossy(&buf[..n]));
                c2.grew.notify_all();
            }
        });
        c
    }

    /// Waits until `cond` holds for the text so far (panics after `secs`).
    fn wait_for(&self, secs: u64, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut t = self.text.lock().unwrap();
        loop {
            if cond(&t.0) {
                return t.0.clone();
            }
            let now = Instant::now();
            assert!(
                now < deadline && !t.1,
                "waiting for {what}; output so far:\n{}",
                t.0
            );
            t = self.grew.wait_timeout(t, deadline - now).unwrap().0;
        }
    }

    /// Everything, once the writer closed.
    fn all(&self, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut t = self.text.lock().unwrap();
        while !t.1 {
            let now = Instant::now();
            assert!(now < deadline, "output did not end:\n{}", t.0);
            t = self.grew.wait_timeout(t, deadline - now).unwrap().0;
        }
        t.0.clone()
    }
}

/// A running child with its output captured.
struct Running {
    child: Child,
    out: Arc<Captured>,
    err: Arc<Captured>,
}

fn run(mut c: Command) -> Running {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start herd");
    let out = Captured::from(child.stdout.take().unwrap());
    let err = Captured::from(child.stderr.take().unwrap());
    Running { child, out, err }
}

impl Running {
    /// Waits for the exit (panics after `secs`); returns whether it succeeded.
    fn wait(&mut self, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(
                Instant::now() < deadline,
                "did not exit; stdout:\n{}\nstderr:\n{}",
                self.out.text.lock().unwrap().0,
                self.err.text.lock().unwrap().0
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kill(pid: u32) {
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("a pid");
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
}

/// Whether rpctrace said whom it traces (a whole line).
fn says_tracing(stderr: &str) -> bool {
    stderr
        .lines()
        .any(|l| l.starts_with("rpctrace: tracing ") && l.ends_with(']'))
}

/// The pid in `rpctrace: tracing LABEL(PID) [task N]`.
fn traced_pid(stderr: &str) -> u32 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("rpctrace: tracing ") && l.ends_with(']'))
        .unwrap_or_else(|| panic!("no tracing line in {stderr:?}"));
    let open = line.rfind('(').unwrap();
    let close = line.rfind(')').unwrap();
    line[open + 1..close].parse().unwrap()
}

/// Whether the kernel still has a task with `pid`.
fn has_task(watcher: &Task, pid: u32) -> bool {
    match watcher.call(PortCall::Tasks) {
        Ok(CallValue::Tasks(v)) => v.iter().any(|t| t.pid == pid),
        other => panic!("{other:?}"),
    }
}

/// Waits (with a deadline) until `cond` holds.
fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_traced_command_and_its_server_decode_every_call() {
    let k = Kernel::start("cmd");
    let mut t = run(k.herd("rpctrace", &["-f", "--", HERD, "rpctrace-peer", "client"]));
    assert!(t.wait(60), "rpctrace failed: {}", t.err.all(5));
    let out = t.out.all(5);
    for want in [
        "spawned test-server(",
        // The client's view, each request paired with its reply...
        "test.echo(data=b\"hi\")",
        "test.echo = (back=b\"hi\")",
        "test.add = (sum=5)",
        "test.fail = errno ENOENT",
        "test.poke(n=7);",
        "test.echo_region = (back=region(17 bytes))",
        "test.ping = 0",
        // ...and the server's, who asked, and its answers on the same line.
        "<- herd(",
        "test.add(a=2, b=3) = (sum=5)",
        "[move-send -> test-server(",
        "notify.no_senders(mscount=1);",
        "exited",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert_eq!(out.matches(" exited").count(), 2, "{out}");
}

#[test]
fn filters_timestamps_and_an_output_file() {
    let k = Kernel::start("filter");
    let file = k.dir.join("trace.txt");
    let file_arg = file.display().to_string();
    let mut t = run(k.herd(
        "rpctrace",
        &[
            "-o",
            &file_arg,
            "-t",
            "-e",
            "test.add,test.fail",
            "--",
            HERD,
            "rpctrace-peer",
            "client",
        ],
    ));
    assert!(t.wait(60), "{}", t.err.all(5));
    assert_eq!(t.out.all(5), "", "the trace went to the file");
    let text = std::fs::read_to_string(&file).unwrap();
    let calls: Vec<&str> = text.lines().filter(|l| l.contains("test.")).collect();
    assert_eq!(calls.len(), 2, "{text}");
    assert!(
        calls[0].contains("test.add(a=2, b=3) = (sum=5) <0."),
        "{text}"
    );
    assert!(
        calls[1].contains("test.fail(errno=2) = errno ENOENT <0."),
        "{text}"
    );
    for l in text.lines() {
        let stamp = l.split_whitespace().next().unwrap();
        assert!(stamp.parse::<f64>().is_ok(), "seconds first: {l}");
    }
    assert!(!text.contains("test.echo"), "{text}");
}

#[test]
fn a_server_under_load_is_traced_by_pid_and_the_trace_ends_cleanly_when_killed() {
    let k = Kernel::start("load");
    let load = run(k.client(&["--forever", "2", "--print-server-pid"]));
    let text = load
        .out
        .wait_for(30, "the server's pid", |o| o.contains('\n'));
    let server: u32 = text
        .trim()
        .strip_prefix("server-pid ")
        .unwrap()
        .parse()
        .unwrap();
    let client = load.child.id();
    let tracer = run(k.herd("rpctrace", &["-p", &server.to_string()]));
    let out = tracer.out.wait_for(60, "a few hundred served calls", |o| {
        o.matches(&format!("<- test-client({client})")).count() >= 300
    });
    // What the server is asked, by whom, and what it answered.
    assert!(out.contains(&format!("test-server({server})[")), "{out}");
    assert!(
        out.contains("test.echo(data=b\"hi\")") && out.contains("= (sum=5)"),
        "{out}"
    );
    assert!(out.contains("= errno ENOENT"), "{out}");
    let tracer_pid = tracer.child.id();
    drop(tracer);
    // The kernel dropped the dead tracer's trace: a new one may start.
    let watcher = Task::attach(k.socket(), "watcher").unwrap();
    eventually(30, "the killed tracer to leave", || {
        !has_task(&watcher, tracer_pid)
    });
    let again = run(k.herd("rpctrace", &["-p", &server.to_string()]));
    again
        .out
        .wait_for(60, "tracing again", |o| o.contains("test."));
    drop(again);
    // Listings of both tasks and the translation between them.
    let mut info = run(k.herd("portinfo", &[&server.to_string()]));
    assert!(info.wait(30), "{}", info.err.all(5));
    let listing = info.out.all(5);
    assert!(
        listing.contains(&format!("test-server({server})")),
        "{listing}"
    );
    assert!(listing.contains("receive"), "{listing}");
    let mut tr = run(k.herd(
        "portinfo",
        &["--translate", &client.to_string(), &server.to_string()],
    ));
    assert!(tr.wait(30), "{}", tr.err.all(5));
    let translated = tr.out.all(5);
    assert!(
        translated.contains("[send] -> ") && translated.contains("[receive]"),
        "{translated}"
    );
}

#[test]
fn a_client_blocked_forever_shows_its_call_pending_and_the_trace_ends_when_it_dies() {
    let k = Kernel::start("blocked");
    // Traced from the start: the request is printed as it is sent.
    let mut t = run(k.herd(
        "rpctrace",
        &["--", HERD, "rpctrace-peer", "client", "--blackhole"],
    ));
    let out = t
        .out
        .wait_for(60, "the blocked request", |o| o.contains("test.ping()"));
    assert!(!out.contains("test.ping() ="), "no answer came: {out}");
    let pid = traced_pid(&t.err.wait_for(10, "the traced pid", says_tracing));
    assert!(
        t.child.try_wait().unwrap().is_none(),
        "the tracer keeps going"
    );
    kill(pid);
    assert!(t.wait(30), "{}", t.err.all(5));
    let out = t.out.all(5);
    assert!(
        out.contains("test.ping() = <unanswered: task exited>"),
        "{out}"
    );
    assert!(out.contains("exited"), "{out}");

    // Attached to a client already blocked: its call shows as pending too.
    let blocked = run(k.client(&["--blackhole", "--print-server-pid"]));
    let text = blocked
        .out
        .wait_for(30, "the server's pid", |o| o.contains('\n'));
    let server: u32 = text
        .trim()
        .strip_prefix("server-pid ")
        .unwrap()
        .parse()
        .unwrap();
    let watcher = Task::attach(k.socket(), "watcher").unwrap();
    eventually(30, "the request held by the blackhole", || {
        let tasks = match watcher.call(PortCall::Tasks) {
            Ok(CallValue::Tasks(v)) => v,
            other => panic!("{other:?}"),
        };
        let Some(s) = tasks.iter().find(|t| t.pid == server) else {
            return false;
        };
        match watcher.call(PortCall::TaskNamesOf(s.task)) {
            Ok(CallValue::NameInfos(v)) => {
                v.iter().any(|i| i.rights.contains(RightKind::SEND_ONCE))
            }
            _ => false,
        }
    });
    let client = blocked.child.id();
    let mut t = run(k.herd("rpctrace", &["-p", &client.to_string()]));
    t.out.wait_for(30, "the pending call", |o| {
        o.contains("<call made before the trace")
    });
    kill(client);
    assert!(t.wait(30), "{}", t.err.all(5));
    let out = t.out.all(5);
    assert!(out.contains("= <unanswered: task exited>"), "{out}");
    eventually(30, "the blackhole server to leave", || {
        !has_task(&watcher, server)
    });
}

#[test]
fn a_burst_of_100000_calls_is_never_held_up_and_the_drops_are_counted() {
    let k = Kernel::start("burst");
    let watcher = Task::attach(k.socket(), "watcher").unwrap();
    let mut c = k.herd(
        "rpctrace",
        &["--", HERD, "rpctrace-peer", "client", "--pings", "100000"],
    );
    // Nobody reads the trace until the client is done: rpctrace stalls on its output,
    // and the kernel must drop records rather than slow the client.
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = Captured::from(child.stderr.take().unwrap());
    let pid = traced_pid(&err.wait_for(30, "the traced pid", says_tracing));
    let start = Instant::now();
    eventually(300, "the client to finish its 100,000 calls", || {
        !has_task(&watcher, pid)
    });
    let took = start.elapsed();
    let out = Captured::from(child.stdout.take().unwrap());
    let mut running = Running { child, out, err };
    assert!(running.wait(120), "{}", running.err.all(5));
    let out = running.out.all(10);
    assert!(
        out.contains("records dropped"),
        "{}",
        &out[out.len().saturating_sub(2000)..]
    );
    assert!(out.contains(" exited"), "the trace ends with the task");
    let summary = running.err.all(5);
    assert!(summary.contains("records dropped in all"), "{summary}");
    eprintln!("100,000 traced calls took {took:?} with the tracer stalled");
}

#[test]
fn bad_pids_get_clear_errors() {
    let k = Kernel::start("badpid");
    let mut t = run(k.herd("rpctrace", &["-p", "4000000"]));
    assert!(!t.wait(30));
    assert!(t.err.all(5).contains("no process 4000000"));
    let me = std::process::id().to_string();
    let mut t = run(k.herd("rpctrace", &["-p", &me]));
    assert!(!t.wait(30));
    assert!(t.err.all(5).contains("is not a herd task"));
    let mut t = run(k.herd("portinfo", &["4000000"]));
    assert!(!t.wait(30));
    assert!(t.err.all(5).contains("no process 4000000"));
    let mut t = run(k.herd("rpctrace", &[]));
    assert!(!t.wait(30));
    assert!(t.err.all(5).contains("nothing to trace"));
    let mut t = run(k.herd("rpctrace", &["-e", "nosuch", "-p", &me]));
    assert!(!t.wait(30));
    assert!(t.err.all(5).contains("no interface \"nosuch\""));
}

#[test]
fn another_users_task_may_not_be_traced_or_listed() {
    if rustix::process::getuid().as_raw() != 0 || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv (the kernel's sim tests cover the rule)");
        return;
    }
    let k = Kernel::start("otheruser");
    // Let another user reach the socket.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&k.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(k.socket(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let mine = Task::attach(k.socket(), "roots-task").unwrap();
    let me = std::process::id().to_string();
    for sub in ["rpctrace", "portinfo"] {
        let mut c = Command::new("/usr/bin/setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            HERD,
            sub,
        ])
        .arg("--socket")
        .arg(k.socket());
        if sub == "rpctrace" {
            c.arg("-p");
        }
        c.arg(&me);
        let mut t = run(c);
        assert!(!t.wait(30), "{sub} must fail");
        let err = t.err.all(5);
        assert!(
            err.contains("not permitted") && err.contains("belongs to uid 0"),
            "{sub}: {err}"
        );
    }
    drop(mine);
}
