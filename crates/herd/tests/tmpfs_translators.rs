//! Translators on tmpfs nodes, with real processes: passive ones started by the first
//! lookup that crosses them (once, however many look at once), active ones set with
//! settrans semantics, tmpfs stacked three deep, translators killed and looked up through
//! again, translators that never start or do not exist, `..` out of translator roots,
//! and symlinks.

mod tmpfs_fixture;

use std::time::{Duration, Instant};

use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::mode::{S_IFCHR, S_IFLNK, S_IFMT, S_IFREG};
use herd_interfaces::types::consts::open::{
    O_CREAT, O_NOFOLLOW, O_NOLINK, O_NOTRANS, O_READ, O_WRITE,
};
use herd_interfaces::types::consts::trans::{FS_TRANS_EXCL, FS_TRANS_SET};
use herd_interfaces::{fs, io};
use herd_iohelp::User;
use herd_runtime::{Errno, PortArg, SendRight, ServeOptions, Task};
use tmpfs_fixture::*;

/// Sets the passive translator `words` on `node`.
fn set_passive(task: &Task, node: &SendRight, words: &[&str]) {
    fs::file_set_translator(
        task,
        node,
        FS_TRANS_SET,
        0,
        0,
        &argz::join(words),
        PortArg::Null,
    )
    .expect("set passive translator");
}

/// Makes `dir/name` a symlink to `target` the Hurd's way: mkfile, record, link.
fn symlink(task: &Task, dir: &SendRight, name: &str, target: &str) {
    let node = fs::dir_mkfile(task, dir, O_WRITE, 0o777)
        .unwrap()
        .into_send()
        .unwrap();
    set_passive(task, &node, &["/hurd/symlink", target]);
    fs::dir_link(task, dir, PortArg::CopySend(node.name()), name, true).unwrap();
}

