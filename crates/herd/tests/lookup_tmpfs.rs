//! herd-hurd's lookup and file calls against the real servers: `herd tmpfs` as the root,
//! symlinks made the Hurd's way and followed (relative ones by the server, absolute ones
//! by the client), translators stacked three deep and crossed both ways (`..` out of a
//! translator is a reauthentication retry), a passive translator started on demand and
//! started again after it went away.

mod lookup_boot;

use herd_hurd::Namespace;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFLNK, S_IFMT};
use herd_interfaces::types::consts::open::{O_NOFOLLOW, O_NOTRANS, O_READ};
use herd_interfaces::types::consts::trans::FS_TRANS_SET;
use herd_runtime::{Errno, PortArg};
use lookup_boot::{launcher, names, namespace, read, write, Node};

/// Starts `herd tmpfs` on the node `path` as its active translator.
fn mount_tmpfs(ns: &Namespace, path: &str) {
    let realnode = ns.lookup(path.as_bytes(), O_NOTRANS, 0).unwrap();
    let running = launcher()
        .start(
            ns.task(),
            &["/hurd/tmpfs".to_string()],
            PortArg::MoveSend(realnode),
        )
        .expect("tmpfs starts");
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

#[test]
fn symlinks_made_and_followed() {
    let node = Node::boot("symlinks");
    let ns = namespace(&node);
    ns.mkdir(b"/etc", 0o755).unwrap();
    write(&ns, "/etc/passwd", b"root:x:0:0\n");
    ns.symlink(b"/etc/passwd", b"/abs").unwrap();
    ns.symlink(b"etc/passwd", b"/rel").unwrap();
    ns.symlink(b"/etc", b"/etc-link").unwrap();
    ns.symlink(b"loop", b"/loop").unwrap();
    ns.symlink(b"/aloop", b"/aloop").unwrap();
    assert_eq!(ns.symlink(b"x", b"/abs"), Err(Errno::EEXIST));
    assert_eq!(ns.symlink(b"", b"/empty"), Err(Errno::ENOENT));

    assert_eq!(read(&ns, "/abs").unwrap(), b"root:x:0:0\n");
    assert_eq!(read(&ns, "/rel").unwrap(), b"root:x:0:0\n");
    assert_eq!(read(&ns, "etc-link/passwd").unwrap(), b"root:x:0:0\n");
    assert_eq!(read(&ns, "/loop").unwrap_err(), Errno::ELOOP);
    assert_eq!(read(&ns, "/aloop").unwrap_err(), Errno::ELOOP);
    assert_eq!(ns.lookup(b"/abs", O_NOFOLLOW, 0).err(), Some(Errno::ELOOP));

    // The link itself: its status and its record.
    assert_eq!(ns.lstat(b"/abs").unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(ns.lstat(b"/etc-link").unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(ns.stat(b"/etc-link").unwrap().mode & S_IFMT, S_IFDIR);
    let link = ns.lookup_node(b"/abs").unwrap();
    assert_eq!(
        ns.get_translator(&link).unwrap(),
        ["/hurd/symlink", "/etc/passwd"]
    );

    ns.rename(b"/rel", b"/etc/rel2").unwrap();
    // Relative to its new directory now.
    assert_eq!(read(&ns, "/etc/rel2").unwrap_err(), Errno::ENOENT);
    ns.unlink(b"/abs").unwrap();
    assert_eq!(read(&ns, "/abs").unwrap_err(), Errno::ENOENT);
    assert_eq!(read(&ns, "/etc/passwd").unwrap(), b"root:x:0:0\n");
}

#[test]
fn translators_stacked_three_deep() {
    let node = Node::boot("stacked");
    let ns = namespace(&node);
    ns.mkdir(b"/a", 0o755).unwrap();
    write(&ns, "/x", b"top\n");
    mount_tmpfs(&ns, "/a");
    ns.mkdir(b"/a/b", 0o755).unwrap();
    write(&ns, "/a/y", b"first\n");
    mount_tmpfs(&ns, "/a/b");
    ns.mkdir(b"/a/b/c", 0o755).unwrap();
    mount_tmpfs(&ns, "/a/b/c");
    write(&ns, "/a/b/c/leaf", b"three deep\n");

    assert_eq!(read(&ns, "/a/b/c/leaf").unwrap(), b"three deep\n");
    assert_eq!(names(&ns, "/a/b/c"), ["leaf"]);
    assert_eq!(names(&ns, "/a"), ["b", "y"]);
    // Out through each translator's root again.
    assert_eq!(read(&ns, "/a/b/c/../../y").unwrap(), b"first\n");
    assert_eq!(read(&ns, "/a/b/c/../../../x").unwrap(), b"top\n");
    let c = ns.lookup(b"/a/b/c", O_READ, 0).unwrap();
    assert_eq!(
        ns.read_all(&ns.lookup_at(&c, b"../../y", O_READ, 0).unwrap())
            .unwrap(),
        b"first\n"
    );
    // Each mount point is its translator's root; underneath, the node it sits on.
    assert_eq!(ns.fs_options(&c).unwrap()[0], "tmpfs");
    let under = ns.lookup(b"/a/b/c", O_NOTRANS, 0).unwrap();
    assert_eq!(ns.fs_options(&under).unwrap()[0], "tmpfs");
    assert!(ns.get_translator_cntl(&under).is_ok());
}

#[test]
fn passive_translators_start_on_demand_and_again_after_going_away() {
    let node = Node::boot("passive");
    let ns = namespace(&node);
    ns.mkdir(b"/p", 0o755).unwrap();
    let p = ns.lookup(b"/p", O_NOTRANS, 0).unwrap();
    ns.set_translator(
        &p,
        FS_TRANS_SET,
        0,
        0,
        &argz::join(&["/hurd/tmpfs"]),
        PortArg::Null,
    )
    .unwrap();
    assert_eq!(ns.get_translator(&p).unwrap(), ["/hurd/tmpfs"]);
    // The first lookup through it starts it.
    ns.mkdir(b"/p/inside", 0o755).unwrap();
    assert_eq!(names(&ns, "/p"), ["inside"]);
    // Sent away, it is started afresh (and empty) by the next lookup.
    let control = ns.get_translator_cntl(&p).unwrap();
    ns.fsys_goaway(&control, FSYS_GOAWAY_FORCE).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match ns.list(b"/p") {
            Ok(entries) if entries.iter().all(|e| e.name != "inside") => break,
            _ if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            other => panic!("the translator was not restarted: {other:?}"),
        }
    }
    // An unknown server in a passive record: a clear error, not a hang.
    ns.mkdir(b"/bad", 0o755).unwrap();
    let bad = ns.lookup(b"/bad", O_NOTRANS, 0).unwrap();
    let record = argz::join(&["/hurd/no-such-server"]);
    ns.set_translator(&bad, FS_TRANS_SET, 0, 0, &record, PortArg::Null)
        .unwrap();
    assert_eq!(ns.stat(b"/bad/x").err(), Some(Errno::ENOENT));
}
