//! `herd tmpfs` as a real process under a kernel in this process, used through the
//! generated stubs: files and directories, lookups, permissions with two users, limits,
//! options and bad input.

mod tmpfs_fixture;

use herd_interfaces::types::argz;
use herd_interfaces::types::consts::fstype::FSTYPE_MEMFS;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFREG};
use herd_interfaces::types::consts::open::{
    O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDWR, O_READ, O_TRUNC, O_WRITE,
};
use herd_interfaces::types::consts::seek::SEEK_END;
use herd_interfaces::{fs, fsys, io};
use herd_runtime::{Errno, PortArg, SendRight};
use tmpfs_fixture::*;

fn open(t: &Tmpfs, dir: &SendRight, path: &str, flags: u32) -> Result<SendRight, Errno> {
    let root = t.root(0, O_READ).unwrap();
    resolve(&t.task, &root, dir, path, flags, 0o644)
}

#[test]
fn files_and_directories_through_the_stubs() {
    let t = start_tmpfs("basic", &[]);
    let task = &t.task;
    let root = t.root(0, O_READ).unwrap();
    let st = io::io_stat(task, &root).unwrap();
    assert_eq!(
        (st.mode & S_IFDIR, st.fstype, st.ino),
        (S_IFDIR, FSTYPE_MEMFS, 1)
    );

    fs::dir_mkdir(task, &root, "a", 0o755).unwrap();
    fs::dir_mkdir(task, &root, "a/b", 0o755).unwrap_err();
    let a = open(&t, &root, "a", O_READ | O_DIRECTORY).unwrap();
    fs::dir_mkdir(task, &a, "b", 0o755).unwrap();
    assert_eq!(fs::dir_mkdir(task, &a, "b", 0o755), Err(Errno::EEXIST));

    // Multi-component lookup with creation at the end.
    let f = open(&t, &root, "a/b/notes", O_RDWR | O_CREAT | O_EXCL).unwrap();
    assert_eq!(io::io_write(task, &f, b"hello, ", -1), Ok(7));
    assert_eq!(io::io_write(task, &f, b"world", -1), Ok(5));
    assert_eq!(io::io_read(task, &f, 0, 100), Ok(b"hello, world".to_vec()));
    assert_eq!(io::io_seek(task, &f, -5, SEEK_END), Ok(7));
    assert_eq!(io::io_read(task, &f, -1, 3), Ok(b"wor".to_vec()));
    assert_eq!(io::io_readable(task, &f), Ok(2));
    let st = io::io_stat(task, &f).unwrap();
    assert_eq!((st.mode, st.size, st.nlink), (S_IFREG | 0o644, 12, 1));
    assert_eq!(
        open(&t, &root, "a/b/notes", O_CREAT | O_EXCL).err(),
        Some(Errno::EEXIST)
    );
    // `.`, `..` and repeated slashes inside the server.
    let again = open(&t, &root, "a//b/./../b/notes", O_READ).unwrap();
    assert_eq!(read_all(task, &again), b"hello, world");
    assert_eq!(
        open(&t, &root, "a/nothing", O_READ).err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(
        open(&t, &root, "a/b/notes/x", O_READ).err(),
        Some(Errno::ENOTDIR)
    );
    assert_eq!(
        open(&t, &root, "a/b/notes", O_READ | O_DIRECTORY).err(),
        Some(Errno::ENOTDIR)
    );
    assert_eq!(open(&t, &root, "a", O_WRITE).err(), Some(Errno::EISDIR));
    assert_eq!(
        open(&t, &root, "a/b/notes/", O_READ).err(),
        Some(Errno::ENOTDIR)
    );
    assert!(open(&t, &root, "a/b/", O_READ).is_ok());

    // O_TRUNC, O_APPEND, set_size.
    let w = open(&t, &root, "a/b/notes", O_WRITE | O_TRUNC | O_APPEND).unwrap();
    assert_eq!(io::io_stat(task, &w).unwrap().size, 0);
    assert_eq!(io::io_write(task, &w, b"xy", -1), Ok(2));
    assert_eq!(io::io_write(task, &w, b"z", -1), Ok(1));
    assert_eq!(read_all(task, &f), b"xyz");
    assert_eq!(fs::file_set_size(task, &w, 1), Ok(()));
    assert_eq!(read_all(task, &f), b"x");
    assert_eq!(io::io_read(task, &w, 0, 1), Err(Errno::EBADF));

    // Readdir, rename, link, unlink, rmdir.
    let b = open(&t, &root, "a/b", O_READ).unwrap();
    for n in ["c1", "c2", "c3"] {
        open(&t, &b, n, O_CREAT | O_WRITE).unwrap();
    }
    assert_eq!(names(task, &b), ["notes", "c1", "c2", "c3"]);
    let (data, n) = fs::dir_readdir(task, &b, 3, 2, 0).unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        herd_interfaces::types::dirent::decode(&data).unwrap()[0].name,
        "c1"
    );
    fs::dir_rename(task, &b, "c1", PortArg::CopySend(a.name()), "moved", false).unwrap();
    assert_eq!(names(task, &a), ["b", "moved"]);
    assert_eq!(
        fs::dir_rename(task, &a, "moved", PortArg::CopySend(b.name()), "c2", true),
        Err(Errno::EEXIST)
    );
    fs::dir_link(task, &a, PortArg::CopySend(f.name()), "hard", true).unwrap();
    assert_eq!(io::io_stat(task, &f).unwrap().nlink, 2);
    // io_identity: one port per node, one per file system (rights to one port share a
    // name while held).
    let hard = open(&t, &a, "hard", O_READ).unwrap();
    let (id_f, fsid_f, ino_f) = io::io_identity(task, &f).unwrap();
    let (id_h, fsid_h, ino_h) = io::io_identity(task, &hard).unwrap();
    let (id_a, fsid_a, _) = io::io_identity(task, &a).unwrap();
    assert_eq!((id_f.name(), ino_f), (id_h.name(), ino_h));
    assert_ne!(id_f.name(), id_a.name());
    assert_eq!(
        (fsid_f.name(), fsid_h.name()),
        (fsid_a.name(), fsid_a.name())
    );
    fs::dir_unlink(task, &b, "notes").unwrap();
    // Still open: still readable.
    assert_eq!(read_all(task, &f), b"x");
    assert_eq!(io::io_stat(task, &f).unwrap().nlink, 1);
    assert_eq!(fs::dir_rmdir(task, &a, "b"), Err(Errno::ENOTEMPTY));
    for n in ["c2", "c3"] {
        fs::dir_unlink(task, &b, n).unwrap();
    }
    fs::dir_rmdir(task, &a, "b").unwrap();
    assert_eq!(names(task, &a), ["moved", "hard"]);
    // A node of another server (in the same kernel) is on another device; so is any
    // other port; a directory cannot be linked.
    let argv = ["/hurd/tmpfs".to_string()];
    let other = launcher().start(task, &argv, PortArg::Null).unwrap();
    let foreign = root_of(task, &other.control, 0, O_READ).unwrap();
    let link = |port: &SendRight| fs::dir_link(task, &a, PortArg::CopySend(port.name()), "x", true);
    assert_eq!(link(&foreign), Err(Errno::EXDEV));
    let r = task.allocate_port().unwrap();
    assert_eq!(link(&r.make_send().unwrap()), Err(Errno::EXDEV));
    assert_eq!(link(&root), Err(Errno::EPERM));
}