/// Waits until exactly `n` children have `word` in their command line.
fn wait_children(word: &str, n: usize) -> Vec<u32> {
    let deadline = Instant::now() + LONG;
    loop {
        let pids = children_running(word);
        if pids.len() == n || Instant::now() > deadline {
            return pids;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_passive_translator_starts_once_on_demand_and_again_after_a_kill() {
    let t = start_tmpfs("passive", &[]);
    let task = &t.task;
    let root = t.root(0, O_READ).unwrap();
    let lookup = |path: &str, flags| resolve(task, &root, &root, path, flags, 0o644);
    let node = lookup("zero", O_CREAT | O_WRITE).unwrap();
    set_passive(task, &node, &["/hurd/zero", "--mode", "604"]);
    assert_eq!(
        argz::split(&fs::file_get_translator(task, &node).unwrap()).unwrap(),
        ["/hurd/zero", "--mode", "604"]
    );
    assert!(
        children_running("604").is_empty(),
        "nothing runs before a lookup"
    );
    // Many lookups at once: one start.
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (task, root) = (task.clone(), root.try_clone().unwrap());
            std::thread::spawn(move || {
                let z = resolve(&task, &root, &root, "zero", O_READ, 0).unwrap();
                assert_eq!(io::io_read(&task, &z, -1, 8), Ok(vec![0; 8]));
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    let pids = wait_children("604", 1);
    assert_eq!(pids.len(), 1, "one translator: {pids:?}");
    let z = lookup("zero", O_READ).unwrap();
    let st = io::io_stat(task, &z).unwrap();
    // On a node, the translator shows the node's permission bits.
    assert_eq!(st.mode, S_IFCHR | 0o644);
    let under = lookup("zero", O_READ | O_NOTRANS).unwrap();
    assert_eq!(io::io_stat(task, &under).unwrap().mode & S_IFMT, S_IFREG);

    kill_and_wait(pids[0]);
    assert_eq!(io::io_read(task, &z, -1, 1), Err(Errno::EDIED));
    // The next lookup restarts it from the passive record.
    let z = lookup("zero", O_READ).unwrap();
    assert_eq!(io::io_read(task, &z, -1, 4), Ok(vec![0; 4]));
    let again = wait_children("604", 1);
    assert_eq!(again.len(), 1);
    assert_ne!(again, pids);

    // A translator herd does not have: ENOENT, at once.
    let bogus = lookup("bogus", O_CREAT | O_WRITE).unwrap();
    set_passive(task, &bogus, &["/hurd/ext9fs", "file:disk.img"]);
    assert_eq!(lookup("bogus", O_READ).err(), Some(Errno::ENOENT));
    // One that dies at start: an error, not a hang.
    let bad = lookup("bad", O_CREAT | O_WRITE).unwrap();
    set_passive(task, &bad, &["/hurd/zero", "--no-such-option"]);
    let started = Instant::now();
    assert_eq!(lookup("bad", O_READ).err(), Some(Errno::EDIED));
    assert!(started.elapsed() < LONG);
}

#[test]
fn active_translators_with_settrans_semantics() {
    let t = start_tmpfs("active", &[]);
    let task = &t.task;
    let root = t.root(0, O_READ).unwrap();
    let lookup = |path: &str, flags| resolve(task, &root, &root, path, flags, 0o644);
    let node = lookup("dev", O_CREAT | O_WRITE).unwrap();
    let start_null = |marker: &str| {
        let argv = ["/hurd/null".to_string(), "--mode".into(), marker.into()];
        launcher()
            .start(task, &argv, PortArg::Null)
            .expect("null starts")
    };
    let null = start_null("611");
    fs::file_set_translator(
        task,
        &node,
        0,
        FS_TRANS_SET,
        0,
        &[],
        PortArg::MoveSend(null.control),
    )
    .unwrap();
    let n = lookup("dev", O_READ | O_WRITE).unwrap();
    assert_eq!(io::io_stat(task, &n).unwrap().mode & S_IFMT, S_IFCHR);
    assert_eq!(io::io_write(task, &n, b"gone", -1), Ok(4));
    // EXCL refuses to replace a running one.
    let other = start_null("612");
    assert_eq!(
        fs::file_set_translator(
            task,
            &node,
            0,
            FS_TRANS_SET | FS_TRANS_EXCL,
            0,
            &[],
            PortArg::MoveSend(other.control),
        ),
        Err(Errno::EBUSY)
    );
    assert!(fs::file_get_translator_cntl(task, &node).is_ok());
    // Go away: refused while open unless forced.
    assert_eq!(
        fs::file_set_translator(task, &node, 0, FS_TRANS_SET, 0, &[], PortArg::Null),
        Err(Errno::EBUSY)
    );
    fs::file_set_translator(
        task,
        &node,
        0,
        FS_TRANS_SET,
        FSYS_GOAWAY_FORCE,
        &[],
        PortArg::Null,
    )
    .unwrap();
    assert_eq!(io::io_write(task, &n, b"x", -1), Err(Errno::EDIED));
    let plain = lookup("dev", O_READ).unwrap();
    assert_eq!(io::io_stat(task, &plain).unwrap().mode & S_IFMT, S_IFREG);

    // An active-only translator killed: EDIED once, then the node shows through.
    let null = start_null("613");
    let pid = null.pid;
    fs::file_set_translator(
        task,
        &node,
        0,
        FS_TRANS_SET,
        0,
        &[],
        PortArg::MoveSend(null.control),
    )
    .unwrap();
    assert_eq!(
        io::io_stat(task, &lookup("dev", O_READ).unwrap())
            .unwrap()
            .mode
            & S_IFMT,
        S_IFCHR
    );
    kill_and_wait(pid);
    assert_eq!(lookup("dev", O_READ).err(), Some(Errno::EDIED));
    let plain = lookup("dev", O_READ).unwrap();
    assert_eq!(io::io_stat(task, &plain).unwrap().mode & S_IFMT, S_IFREG);
}

#[test]
fn three_tmpfs_stacked_killed_and_looked_up_through_again() {
    let t = start_tmpfs("stack", &[]);
    let task = &t.task;
    let root = t.root(0, O_READ).unwrap();
    let lookup = |path: &str, flags| resolve(task, &root, &root, path, flags, 0o644);
    fs::dir_mkdir(task, &root, "l1", 0o755).unwrap();
    set_passive(
        task,
        &lookup("l1", O_NOTRANS).unwrap(),
        &["/hurd/tmpfs", "--size=1001k"],
    );
    let l1 = lookup("l1", O_READ).unwrap();
    fs::dir_mkdir(task, &l1, "l2", 0o755).unwrap();
    set_passive(
        task,
        &lookup("l1/l2", O_NOTRANS).unwrap(),
        &["/hurd/tmpfs", "--size=1002k"],
    );
    let l2 = lookup("l1/l2", O_READ).unwrap();
    fs::dir_mkdir(task, &l2, "l3", 0o755).unwrap();
    set_passive(
        task,
        &lookup("l1/l2/l3", O_NOTRANS).unwrap(),
        &["/hurd/tmpfs", "--size=1003k"],
    );
    let l3 = lookup("l1/l2/l3", O_READ).unwrap();
    fs::dir_mkdir(task, &l3, "deep", 0o755).unwrap();
    let f = lookup("l1/l2/l3/deep/file", O_CREAT | O_WRITE).unwrap();
    io::io_write(task, &f, b"three down", -1).unwrap();
    assert_eq!(
        read_all(task, &lookup("l1/l2/l3/deep/file", O_READ).unwrap()),
        b"three down"
    );
    let fsid = |p: &SendRight| io::io_stat(task, p).unwrap().fsid;
    let fsids = [fsid(&root), fsid(&l1), fsid(&l2), fsid(&l3)];
    assert_eq!(
        fsids.iter().collect::<std::collections::HashSet<_>>().len(),
        4
    );
    // Each root sits on its directory: owner and permissions come from it.
    assert_eq!(io::io_stat(task, &l2).unwrap().mode & 0o777, 0o755);

    // `..` out of each translator's root leads to the directory it sits on.
    let up = lookup("l1/l2/l3/..", O_READ).unwrap();
    assert_eq!(
        (fsid(&up), io::io_stat(task, &up).unwrap().ino),
        (fsids[2], 1)
    );
    let top = lookup("l1/l2/l3/../../..", O_READ).unwrap();
    assert_eq!(
        (fsid(&top), io::io_stat(task, &top).unwrap().ino),
        (fsids[0], 1)
    );
    let top_again = lookup("l1/l2/l3/deep/../../../../l1/l2/l3/deep/file", O_READ).unwrap();
    assert_eq!(read_all(task, &top_again), b"three down");
    // `..` at the real root stays there.
    assert_eq!(fsid(&lookup("../..", O_READ).unwrap()), fsids[0]);

    // Kill the innermost: the next lookup restarts it (empty: tmpfs is memory).
    let pids = wait_children("--size=1003k", 1);
    assert_eq!(pids.len(), 1);
    kill_and_wait(pids[0]);
    assert_eq!(io::io_read(task, &f, 0, 1), Err(Errno::EDIED));
    let l3 = lookup("l1/l2/l3", O_READ).unwrap();
    assert!(names(task, &l3).is_empty());
    assert_eq!(
        lookup("l1/l2/l3/deep/file", O_READ).err(),
        Some(Errno::ENOENT)
    );
    let restarted = wait_children("--size=1003k", 1);
    assert_eq!(restarted.len(), 1);
    assert_ne!(restarted, pids);
    // The ones above kept their files.
    assert_eq!(names(task, &lookup("l1/l2", O_READ).unwrap()), ["l3"]);
}

#[test]
fn symlinks_relative_absolute_and_loops() {
    let t = start_tmpfs("symlink", &[]);
    let task = &t.task;
    let root = t.root(0, O_READ).unwrap();
    let lookup = |path: &str, flags| resolve(task, &root, &root, path, flags, 0o644);
    fs::dir_mkdir(task, &root, "a", 0o755).unwrap();
    let f = lookup("a/file", O_CREAT | O_WRITE).unwrap();
    io::io_write(task, &f, b"target", -1).unwrap();
    symlink(task, &root, "rel", "a/file");
    symlink(task, &root, "abs", "/a/file");
    symlink(task, &root, "dir", "a");
    assert_eq!(read_all(task, &lookup("rel", O_READ).unwrap()), b"target");
    assert_eq!(read_all(task, &lookup("abs", O_READ).unwrap()), b"target");
    assert_eq!(
        read_all(task, &lookup("dir/file", O_READ).unwrap()),
        b"target"
    );
    assert_eq!(names(task, &root), ["a", "rel", "abs", "dir"]);
    // The link itself.
    let link = lookup("rel", O_NOLINK).unwrap();
    assert_eq!(io::io_stat(task, &link).unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(
        argz::split(&fs::file_get_translator(task, &link).unwrap()).unwrap(),
        ["/hurd/symlink", "a/file"]
    );
    assert_eq!(lookup("rel", O_READ | O_NOFOLLOW).err(), Some(Errno::ELOOP));
    // Loops end.
    symlink(task, &root, "loop1", "loop2");
    symlink(task, &root, "loop2", "loop1");
    assert_eq!(lookup("loop1", O_READ).err(), Some(Errno::ELOOP));
    symlink(task, &root, "self", "/self");
    assert_eq!(lookup("self", O_READ).err(), Some(Errno::ELOOP));
    // A symlink record set on a plain file makes it a link too.
    let plain = lookup("plain", O_CREAT | O_WRITE).unwrap();
    set_passive(task, &plain, &["/hurd/symlink", "a/file"]);
    assert_eq!(read_all(task, &lookup("plain", O_READ).unwrap()), b"target");
}

#[test]
fn in_process_server_and_translators_that_never_start() {
    let (_kernel, task) = kernel("hang");
    let baseline = task.stats().unwrap();
    let dir = std::env::temp_dir().join(format!("herd-tmpfs-hang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    let hang = script("hang", "exec sleep 600");
    let launcher = herd_fshelp::Launcher::with_program(&hang).timeout(Duration::from_millis(300));
    let server = herd_tmpfs_server::Tmpfs::new(&task, &Default::default(), launcher, None).unwrap();
    let serving = {
        let server = server.clone();
        std::thread::spawn(move || server.serve(ServeOptions::default()))
    };
    let root = server.root(&User::root(), O_READ).unwrap();
    let node = resolve(&task, &root, &root, "never", O_CREAT | O_WRITE, 0o644).unwrap();
    set_passive(&task, &node, &["/hurd/zero"]);
    let started = Instant::now();
    assert_eq!(
        resolve(&task, &root, &root, "never", O_READ, 0).err(),
        Some(Errno::ETIMEDOUT)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The server still serves, and the hung process was killed.
    assert_eq!(io::io_write(&task, &node, b"ok", -1), Ok(2));
    let deadline = Instant::now() + LONG;
    while !children_running(hang.to_str().unwrap()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the hung translator was not killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop((node, root));
    server.shutdown();
    serving.join().unwrap().unwrap();
    drop(server);
    let deadline = Instant::now() + LONG;
    loop {
        let now = task.stats().unwrap();
        // Plus one port and name: this thread's reply port, made by its first RPC.
        let reply_port = 1;
        if now.ports == baseline.ports + reply_port
            && now.names == baseline.names + reply_port
            && (now.tasks, now.send_rights, now.queued_messages)
                == (
                    baseline.tasks,
                    baseline.send_rights,
                    baseline.queued_messages,
                )
        {
            break;
        }
        assert!(Instant::now() < deadline, "{now:?} vs {baseline:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_forced_goaway_takes_the_stack_down_and_the_kernel_returns_to_zero() {
    let t = start_tmpfs("teardown", &[]);
    let task = &t.task;
    let baseline_tasks = 1;
    let root = t.root(0, O_READ).unwrap();
    let lookup = |path: &str, flags| resolve(task, &root, &root, path, flags, 0o644);
    fs::dir_mkdir(task, &root, "m", 0o755).unwrap();
    set_passive(
        task,
        &lookup("m", O_NOTRANS).unwrap(),
        &["/hurd/tmpfs", "--size=2001k"],
    );
    let m = lookup("m", O_READ).unwrap();
    let z = resolve(task, &root, &m, "z", O_CREAT | O_WRITE, 0o644).unwrap();
    set_passive(task, &z, &["/hurd/zero", "--mode", "621"]);
    let zero = lookup("m/z", O_READ).unwrap();
    assert_eq!(io::io_read(task, &zero, -1, 2), Ok(vec![0, 0]));
    assert_eq!(task.stats().unwrap().tasks, baseline_tasks + 3);
    // Not forced: in use.
    assert_eq!(
        herd_interfaces::fsys::fsys_goaway(task, &t.control, 0),
        Err(Errno::EBUSY)
    );
    herd_interfaces::fsys::fsys_goaway(task, &t.control, FSYS_GOAWAY_FORCE).unwrap();
    assert_eq!(io::io_read(task, &zero, -1, 1), Err(Errno::EDIED));
    drop((zero, z, m, root));
    let Tmpfs {
        task,
        control,
        kernel: _kernel,
        ..
    } = t;
    drop(control);
    let deadline = Instant::now() + LONG;
    loop {
        let s = task.stats().unwrap();
        // What is left: this task, and at most its thread's reply port.
        let settled = (s.tasks, s.send_rights, s.queued_messages) == (1, 0, 0);
        if settled && s.ports <= 1 && s.names == s.ports {
            break;
        }
        assert!(Instant::now() < deadline, "left over: {s:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(children_running("--size=2001k").is_empty());
    assert!(children_running("621").is_empty());
}
