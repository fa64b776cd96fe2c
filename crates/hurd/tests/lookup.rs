//! The client-side lookup against fake file servers (tests/fake): retries across
//! translators, symlinks relative and absolute, magic names, reauthentication, loops,
//! a server that never answers, enormous names; and the file helpers over the same
//! servers (chunked reads and short writes, paged directory listings, mkdir, unlink).

mod fake;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake::{FakeFs, Kind, World};
use herd_hurd::errno::{EILSEQ, EPROTO};
use herd_hurd::{lookup, Namespace, Options};
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use herd_interfaces::types::consts::open::{O_DIRECTORY, O_NOFOLLOW, O_READ};
use herd_runtime::{Errno, ReceiveRight};

/// Three servers: `a` (the root), `b` mounted on `/mnt`, `c` mounted on `/mnt/inner`;
/// plus a port nobody serves, mounted on `/hung`.
struct Setup {
    ns: Namespace,
    a: Arc<FakeFs>,
    _servers: Vec<Arc<FakeFs>>,
    _hung: ReceiveRight,
    _world: World,
}

fn file(data: &[u8]) -> Kind {
    Kind::File {
        data: data.to_vec(),
        pos: 0,
    }
}

fn big() -> Vec<u8> {
    (0..100_000u32).map(|i| (i % 251) as u8).collect()
}

fn setup(label: &str) -> Setup {
    let world = World::new(label);
    let (a, b, c) = (
        FakeFs::new(&world.server),
        FakeFs::new(&world.server),
        FakeFs::new(&world.server),
    );
    let hung = world.server.allocate_port().unwrap();

    c.add(0, "leaf", file(b"leaf of c\n"));
    b.add(0, "hello", file(b"hi from b\n"));
    b.add(0, "inner", Kind::Mount(c.port(0)));

    let etc = a.add(0, "etc", Kind::Dir(BTreeMap::new()));
    a.add(etc, "passwd", file(b"root:x:0:0\n"));
    a.add(0, "big", file(&big()));
    a.add(0, "out", file(b""));
    a.add(0, "mnt", Kind::Mount(b.port(0)));
    a.add(0, "rel", Kind::Symlink("etc/passwd".into()));
    a.add(0, "abs", Kind::Symlink("/etc".into()));
    a.add(0, "loop1", Kind::Symlink("loop2".into()));
    a.add(0, "loop2", Kind::Symlink("loop1".into()));
    a.add(0, "aloop", Kind::Symlink("/aloop".into()));
    a.add(0, "auth", Kind::Reauth(b.port(0)));
    a.add(0, "stdin", Kind::Magic("fd/0".into()));
    a.add(0, "tty", Kind::Magic("tty".into()));
    a.add(0, "bogus", Kind::Magic("bogus".into()));
    a.add(0, "same", Kind::Magic(String::new()));
    a.add(0, "huge", Kind::Magic("x".repeat(5000)));
    a.add(0, "mt", Kind::Magic("machtype".into()));
    let arch = a.add(0, std::env::consts::ARCH, Kind::Dir(BTreeMap::new()));
    a.add(arch, "lib", file(b"arch lib\n"));
    let device = a.add(0, "devnode", Kind::Device);
    a.add(0, "dev", Kind::Mount(a.port(device)));
    a.add(0, "hung", Kind::Mount(hung.name()));
    // A translator that died: its root port is gone by the time anyone crosses it.
    let dead = world.server.allocate_port().unwrap();
    a.add(0, "dead", Kind::Mount(dead.name()));
    drop(dead);
    for fs in [&a, &b, &c] {
        fs.serve();
    }

    let root = world.give("root", a.port(0));
    let ns = Namespace::new(world.client.clone(), root)
        .unwrap()
        .with_options(Options {
            timeout: Some(Duration::from_secs(20)),
            ..Options::default()
        });
    Setup {
        ns,
        a: a.clone(),
        _servers: vec![a, b, c],
        _hung: hung,
        _world: world,
    }
}

impl Setup {
    fn read(&self, path: &str) -> Result<Vec<u8>, Errno> {
        let f = self.ns.lookup(path.as_bytes(), O_READ, 0)?;
        self.ns.read_all(&f)
    }

    fn err(&self, path: &[u8], flags: u32) -> Errno {
        self.ns.lookup(path, flags, 0).expect_err("lookup fails")
    }
}

