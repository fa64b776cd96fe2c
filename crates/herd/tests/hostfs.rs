//! `herd hostfs` on a tmpfs node of a booted node, serving a host directory: host files
//! read and written through the namespace, directories listed, made, renamed and
//! removed, modes changed, `..` and host symlinks that cannot leave the served tree,
//! permission checks for another user, and `--read-only`.

mod lookup_boot;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use herd_hurd::Namespace;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use herd_interfaces::types::consts::open::{
    O_CREAT, O_NOLINK, O_NOTRANS, O_READ, O_TRUNC, O_WRITE,
};
use herd_interfaces::types::consts::trans::FS_TRANS_SET;
use herd_interfaces::{fs, io};
use herd_runtime::{Errno, PortArg};
use lookup_boot::{launcher, Node};

fn namespace(node: &Node) -> Namespace {
    let root = node.root.as_ref().expect("a root").try_clone().unwrap();
    Namespace::new(node.task.clone(), root).unwrap()
}

fn read(ns: &Namespace, path: &str) -> Result<Vec<u8>, Errno> {
    let f = ns.lookup(path.as_bytes(), O_READ, 0)?;
    ns.read_all(&f)
}

fn names(ns: &Namespace, path: &str) -> Vec<String> {
    let mut names: Vec<String> = ns
        .list(path.as_bytes())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    names
}

/// The namespace of a user who is neither the files' owner nor in their group (our
/// root port restricted to uid and gid 2000).
fn other_user(node: &Node) -> Namespace {
    let root = node.root.as_ref().unwrap();
    let other = io::io_restrict_auth(&node.task, root, &[2000], &[2000])
        .unwrap()
        .into_send()
        .unwrap();
    Namespace::new(node.task.clone(), other).unwrap()
}