#[test]
fn two_users_owner_and_other() {
    let t = start_tmpfs("perm", &[]);
    let task = &t.task;
    let root = t.root(0, O_READ).unwrap();
    fs::dir_mkdir(task, &root, "home", 0o755).unwrap();
    let home = open(&t, &root, "home", O_READ).unwrap();
    fs::file_chown(task, &home, OWNER, OWNER).unwrap();

    let mine = t.root(OWNER, O_READ).unwrap();
    let theirs = t.root(OTHER, O_READ).unwrap();
    let secret = resolve(task, &mine, &mine, "home/secret", O_WRITE | O_CREAT, 0o600).unwrap();
    io::io_write(task, &secret, b"mine", -1).unwrap();
    let st = io::io_stat(task, &secret).unwrap();
    assert_eq!((st.uid, st.gid, st.mode & 0o777), (OWNER, OWNER, 0o600));

    // The other user can neither read it nor create in the owner's directory.
    let lookup =
        |start: &SendRight, path: &str, flags| resolve(task, start, start, path, flags, 0o644);
    assert_eq!(
        lookup(&theirs, "home/secret", O_READ).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(
        lookup(&theirs, "home/mine", O_CREAT | O_WRITE).err(),
        Some(Errno::EACCES)
    );
    let as_other = lookup(&theirs, "home", O_READ).unwrap();
    assert_eq!(
        fs::dir_mkdir(task, &as_other, "x", 0o755),
        Err(Errno::EACCES)
    );
    assert_eq!(
        fs::dir_unlink(task, &as_other, "secret"),
        Err(Errno::EACCES)
    );
    // Only the owner changes the status or sets translators.
    let other_view = lookup(&theirs, "home/secret", 0).unwrap();
    assert_eq!(fs::file_chmod(task, &other_view, 0o666), Err(Errno::EPERM));
    assert_eq!(
        fs::file_set_translator(
            task,
            &other_view,
            4,
            0,
            0,
            &argz::join(&["/hurd/null"]),
            PortArg::Null
        ),
        Err(Errno::EPERM)
    );
    assert_eq!(fs::file_check_access(task, &other_view), Ok(0));
    let owner_view = lookup(&mine, "home/secret", 0).unwrap();
    assert_eq!(
        fs::file_check_access(task, &owner_view),
        Ok(O_READ | O_WRITE)
    );
    fs::file_chmod(task, &owner_view, 0o644).unwrap();
    assert_eq!(
        read_all(task, &lookup(&theirs, "home/secret", O_READ).unwrap()),
        b"mine"
    );
    assert_eq!(
        lookup(&theirs, "home/secret", O_WRITE).err(),
        Some(Errno::EACCES)
    );
    // io_restrict_auth drops ids: root restricted to OTHER is OTHER.
    let r = io::io_restrict_auth(task, &root, &[OTHER], &[OTHER])
        .unwrap()
        .into_send()
        .unwrap();
    assert_eq!(
        fs::dir_mkdir(task, &r, "home/x", 0o755).err(),
        Some(Errno::EINVAL)
    );
    let rh = resolve(task, &r, &r, "home", O_READ, 0).unwrap();
    assert_eq!(fs::dir_mkdir(task, &rh, "x", 0o755), Err(Errno::EACCES));
    // file_getcontrol: only the root's owner (root here).
    assert_eq!(fs::file_getcontrol(task, &mine).err(), Some(Errno::EPERM));
    assert!(fs::file_getcontrol(task, &root).is_ok());
}

#[test]
fn size_limit_options_and_bad_input() {
    let t = start_tmpfs("limits", &["--size=64k"]);
    let task = &t.task;
    let opts = fsys::fsys_get_options(task, &t.control).unwrap();
    assert_eq!(argz::split(&opts).unwrap(), ["tmpfs", "--size=65536"]);
    let root = t.root(0, O_READ).unwrap();
    let f = open(&t, &root, "big", O_WRITE | O_CREAT).unwrap();
    let chunk = vec![7u8; 16 * 1024];
    let mut total = 0;
    let err = loop {
        match io::io_write(task, &f, &chunk, -1) {
            Ok(n) => total += n,
            Err(e) => break e,
        }
        assert!(total <= 64 * 1024);
    };
    assert_eq!(err, Errno::ENOSPC);
    let sfs = fs::file_statfs(task, &root).unwrap();
    assert_eq!(sfs.bfree, 0);
    // Raise the limit at run time.
    fsys::fsys_set_options(task, &t.control, &argz::join(&["--size=1M"]), false).unwrap();
    assert_eq!(io::io_write(task, &f, &chunk, -1), Ok(chunk.len() as u64));
    assert_eq!(
        fsys::fsys_set_options(task, &t.control, &argz::join(&["--bogus"]), false),
        Err(Errno::EINVAL)
    );
    // Enormous names and paths.
    let long = "n".repeat(300);
    assert_eq!(
        open(&t, &root, &long, O_CREAT).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        fs::dir_mkdir(task, &root, &long, 0o755),
        Err(Errno::ENAMETOOLONG)
    );
    let path = vec!["d"; 3000].join("/");
    assert_eq!(
        open(&t, &root, &path, O_READ).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(fs::dir_mkdir(task, &root, "a/b", 0o755), Err(Errno::EINVAL));
    assert_eq!(fs::dir_mkdir(task, &root, "", 0o755), Err(Errno::ENOENT));
    assert_eq!(io::io_read(task, &root, 0, 10), Err(Errno::EISDIR));
    assert_eq!(io::io_read(task, &f, -7, 10), Err(Errno::EBADF));
    // Garbage bodies and unknown ids get MIG codes, and the server carries on.
    let raw = |dest: &SendRight, id: u32, data: &[u8]| {
        let mut m = herd_runtime::OutMessage::new(PortArg::CopySend(dest.name()), id);
        m.data = data.to_vec();
        let reply = task.rpc(m, Some(LONG)).expect("a reply");
        Errno(i32::from_le_bytes(reply.data[..4].try_into().unwrap()))
    };
    assert_eq!(raw(&root, 4242, b""), Errno::MIG_BAD_ID);
    assert_eq!(
        raw(&root, fs::ids::DIR_LOOKUP, &[0xff; 7]),
        Errno::MIG_BAD_ARGUMENTS
    );
    assert_eq!(
        raw(&t.control, fsys::ids::FSYS_GETROOT, &[1; 40]),
        Errno::MIG_BAD_ARGUMENTS
    );
    // The control port is not a node, and a node is not the control port.
    assert_eq!(io::io_stat(task, &t.control).err(), Some(Errno::EOPNOTSUPP));
    assert_eq!(
        fsys::fsys_get_options(task, &root).err(),
        Some(Errno::EOPNOTSUPP)
    );
}

#[test]
fn goaway_waits_for_opens_then_the_server_exits() {
    let t = start_tmpfs("goaway", &[]);
    let root = t.root(0, O_READ).unwrap();
    assert_eq!(fsys::fsys_goaway(&t.task, &t.control, 0), Err(Errno::EBUSY));
    drop(root);
    let deadline = std::time::Instant::now() + LONG;
    loop {
        match fsys::fsys_goaway(&t.task, &t.control, 0) {
            Ok(()) => break,
            Err(Errno::EBUSY) if std::time::Instant::now() < deadline => std::thread::yield_now(),
            other => panic!("goaway: {other:?}"),
        }
    }
    assert_eq!(t.root(0, O_READ).err(), Some(Errno::EDIED));
}

#[test]
fn change_notifications_reach_the_ports_that_asked() {
    use herd_interfaces::fs_notify::codec::{
        decode_dir_changed_request, decode_file_changed_request,
    };
    use herd_interfaces::types::consts::dir_change::{
        DIR_CHANGED_NEW, DIR_CHANGED_NULL, DIR_CHANGED_UNLINK,
    };
    use herd_interfaces::types::consts::file_change::{FILE_CHANGED_NULL, FILE_CHANGED_WRITE};
    let t = start_tmpfs("notify", &[]);
    let task = &t.task;
    let root = t.root(0, O_READ).unwrap();
    let dir_events = task.allocate_port().unwrap();
    fs::dir_notice_changes(task, &root, PortArg::MakeSend(dir_events.name())).unwrap();
    let next_dir = || {
        let m = task
            .receive(dir_events.name(), Some(LONG))
            .expect("a dir_changed message");
        let (_, change, name) = decode_dir_changed_request(m).unwrap();
        (change, name)
    };
    assert_eq!(next_dir(), (DIR_CHANGED_NULL, String::new()));
    let f = open(&t, &root, "watched", O_CREAT | O_WRITE).unwrap();
    assert_eq!(next_dir(), (DIR_CHANGED_NEW, "watched".to_string()));
    let file_events = task.allocate_port().unwrap();
    fs::file_notice_changes(task, &f, PortArg::MakeSend(file_events.name())).unwrap();
    let next_file = || {
        let m = task
            .receive(file_events.name(), Some(LONG))
            .expect("a file_changed message");
        let (_, change, start, end) = decode_file_changed_request(m).unwrap();
        (change, start, end)
    };
    assert_eq!(next_file().0, FILE_CHANGED_NULL);
    io::io_write(task, &f, b"abc", -1).unwrap();
    assert_eq!(next_file(), (FILE_CHANGED_WRITE, 0, 3));
    fs::dir_unlink(task, &root, "watched").unwrap();
    assert_eq!(next_dir(), (DIR_CHANGED_UNLINK, "watched".to_string()));
    // A dead notification port is forgotten, and the server carries on.
    drop(dir_events);
    fs::dir_mkdir(task, &root, "after", 0o755).unwrap();
    assert_eq!(names(task, &root), ["after"]);
    assert_eq!(
        fs::dir_notice_changes(task, &f, PortArg::Null),
        Err(Errno::ENOTDIR)
    );
}

#[test]
fn many_clients_at_once() {
    let t = start_tmpfs("stress", &[]);
    let root = t.root(0, O_READ).unwrap();
    fs::dir_mkdir(&t.task, &root, "shared", 0o777).unwrap();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (task, root) = (t.task.clone(), root.try_clone().unwrap());
            std::thread::spawn(move || {
                let shared = resolve(&task, &root, &root, "shared", O_READ, 0).unwrap();
                for i in 0..40 {
                    let name = format!("f{w}-{i}");
                    let f = resolve(&task, &root, &shared, &name, O_RDWR | O_CREAT, 0o600).unwrap();
                    let dup = io::io_duplicate(&task, &f).unwrap().into_send().unwrap();
                    io::io_write(&task, &dup, name.as_bytes(), -1).unwrap();
                    assert_eq!(read_all(&task, &f), name.as_bytes());
                    drop(dup);
                    if i % 2 == 0 {
                        fs::dir_unlink(&task, &shared, &name).unwrap();
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let shared = open(&t, &root, "shared", O_READ).unwrap();
    assert_eq!(names(&t.task, &shared).len(), 8 * 20);
}
