//! `herd hostmux` and `herd usermux` set active on tmpfs nodes of a booted node: a lookup
//! of `mux/NAME/rest` starts the template's translator for NAME (`/hurd/symlink
//! /data/%h`: each name leads to its own directory), once per name (the same translator
//! answers again), readdir lists the names started, bad names are refused, and a template
//! naming no server is `ENOENT` for the looker-up while the mux keeps serving.

mod lookup_boot;

use herd_hurd::Namespace;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFLNK, S_IFMT};
use herd_interfaces::types::consts::open::{O_NOLINK, O_NOTRANS, O_READ};
use herd_interfaces::types::consts::trans::FS_TRANS_SET;
use herd_interfaces::{fs, io};
use herd_runtime::{Errno, PortArg};
use lookup_boot::{launcher, names, namespace, read, write, Node};

/// Makes the directory `path` and starts `argv` on it as its active translator.
fn settrans_active(ns: &Namespace, path: &str, argv: &[&str]) {
    ns.mkdir(path.as_bytes(), 0o755).unwrap();
    let realnode = ns.lookup(path.as_bytes(), O_NOTRANS, 0).unwrap();
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let running = launcher()
        .start(ns.task(), &argv, PortArg::MoveSend(realnode))
        .unwrap_or_else(|e| panic!("{argv:?} starts: {e}"));
    let node = ns.lookup(path.as_bytes(), O_NOTRANS, 0).unwrap();
    ns.set_translator(
        &node,
        0,
        FS_TRANS_SET,
        0,
        &[],
        PortArg::MoveSend(running.control),
    )
    .unwrap();
}

/// The kernel task id of the translator serving the link `path` (its `fsid`), and its
/// command line.
fn link_translator(ns: &Namespace, path: &str) -> (u64, Vec<String>) {
    let link = ns
        .lookup(path.as_bytes(), O_READ | O_NOLINK, 0)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let st = io::io_stat(ns.task(), &link).unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFLNK, "{path}");
    let record = fs::file_get_translator(ns.task(), &link).unwrap();
    (
        st.fsid,
        herd_interfaces::types::argz::split(&record).unwrap(),
    )
}

/// Two names' own directories under /data.
fn data(ns: &Namespace, a: &str, b: &str) {
    ns.mkdir(b"/data", 0o755).unwrap();
    for name in [a, b] {
        ns.mkdir(format!("/data/{name}").as_bytes(), 0o755).unwrap();
        write(
            ns,
            &format!("/data/{name}/x"),
            format!("{name}\n").as_bytes(),
        );
    }
}

#[test]
fn hostmux_starts_one_translator_per_host() {
    let node = Node::boot("hostmux");
    let ns = namespace(&node);
    data(&ns, "alpha", "beta.example.org");
    settrans_active(&ns, "/mux", &["/hurd/hostmux", "/hurd/symlink", "/data/%h"]);

    assert_eq!(ns.stat(b"/mux").unwrap().mode & S_IFMT, S_IFDIR);
    assert!(names(&ns, "/mux").is_empty());
    assert_eq!(read(&ns, "/mux/alpha/x").unwrap(), b"alpha\n");
    assert_eq!(
        read(&ns, "/mux/beta.example.org/x").unwrap(),
        b"beta.example.org\n"
    );

    // Two translators, each with the name in its command.
    let (alpha, alpha_cmd) = link_translator(&ns, "/mux/alpha");
    let (beta, beta_cmd) = link_translator(&ns, "/mux/beta.example.org");
    assert_ne!(alpha, beta);
    assert_eq!(alpha_cmd, ["/hurd/symlink", "/data/alpha"]);
    assert_eq!(beta_cmd, ["/hurd/symlink", "/data/beta.example.org"]);
    // Reused: the same translator answers again.
    assert_eq!(read(&ns, "/mux/alpha/x").unwrap(), b"alpha\n");
    assert_eq!(link_translator(&ns, "/mux/alpha").0, alpha);
    assert_eq!(names(&ns, "/mux"), ["alpha", "beta.example.org"]);

    // Bad host names: nothing started, nothing listed.
    for bad in ["bad_name", "a..b", "-", "x.", &"h".repeat(254)] {
        let path = format!("/mux/{bad}/x");
        assert_eq!(read(&ns, &path).err(), Some(Errno::ENOENT), "{bad}");
    }
    // `..` leads back out of the mux; the mux is read-only.
    assert_eq!(read(&ns, "/mux/../data/alpha/x").unwrap(), b"alpha\n");
    assert_eq!(ns.mkdir(b"/mux/new", 0o755).err(), Some(Errno::EROFS));
    assert_eq!(names(&ns, "/mux"), ["alpha", "beta.example.org"]);
}