/// Makes the directory `at` and starts `herd hostfs DIR ARGS` on it, active.
fn mount(ns: &Namespace, at: &str, dir: &Path, args: &[&str]) {
    ns.mkdir(at.as_bytes(), 0o755).unwrap();
    let realnode = ns.lookup(at.as_bytes(), O_NOTRANS, 0).unwrap();
    let mut argv = vec!["/hurd/hostfs".to_string(), dir.display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let running = launcher()
        .start(ns.task(), &argv, PortArg::MoveSend(realnode))
        .expect("hostfs starts");
    let node = ns.lookup(at.as_bytes(), O_NOTRANS, 0).unwrap();
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

/// A served tree: files, a subdirectory, a link inside, links that point out, and a
/// secret beside it.
fn host_tree(node: &Node) -> std::path::PathBuf {
    let served = node.host("served");
    std::fs::create_dir_all(served.join("sub")).unwrap();
    std::fs::write(served.join("hello.txt"), b"hi\n").unwrap();
    std::fs::write(served.join("sub/inner.txt"), b"inner\n").unwrap();
    std::fs::write(node.host("secret"), b"SECRET\n").unwrap();
    symlink("hello.txt", served.join("rel")).unwrap();
    symlink("../hello.txt", served.join("sub/up")).unwrap();
    symlink("../secret", served.join("esc")).unwrap();
    symlink(node.host("secret"), served.join("abs")).unwrap();
    symlink("../../../../../../../../..", served.join("deep")).unwrap();
    symlink("loop", served.join("loop")).unwrap();
    served
}

#[test]
fn host_files_are_read_and_written_through_the_namespace() {
    let node = Node::boot("hostfs-rw");
    let ns = namespace(&node);
    let served = host_tree(&node);
    mount(&ns, "/mnt", &served, &[]);

    assert_eq!(read(&ns, "/mnt/hello.txt").unwrap(), b"hi\n");
    assert_eq!(read(&ns, "/mnt/sub/inner.txt").unwrap(), b"inner\n");
    assert_eq!(read(&ns, "/mnt/sub/../hello.txt").unwrap(), b"hi\n");
    assert_eq!(read(&ns, "/mnt/rel").unwrap(), b"hi\n");
    assert_eq!(read(&ns, "/mnt/sub/up").unwrap(), b"hi\n");
    assert_eq!(ns.stat(b"/mnt/sub").unwrap().mode & S_IFMT, S_IFDIR);
    assert_eq!(ns.lstat(b"/mnt/rel").unwrap().mode & S_IFMT, S_IFLNK);
    let st = ns.stat(b"/mnt/hello.txt").unwrap();
    assert_eq!((st.mode & S_IFMT, st.size), (S_IFREG, 3));
    assert_eq!(ns.lookup(b"/mnt/loop", O_READ, 0).err(), Some(Errno::ELOOP));
    assert_eq!(
        names(&ns, "/mnt"),
        ["abs", "deep", "esc", "hello.txt", "loop", "rel", "sub"]
    );

    // Written here, seen on the host.
    let f = ns
        .lookup(b"/mnt/new.txt", O_WRITE | O_CREAT, 0o640)
        .unwrap();
    ns.write_all(&f, b"from herd\n").unwrap();
    assert_eq!(
        std::fs::read(served.join("new.txt")).unwrap(),
        b"from herd\n"
    );
    let meta = std::fs::metadata(served.join("new.txt")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    let f = ns.lookup(b"/mnt/hello.txt", O_WRITE | O_TRUNC, 0).unwrap();
    ns.write_all(&f, b"bye\n").unwrap();
    assert_eq!(std::fs::read(served.join("hello.txt")).unwrap(), b"bye\n");
    fs::file_set_size(ns.task(), &f, 2).unwrap();
    assert_eq!(std::fs::read(served.join("hello.txt")).unwrap(), b"by");
    fs::file_chmod(ns.task(), &f, 0o600).unwrap();
    let meta = std::fs::metadata(served.join("hello.txt")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // A file made read-only by its own open may still be written by that open.
    let f = ns.lookup(b"/mnt/ro.txt", O_WRITE | O_CREAT, 0o444).unwrap();
    ns.write_all(&f, b"once\n").unwrap();
    assert_eq!(std::fs::read(served.join("ro.txt")).unwrap(), b"once\n");
    assert_eq!(
        other_user(&node).lookup(b"/mnt/ro.txt", O_WRITE, 0).err(),
        Some(Errno::EACCES)
    );
    ns.unlink(b"/mnt/ro.txt").unwrap();
    // A firmlink into the tree: `..` leads back to where the link is.
    ns.mkdir(b"/links", 0o755).unwrap();
    let realnode = ns
        .lookup(b"/links/sub", O_WRITE | O_CREAT, 0o644)
        .map(|_| ns.lookup(b"/links/sub", O_NOTRANS, 0).unwrap())
        .unwrap();
    let firm = launcher()
        .start(
            ns.task(),
            &["/hurd/firmlink".to_string(), "/mnt/sub".to_string()],
            PortArg::MoveSend(realnode),
        )
        .expect("firmlink starts");
    let at = ns.lookup(b"/links/sub", O_NOTRANS, 0).unwrap();
    ns.set_translator(
        &at,
        0,
        FS_TRANS_SET,
        0,
        &[],
        PortArg::MoveSend(firm.control),
    )
    .unwrap();
    assert_eq!(read(&ns, "/links/sub/inner.txt").unwrap(), b"inner\n");
    assert_eq!(names(&ns, "/links/sub/.."), ["sub"]);
    assert_eq!(names(&ns, "/mnt/sub/.."), names(&ns, "/mnt"));
    // Seen on the host, changed there: read here.
    std::fs::write(served.join("sub/inner.txt"), b"changed\n").unwrap();
    assert_eq!(read(&ns, "/mnt/sub/inner.txt").unwrap(), b"changed\n");

    // Directories.
    ns.mkdir(b"/mnt/d", 0o755).unwrap();
    assert!(served.join("d").is_dir());
    ns.rename(b"/mnt/new.txt", b"/mnt/d/moved.txt").unwrap();
    assert!(served.join("d/moved.txt").is_file());
    assert_eq!(ns.rmdir(b"/mnt/d"), Err(Errno::ENOTEMPTY));
    ns.unlink(b"/mnt/d/moved.txt").unwrap();
    ns.rmdir(b"/mnt/d").unwrap();
    assert!(!served.join("d").exists());
    // Across servers: EXDEV.
    ns.mkdir(b"/tmpdir", 0o755).unwrap();
    assert_eq!(
        ns.rename(b"/mnt/sub/inner.txt", b"/tmpdir/x"),
        Err(Errno::EXDEV)
    );
}

#[test]
fn nothing_outside_the_host_directory_is_reachable() {
    let node = Node::boot("hostfs-escape");
    let ns = namespace(&node);
    let served = host_tree(&node);
    mount(&ns, "/mnt", &served, &[]);
    // `..` out of the root goes to the directory the translator sits on, not the host's.
    assert_eq!(names(&ns, "/mnt/.."), ["mnt"]);
    assert_eq!(names(&ns, "/mnt/sub/../../mnt/sub"), ["inner.txt", "up"]);
    assert_eq!(
        ns.lookup(b"/mnt/../secret", O_READ, 0).err(),
        Some(Errno::ENOENT)
    );
    // Host links that point out resolve in the namespace, never on the host.
    assert_eq!(ns.lookup(b"/mnt/esc", O_READ, 0).err(), Some(Errno::ENOENT));
    assert_eq!(ns.lookup(b"/mnt/abs", O_READ, 0).err(), Some(Errno::ENOENT));
    assert_eq!(names(&ns, "/mnt/deep"), ["mnt"]);
    // A host link's own node changes nothing outside (chmod never follows it).
    let link = ns.lookup(b"/mnt/abs", O_NOLINK, 0).unwrap();
    assert_eq!(
        io::io_stat(ns.task(), &link).unwrap().mode & S_IFMT,
        S_IFLNK
    );
    assert_eq!(fs::file_chmod(ns.task(), &link, 0o777), Err(Errno::ELOOP));
    let secret_mode = std::fs::metadata(node.host("secret"))
        .unwrap()
        .permissions()
        .mode();
    assert_ne!(secret_mode & 0o777, 0o777);
    // Names that are not names.
    let mnt = ns.lookup(b"/mnt", O_READ, 0).unwrap();
    assert_eq!(
        fs::dir_mkdir(ns.task(), &mnt, "../out", 0o755),
        Err(Errno::EINVAL)
    );
    assert_eq!(fs::dir_unlink(ns.task(), &mnt, ".."), Err(Errno::EINVAL));
    assert_eq!(
        ns.lookup(format!("/mnt/{}", "n".repeat(256)).as_bytes(), O_READ, 0)
            .err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert!(!node.host("out").exists());
    assert_eq!(std::fs::read(node.host("secret")).unwrap(), b"SECRET\n");
}

#[test]
fn read_only_and_other_users_are_refused() {
    let node = Node::boot("hostfs-ro");
    let ns = namespace(&node);
    let served = host_tree(&node);
    std::fs::set_permissions(
        served.join("hello.txt"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    mount(&ns, "/ro", &served, &["--read-only"]);
    assert_eq!(read(&ns, "/ro/hello.txt").unwrap(), b"hi\n");
    assert_eq!(
        ns.lookup(b"/ro/hello.txt", O_WRITE, 0).err(),
        Some(Errno::EROFS)
    );
    assert_eq!(
        ns.lookup(b"/ro/new", O_WRITE | O_CREAT, 0o644).err(),
        Some(Errno::EROFS)
    );
    assert_eq!(ns.mkdir(b"/ro/d", 0o755), Err(Errno::EROFS));
    assert_eq!(ns.unlink(b"/ro/hello.txt"), Err(Errno::EROFS));
    assert!(served.join("hello.txt").exists());

    // Another user: the owner-only file is refused, the readable one is not.
    let ns_other = other_user(&node);
    assert_eq!(
        ns_other.lookup(b"/ro/hello.txt", O_READ, 0).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(read(&ns_other, "/ro/sub/inner.txt").unwrap(), b"inner\n");
}