#[test]
fn normal_retries_cross_any_number_of_translators() {
    let s = setup("normal");
    assert_eq!(s.read("/mnt/hello").unwrap(), b"hi from b\n");
    assert_eq!(s.read("mnt/inner/leaf").unwrap(), b"leaf of c\n");
    assert_eq!(s.read("//mnt//inner/./leaf").unwrap(), b"leaf of c\n");
    // Ending on a mount point gives the translator's root.
    let st = s.ns.stat(b"/mnt/inner").unwrap();
    assert_eq!((st.mode & S_IFMT, st.ino), (S_IFDIR, 0));
    // The free function, relative to a directory given as cwd.
    let etc = s.ns.lookup(b"/etc", 0, 0).unwrap();
    let f = lookup(s.ns.task(), s.ns.root(), &etc, b"passwd", O_READ, 0).unwrap();
    assert_eq!(s.ns.read_all(&f).unwrap(), b"root:x:0:0\n");
    let at = s.ns.lookup_at(&etc, b"../mnt/hello", O_READ, 0).unwrap();
    assert_eq!(s.ns.read_all(&at).unwrap(), b"hi from b\n");
    // A reauthentication answer is followed (reauth itself waits for the auth server).
    assert_eq!(s.read("/auth/hello").unwrap(), b"hi from b\n");
}

#[test]
fn the_retry_limit_is_an_option() {
    let s = setup("limit");
    let tight = |n| {
        Namespace::new(s.ns.task().clone(), s.ns.root().clone())
            .unwrap()
            .with_options(Options {
                max_retries: n,
                ..s.ns.options().clone()
            })
    };
    assert_eq!(
        tight(1).lookup(b"/mnt/inner/leaf", 0, 0).err(),
        Some(Errno::ELOOP)
    );
    assert!(tight(2).lookup(b"/mnt/inner/leaf", 0, 0).is_ok());
}

