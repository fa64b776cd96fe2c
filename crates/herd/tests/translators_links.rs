//! `herd symlink` and `herd firmlink` as real translators set active on tmpfs nodes of a
//! booted node: lookups through them (absolute and relative targets, further components
//! after the link), the link itself (`S_IFLNK`, its record from `file_get_translator`),
//! `O_NOFOLLOW`, and loops (`ELOOP`).

mod lookup_boot;

use herd_hurd::Namespace;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use herd_interfaces::types::consts::open::{
    O_CREAT, O_NOFOLLOW, O_NOLINK, O_NOTRANS, O_READ, O_WRITE,
};
use herd_interfaces::types::consts::trans::FS_TRANS_SET;
use herd_interfaces::{fs, io};
use herd_runtime::{Errno, PortArg};
use lookup_boot::{launcher, Node};

fn namespace(node: &Node) -> Namespace {
    let root = node.root.as_ref().expect("a root").try_clone().unwrap();
    Namespace::new(node.task.clone(), root).unwrap()
}

fn write(ns: &Namespace, path: &str, data: &[u8]) {
    let f = ns
        .lookup(path.as_bytes(), O_WRITE | O_CREAT, 0o644)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    ns.write_all(&f, data).unwrap();
}

fn read(ns: &Namespace, path: &str) -> Result<Vec<u8>, Errno> {
    let f = ns.lookup(path.as_bytes(), O_READ, 0)?;
    ns.read_all(&f)
}

/// Makes `path` a file and starts `argv` on it as its active translator.
fn settrans_active(ns: &Namespace, path: &str, argv: &[&str]) {
    let f = ns
        .lookup(path.as_bytes(), O_WRITE | O_CREAT, 0o644)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    drop(f);
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

/// The link node itself, through its translator (`O_NOLINK`).
fn link_itself(ns: &Namespace, path: &str) -> herd_runtime::SendRight {
    ns.lookup(path.as_bytes(), O_READ | O_NOLINK, 0).unwrap()
}

#[test]
fn symlink_translator_sends_lookups_on_to_its_target() {
    let node = Node::boot("symlink-trans");
    let ns = namespace(&node);
    ns.mkdir(b"/etc", 0o755).unwrap();
    ns.mkdir(b"/d", 0o755).unwrap();
    write(&ns, "/etc/motd", b"hello\n");
    settrans_active(&ns, "/abs", &["/hurd/symlink", "/etc/motd"]);
    settrans_active(&ns, "/d/rel", &["/hurd/symlink", "../etc"]);
    settrans_active(&ns, "/dirlink", &["/hurd/symlink", "/etc"]);

    assert_eq!(read(&ns, "/abs").unwrap(), b"hello\n");
    assert_eq!(read(&ns, "/d/rel/motd").unwrap(), b"hello\n");
    assert_eq!(read(&ns, "/dirlink/motd").unwrap(), b"hello\n");
    assert_eq!(ns.stat(b"/dirlink").unwrap().mode & S_IFMT, S_IFDIR);
    // Written through the link: the target changes.
    let f = ns.lookup(b"/abs", O_WRITE, 0).unwrap();
    ns.write_all(&f, b"HELLO\n").unwrap();
    assert_eq!(read(&ns, "/etc/motd").unwrap(), b"HELLO\n");

    // The link itself: S_IFLNK, the target's length, its text, its record.
    let me = link_itself(&ns, "/abs");
    let st = io::io_stat(ns.task(), &me).unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFLNK);
    assert_eq!(st.size, "/etc/motd".len() as u64);
    assert_eq!(ns.read_all(&me).unwrap(), b"/etc/motd");
    assert_eq!(
        ns.get_translator(&me).unwrap(),
        ["/hurd/symlink", "/etc/motd"]
    );
    // The node under it is the plain file it was set on.
    assert_eq!(ns.lstat(b"/abs").unwrap().mode & S_IFMT, S_IFREG);
    assert_eq!(
        ns.lookup(b"/abs", O_READ | O_NOFOLLOW, 0).err(),
        Some(Errno::ELOOP)
    );
    assert_eq!(
        ns.lookup(b"/d/rel/nothing", O_READ, 0).err(),
        Some(Errno::ENOENT)
    );
}

#[test]
fn symlink_translator_loops_are_eloop() {
    let node = Node::boot("symlink-loop");
    let ns = namespace(&node);
    settrans_active(&ns, "/a", &["/hurd/symlink", "b"]);
    settrans_active(&ns, "/b", &["/hurd/symlink", "/a"]);
    settrans_active(&ns, "/self", &["/hurd/symlink", "self/x"]);
    assert_eq!(ns.lookup(b"/a", O_READ, 0).err(), Some(Errno::ELOOP));
    assert_eq!(ns.lookup(b"/b/c", O_READ, 0).err(), Some(Errno::ELOOP));
    assert_eq!(ns.lookup(b"/self", O_READ, 0).err(), Some(Errno::ELOOP));
    // Bad arguments: the translator does not start.
    let realnode = ns.lookup(b"/a", O_NOTRANS, 0).unwrap();
    assert!(launcher()
        .start(
            ns.task(),
            &["/hurd/symlink".to_string(), String::new()],
            PortArg::MoveSend(realnode)
        )
        .is_err());
}

#[test]
fn firmlink_opens_its_target_in_the_translators_namespace() {
    let node = Node::boot("firmlink");
    let ns = namespace(&node);
    ns.mkdir(b"/data", 0o755).unwrap();
    ns.mkdir(b"/data/sub", 0o755).unwrap();
    write(&ns, "/data/sub/f", b"firm\n");
    ns.mkdir(b"/d", 0o755).unwrap();
    settrans_active(&ns, "/d/link", &["/hurd/firmlink", "/data"]);
    settrans_active(&ns, "/rel", &["/hurd/firmlink", "data/sub/f"]);

    assert_eq!(read(&ns, "/d/link/sub/f").unwrap(), b"firm\n");
    assert_eq!(read(&ns, "/rel").unwrap(), b"firm\n");
    assert_eq!(ns.stat(b"/d/link").unwrap().mode & S_IFMT, S_IFDIR);
    // Made through the link, seen at the target.
    write(&ns, "/d/link/new", b"n");
    assert_eq!(read(&ns, "/data/new").unwrap(), b"n");
    assert_eq!(
        ns.lookup(b"/d/link/none", O_READ, 0).err(),
        Some(Errno::ENOENT)
    );

    // `..` from the target leads back to where the link is, not to the target's parent.
    assert_eq!(names(&ns, "/d/link/.."), ["link"]);
    assert_eq!(names(&ns, "/d/link/sub/../.."), ["link"]);
    assert_eq!(names(&ns, "/data/.."), ["d", "data", "rel"]);
    let me = link_itself(&ns, "/d/link");
    assert_eq!(io::io_stat(ns.task(), &me).unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(
        argz_words(&fs::file_get_translator(ns.task(), &me).unwrap()),
        ["/hurd/firmlink", "/data"]
    );

    // A firmlink through itself: ELOOP, not a hang; the translator still serves.
    settrans_active(&ns, "/loop", &["/hurd/firmlink", "/loop/x"]);
    assert_eq!(ns.lookup(b"/loop", O_READ, 0).err(), Some(Errno::ELOOP));
    assert_eq!(read(&ns, "/rel").unwrap(), b"firm\n");
}

fn names(ns: &Namespace, path: &str) -> Vec<String> {
    let mut names: Vec<String> = ns
        .list(path.as_bytes())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    names
}

fn argz_words(data: &[u8]) -> Vec<String> {
    herd_interfaces::types::argz::split(data).unwrap()
}