#[test]
fn usermux_starts_one_translator_per_user() {
    let node = Node::boot("usermux");
    let ns = namespace(&node);
    data(&ns, "alice", "bob_2");
    settrans_active(
        &ns,
        "/users",
        &["/hurd/usermux", "/hurd/symlink", "/data/%u"],
    );

    assert_eq!(read(&ns, "/users/alice/x").unwrap(), b"alice\n");
    assert_eq!(read(&ns, "/users/bob_2/x").unwrap(), b"bob_2\n");
    let (alice, cmd) = link_translator(&ns, "/users/alice");
    assert_eq!(cmd, ["/hurd/symlink", "/data/alice"]);
    let (bob, _) = link_translator(&ns, "/users/bob_2");
    assert_ne!(alice, bob);
    assert_eq!(read(&ns, "/users/alice/x").unwrap(), b"alice\n");
    assert_eq!(link_translator(&ns, "/users/alice").0, alice);
    assert_eq!(names(&ns, "/users"), ["alice", "bob_2"]);

    for bad in ["Alice", "1x", "a.b", &"u".repeat(33)] {
        let path = format!("/users/{bad}/x");
        assert_eq!(read(&ns, &path).err(), Some(Errno::ENOENT), "{bad}");
    }
    assert_eq!(names(&ns, "/users"), ["alice", "bob_2"]);
}

#[test]
fn usermux_known_only_checks_the_host_users() {
    let node = Node::boot("usermux-known");
    let ns = namespace(&node);
    data(&ns, "root", "nosuchuser_herd");
    settrans_active(
        &ns,
        "/users",
        &["/hurd/usermux", "--known-only", "/hurd/symlink", "/data/%u"],
    );
    assert_eq!(read(&ns, "/users/root/x").unwrap(), b"root\n");
    assert_eq!(
        read(&ns, "/users/nosuchuser_herd/x").err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(names(&ns, "/users"), ["root"]);
}

#[test]
fn an_unknown_server_is_enoent_and_the_mux_stays() {
    let node = Node::boot("hostmux-unknown");
    let ns = namespace(&node);
    settrans_active(&ns, "/mux", &["/hurd/hostmux", "/hurd/ftpfs"]);
    assert_eq!(read(&ns, "/mux/alpha/x").err(), Some(Errno::ENOENT));
    assert_eq!(read(&ns, "/mux/alpha").err(), Some(Errno::ENOENT));
    // Still serving, with nothing started.
    assert_eq!(ns.stat(b"/mux").unwrap().mode & S_IFMT, S_IFDIR);
    assert!(names(&ns, "/mux").is_empty());
}

/// The pid of the process whose command line is `herd ARGS...` exactly.
fn pid_of(args: &[&str]) -> Option<i32> {
    let want: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let (_, rest) = cmdline.split_at(cmdline.iter().position(|b| *b == 0)? + 1);
        (rest == want.as_slice()).then_some(pid)
    })
}

#[test]
fn a_dead_translator_is_started_again() {
    let node = Node::boot("hostmux-restart");
    let ns = namespace(&node);
    // A host name no other test process uses, so its translator can be found.
    let host = format!("r{}", std::process::id());
    data(&ns, &host, "unused");
    settrans_active(&ns, "/mux", &["/hurd/hostmux", "/hurd/symlink", "/data/%h"]);
    let path = format!("/mux/{host}/x");
    assert_eq!(read(&ns, &path).unwrap(), format!("{host}\n").as_bytes());

    let target = format!("/data/{host}");
    let old = pid_of(&["symlink", &target]).expect("the translator's process");
    let pid = rustix::process::Pid::from_raw(old).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();

    // The next lookups find it dead and start it again (within a deadline): a new
    // process with the same command answers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok(data) = read(&ns, &path) {
            if pid_of(&["symlink", &target]).is_some_and(|new| new != old) {
                assert_eq!(data, format!("{host}\n").as_bytes());
                break;
            }
        }
        assert!(std::time::Instant::now() < deadline, "not restarted");
        std::thread::yield_now();
    }
    assert_eq!(names(&ns, "/mux"), [host]);
}