#[test]
fn symlinks_are_followed_and_loops_end_in_eloop() {
    let s = setup("symlinks");
    assert_eq!(s.read("/rel").unwrap(), b"root:x:0:0\n");
    assert_eq!(s.read("/abs/passwd").unwrap(), b"root:x:0:0\n");
    assert_eq!(s.read("/mnt/inner/../hello").unwrap_err(), Errno::ENOENT);
    let started = Instant::now();
    assert_eq!(s.err(b"/loop1", 0), Errno::ELOOP);
    assert_eq!(s.err(b"/aloop/x", 0), Errno::ELOOP);
    assert!(started.elapsed() < Duration::from_secs(10));
    // O_NOFOLLOW: the server hands the link back; the client refuses it.
    assert_eq!(s.err(b"/rel", O_NOFOLLOW), Errno::ELOOP);
    assert_eq!(s.err(b"/etc/passwd", O_DIRECTORY), Errno::ENOTDIR);
    assert!(s.ns.lookup(b"/etc", O_DIRECTORY, 0).is_ok());
    // lstat: the link itself.
    assert_eq!(s.ns.lstat(b"/rel").unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(s.ns.lstat(b"/etc").unwrap().mode & S_IFMT, S_IFDIR);
}

#[test]
fn magic_names() {
    let s = setup("magic");
    // Absolute symlinks are magic "/..." retries (above); these are the others.
    assert_eq!(s.err(b"/stdin", 0), Errno::EOPNOTSUPP);
    assert_eq!(s.err(b"/tty", 0), Errno::ENXIO);
    assert_eq!(s.err(b"/bogus", 0), EPROTO);
    assert_eq!(s.read("/mt/lib").unwrap(), b"arch lib\n");
    let st = s.ns.stat(b"/same").unwrap();
    assert_eq!((st.mode & S_IFMT, st.ino), (S_IFDIR, 0));
}

#[test]
fn bad_paths_and_bad_answers_get_clear_errors() {
    let s = setup("bad");
    assert_eq!(s.err(b"", 0), Errno::ENOENT);
    assert_eq!(s.err(b"/nonexistent", 0), Errno::ENOENT);
    assert_eq!(s.err(&[b'a'; 10_000], 0), Errno::ENAMETOOLONG);
    assert_eq!(s.err(&vec![b'/'; 1 << 20], 0), Errno::ENAMETOOLONG);
    assert_eq!(
        s.err(format!("/{}", "n".repeat(300)).as_bytes(), 0),
        Errno::ENAMETOOLONG
    );
    assert_eq!(s.err(b"/etc\0/passwd", 0), Errno::EINVAL);
    assert_eq!(s.err(b"/\xff\xfe", 0), EILSEQ);
    // A server that answers a name too long to be one.
    assert_eq!(s.err(b"/huge", 0), Errno::ENAMETOOLONG);
    // A server that does not do dir_lookup: the client says ENOTDIR.
    assert_eq!(s.err(b"/dev/x", 0), Errno::ENOTDIR);
    assert_eq!(s.err(b"/etc/passwd/x", 0), Errno::ENOTDIR);
    assert!(s.ns.lookup(b"/dev", 0, 0).is_ok());
}

#[test]
fn a_server_that_never_answers_times_out() {
    let s = setup("hung");
    let quick = Namespace::new(s.ns.task().clone(), s.ns.root().clone())
        .unwrap()
        .with_options(Options {
            timeout: Some(Duration::from_millis(300)),
            ..Options::default()
        });
    let started = Instant::now();
    assert_eq!(quick.lookup(b"/hung/x", 0, 0).err(), Some(Errno::ETIMEDOUT));
    // The mount point itself is the (unresponsive) root: getting it needs no answer from
    // it, using it does.
    let port = quick.lookup(b"/hung", 0, 0).unwrap();
    assert_eq!(quick.stat_port(&port).err(), Some(Errno::ETIMEDOUT));
    assert!(started.elapsed() < Duration::from_secs(10));
    // A server that dies instead of answering: EDIED at once.
    let started = Instant::now();
    assert_eq!(quick.lookup(b"/dead/x", 0, 0).err(), Some(Errno::EDIED));
    assert!(started.elapsed() < Duration::from_millis(300));
    // Everything else still works.
    assert_eq!(quick.stat(b"/mnt/hello").unwrap().size, 10);
}

#[test]
fn reads_and_writes_go_in_chunks() {
    let s = setup("io");
    assert_eq!(s.read("/big").unwrap(), big());
    let out = s.ns.lookup(b"/out", O_READ, 0).unwrap();
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 7) as u8).collect();
    s.ns.write_all(&out, &data).unwrap();
    assert_eq!(s.ns.stat_port(&out).unwrap().size, 70_000);
    assert!(
        s.a.writes.load(Ordering::Relaxed) >= 70,
        "short writes continued"
    );
    let more = s.ns.write_from(&out, &mut &data[..5000]).unwrap();
    assert_eq!(more, 5000);
    let st = s.ns.stat_port(&out).unwrap();
    assert_eq!((st.size, st.mode & S_IFMT), (75_000, S_IFREG));
    assert_eq!(
        s.ns.read_all(&out).unwrap(),
        [&data[..], &data[..5000]].concat()
    );
}

#[test]
fn directories_list_in_pages_and_change() {
    let s = setup("dirs");
    let names = |path: &[u8]| -> Vec<String> {
        s.ns.list(path)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    let root = names(b"/");
    assert!(root.len() > 10);
    assert!(root.contains(&"etc".to_string()) && root.contains(&"hung".to_string()));
    assert_eq!(names(b"/etc"), ["passwd"]);
    assert_eq!(names(b"/mnt/inner"), ["leaf"]);
    s.ns.mkdir(b"/etc/new", 0o755).unwrap();
    assert_eq!(s.ns.mkdir(b"/etc/new/", 0o755), Err(Errno::EEXIST));
    assert_eq!(s.ns.mkdir(b"/", 0o755), Err(Errno::EINVAL));
    assert_eq!(s.ns.mkdir(b"/nope/new", 0o755), Err(Errno::ENOENT));
    assert_eq!(names(b"/etc"), ["new", "passwd"]);
    s.ns.unlink(b"/etc/passwd").unwrap();
    assert_eq!(s.ns.unlink(b"/etc/passwd"), Err(Errno::ENOENT));
    assert_eq!(names(b"/etc"), ["new"]);
    // The fake does not do rmdir: the default answer comes through.
    assert_eq!(s.ns.rmdir(b"/etc/new"), Err(Errno::EOPNOTSUPP));
}
