//! Names: lookup, create, mkdir, mknod, symlink, link, unlink, rmdir, readdir, open-unlinked
//! nodes, accounting and change records.

mod common;

use common::*;
use herd_tmpfs::{
    Change, Error, Ino, Kind, Limits, Special, Timestamp, CHUNK_SIZE, DIRENT_SIZE, SYMLINK_MAX,
};

#[test]
fn a_fresh_root() {
    let (fs, _) = fresh();
    let st = fs.stat(Ino::ROOT).unwrap();
    assert_eq!(
        (st.kind, st.perm, st.nlink, st.uid, st.gid),
        (Kind::Directory, 0o1777, 2, 0, 0)
    );
    assert_eq!(st.mode(), 0o41777);
    assert_eq!(st.size, 2 * DIRENT_SIZE);
    assert_eq!(st.mtime, Timestamp::new(1000, 0));
    assert_eq!(fs.lookup(&alice(), Ino::ROOT, b"."), Ok(Ino::ROOT));
    assert_eq!(fs.lookup(&alice(), Ino::ROOT, b".."), Ok(Ino::ROOT));
    assert_eq!(fs.used_inodes(), 1);
    assert_eq!(fs.used_bytes(), 0);
    consistent(&fs);
}

#[test]
fn names_are_checked() {
    let (mut fs, _) = fresh();
    let r = root();
    let long = [b'n'; 256];
    for (name, err) in [
        (&b""[..], Error::NotFound),
        (b"a/b", Error::Invalid),
        (b"a\0", Error::Invalid),
        (&long[..], Error::NameTooLong),
        (b".", Error::Exists),
        (b"..", Error::Exists),
    ] {
        assert_eq!(fs.mkdir(&r, Ino::ROOT, name, 0o755), Err(err), "{name:?}");
        assert_eq!(
            fs.create(&r, Ino::ROOT, name, 0o644, true).map(|_| ()),
            Err(err)
        );
        assert_eq!(fs.symlink(&r, Ino::ROOT, name, b"t").map(|_| ()), Err(err));
    }
    assert_eq!(fs.lookup(&r, Ino::ROOT, &long), Err(Error::NameTooLong));
    assert_eq!(fs.lookup(&r, Ino::ROOT, b""), Err(Error::NotFound));
    assert_eq!(fs.lookup(&r, Ino::ROOT, b"x/y"), Err(Error::Invalid));
    // Any other bytes are a name.
    let odd = [0xff, b' ', b'\n', 0x80];
    let ino = fs.mkdir(&r, Ino::ROOT, &odd, 0o755).unwrap();
    assert_eq!(fs.lookup(&r, Ino::ROOT, &odd), Ok(ino));
    let max = [b'm'; 255];
    fs.create(&r, Ino::ROOT, &max, 0o644, true).unwrap();
    assert_eq!(fs.unlink(&r, Ino::ROOT, b"."), Err(Error::IsDirectory));
    assert_eq!(fs.unlink(&r, Ino::ROOT, b".."), Err(Error::IsDirectory));
    consistent(&fs);
}

#[test]
fn create_exclusive_and_not() {
    let (mut fs, _) = fresh();
    let a = alice();
    let (f, made) = fs.create(&a, Ino::ROOT, b"f", 0o640, true).unwrap();
    assert!(made);
    let st = fs.stat(f).unwrap();
    assert_eq!(
        (st.kind, st.perm, st.nlink, st.uid, st.gid, st.size),
        (Kind::File, 0o640, 1, 1000, 1000, 0)
    );
    assert_eq!(
        fs.create(&a, Ino::ROOT, b"f", 0o600, true),
        Err(Error::Exists)
    );
    assert_eq!(fs.create(&a, Ino::ROOT, b"f", 0o600, false), Ok((f, false)));
    // Non-exclusive create of `.` hands back the directory for the caller to refuse.
    assert_eq!(
        fs.create(&a, Ino::ROOT, b".", 0o600, false),
        Ok((Ino::ROOT, false))
    );
    // Mode bits outside 0o7777 are ignored.
    let (g, _) = fs.create(&a, Ino::ROOT, b"g", 0o170_644, true).unwrap();
    assert_eq!(fs.stat(g).unwrap().perm, 0o644);
    // Creating in a file: ENOTDIR.
    assert_eq!(
        fs.create(&a, f, b"x", 0o644, true),
        Err(Error::NotDirectory)
    );
    assert_eq!(fs.lookup(&a, f, b"x"), Err(Error::NotDirectory));
}

#[test]
fn directories_count_links_and_size() {
    let (mut fs, _) = fresh();
    let r = root();
    let d = fs.mkdir(&r, Ino::ROOT, b"d", 0o7777).unwrap();
    // mkdir ignores the setuid and setgid bits it is given.
    assert_eq!(fs.stat(d).unwrap().perm, 0o1777);
    assert_eq!(fs.stat(Ino::ROOT).unwrap().nlink, 3);
    let e = fs.mkdir(&r, d, b"e", 0o755).unwrap();
    fs.create(&r, d, b"f", 0o644, true).unwrap();
    assert_eq!(fs.lookup(&r, e, b".."), Ok(d));
    let st = fs.stat(d).unwrap();
    assert_eq!((st.nlink, st.size), (3, 4 * DIRENT_SIZE));
    assert_eq!(fs.rmdir(&r, Ino::ROOT, b"d"), Err(Error::NotEmpty));
    assert_eq!(fs.rmdir(&r, d, b"f"), Err(Error::NotDirectory));
    assert_eq!(fs.rmdir(&r, d, b"."), Err(Error::Invalid));
    assert_eq!(fs.rmdir(&r, d, b".."), Err(Error::NotEmpty));
    assert_eq!(fs.rmdir(&r, d, b"nope"), Err(Error::NotFound));
    assert_eq!(fs.unlink(&r, d, b"e"), Err(Error::IsDirectory));
    fs.rmdir(&r, d, b"e").unwrap();
    assert_eq!(fs.stat(e), Err(Error::Stale));
    fs.unlink(&r, d, b"f").unwrap();
    assert_eq!(fs.stat(d).unwrap().nlink, 2);
    fs.rmdir(&r, Ino::ROOT, b"d").unwrap();
    assert_eq!(fs.stat(Ino::ROOT).unwrap().nlink, 2);
    assert_eq!((fs.used_inodes(), fs.used_bytes()), (1, 0));
    consistent(&fs);
}

#[test]
fn hard_links() {
    let (mut fs, clock) = fresh();
    let r = root();
    let d = fs.mkdir(&r, Ino::ROOT, b"d", 0o755).unwrap();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    clock.advance(5, 0);
    fs.link(&r, f, d, b"g").unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!((st.nlink, st.ctime), (2, Timestamp::new(1005, 0)));
    assert_eq!(fs.lookup(&r, d, b"g"), Ok(f));
    assert_eq!(fs.link(&r, f, d, b"g"), Err(Error::Exists));
    assert_eq!(fs.link(&r, d, Ino::ROOT, b"dd"), Err(Error::NotPermitted));
    assert_eq!(fs.link(&r, f, f, b"x"), Err(Error::NotDirectory));
    fs.unlink(&r, Ino::ROOT, b"f").unwrap();
    assert_eq!(fs.stat(f).unwrap().nlink, 1);
    fs.unlink(&r, d, b"g").unwrap();
    assert_eq!(fs.stat(f), Err(Error::Stale));
    consistent(&fs);
}

#[test]
fn symlinks() {
    let (mut fs, _) = fresh();
    let r = root();
    let s = fs.symlink(&r, Ino::ROOT, b"s", b"../some/where").unwrap();
    let st = fs.stat(s).unwrap();
    assert_eq!((st.kind, st.perm, st.size), (Kind::Symlink, 0o777, 13));
    assert_eq!(fs.readlink(s).unwrap(), b"../some/where");
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    assert_eq!(fs.readlink(f), Err(Error::Invalid));
    assert_eq!(fs.readlink(Ino::ROOT), Err(Error::Invalid));
    assert_eq!(fs.symlink(&r, Ino::ROOT, b"e", b""), Err(Error::NotFound));
    assert_eq!(
        fs.symlink(&r, Ino::ROOT, b"e", b"a\0b"),
        Err(Error::Invalid)
    );
    let long = vec![b'x'; SYMLINK_MAX + 1];
    assert_eq!(
        fs.symlink(&r, Ino::ROOT, b"e", &long),
        Err(Error::NameTooLong)
    );
    fs.symlink(&r, Ino::ROOT, b"e", &long[1..]).unwrap();
    assert_eq!(fs.symlink(&r, Ino::ROOT, b"s", b"t"), Err(Error::Exists));
    // A symlink is not followed here: it is a node like any other.
    assert_eq!(fs.lookup(&r, s, b"x"), Err(Error::NotDirectory));
    assert_eq!(fs.read(s, 0, 10), Err(Error::Invalid));
    fs.unlink(&r, Ino::ROOT, b"s").unwrap();
    fs.unlink(&r, Ino::ROOT, b"e").unwrap();
    fs.unlink(&r, Ino::ROOT, b"f").unwrap();
    assert_eq!((fs.used_inodes(), fs.used_bytes()), (1, 0));
}

#[test]
fn device_nodes_are_metadata() {
    let (mut fs, _) = fresh();
    let a = alice();
    let p = fs
        .mknod(&a, Ino::ROOT, b"pipe", Special::Fifo, 0o600)
        .unwrap();
    let s = fs
        .mknod(&a, Ino::ROOT, b"sock", Special::Socket, 0o600)
        .unwrap();
    assert_eq!(fs.stat(p).unwrap().kind, Kind::Fifo);
    assert_eq!(fs.stat(s).unwrap().mode(), 0o140600);
    assert_eq!(
        fs.mknod(&a, Ino::ROOT, b"null", Special::CharDevice(0x103), 0o666),
        Err(Error::NotPermitted)
    );
    let c = fs
        .mknod(
            &root(),
            Ino::ROOT,
            b"null",
            Special::CharDevice(0x103),
            0o666,
        )
        .unwrap();
    let b = fs
        .mknod(
            &root(),
            Ino::ROOT,
            b"sda",
            Special::BlockDevice(0x800),
            0o660,
        )
        .unwrap();
    let st = fs.stat(c).unwrap();
    assert_eq!(
        (st.kind, st.rdev, st.mode()),
        (Kind::CharDevice, 0x103, 0o20666)
    );
    assert_eq!(fs.stat(b).unwrap().kind, Kind::BlockDevice);
    assert_eq!(fs.write(&root(), c, 0, b"x"), Err(Error::Invalid));
    assert_eq!(fs.set_size(&root(), p, 0), Err(Error::Invalid));
    assert_eq!(
        fs.write(&root(), Ino::ROOT, 0, b"x"),
        Err(Error::IsDirectory)
    );
    assert_eq!(fs.read(Ino::ROOT, 0, 1), Err(Error::IsDirectory));
}

#[test]
fn readdir_lists_dot_dotdot_then_creation_order() {
    let (mut fs, _) = fresh();
    let r = root();
    let d = fs.mkdir(&r, Ino::ROOT, b"d", 0o755).unwrap();
    let sub = fs.mkdir(&r, d, b"sub", 0o755).unwrap();
    let (f, _) = fs.create(&r, d, b"file", 0o644, true).unwrap();
    let l = fs.symlink(&r, d, b"link", b"file").unwrap();
    let all = fs.readdir(d, 0, 100).unwrap();
    let summary: Vec<_> = all
        .iter()
        .map(|e| (e.name.clone(), e.ino, e.kind))
        .collect();
    assert_eq!(
        summary,
        vec![
            (b".".to_vec(), d, Kind::Directory),
            (b"..".to_vec(), Ino::ROOT, Kind::Directory),
            (b"sub".to_vec(), sub, Kind::Directory),
            (b"file".to_vec(), f, Kind::File),
            (b"link".to_vec(), l, Kind::Symlink),
        ]
    );
    // The end is an empty answer.
    assert_eq!(fs.readdir(d, all[4].next, 100).unwrap(), vec![]);
    assert_eq!(fs.readdir(d, u64::MAX, 100).unwrap(), vec![]);
    assert_eq!(fs.readdir(d, 0, 0).unwrap(), vec![]);
    assert_eq!(fs.readdir(f, 0, 10), Err(Error::NotDirectory));
}

#[test]
fn readdir_resumes_across_changes() {
    let (mut fs, _) = fresh();
    let r = root();
    for n in 0..10u8 {
        fs.create(&r, Ino::ROOT, &[b'a' + n], 0o644, true).unwrap();
    }
    // Read in pages of three while the directory changes under the listing.
    let mut seen = Vec::new();
    let mut cookie = 0;
    let mut page = 0;
    loop {
        let entries = fs.readdir(Ino::ROOT, cookie, 3).unwrap();
        if entries.is_empty() {
            break;
        }
        for e in &entries {
            seen.push(e.name.clone());
        }
        cookie = entries.last().unwrap().next;
        page += 1;
        if page == 2 {
            // `b` was listed already, `h` was not: removing `h` hides it, removing `b` and
            // adding `z` shifts nothing.
            fs.unlink(&r, Ino::ROOT, b"b").unwrap();
            fs.unlink(&r, Ino::ROOT, b"h").unwrap();
            fs.create(&r, Ino::ROOT, b"z", 0o644, true).unwrap();
        }
    }
    let expect: Vec<Vec<u8>> = [".", "..", "a", "b", "c", "d", "e", "f", "g", "i", "j", "z"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    assert_eq!(seen, expect);
}

#[test]
fn open_unlinked_nodes_live_until_released() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    fs.write(&r, f, 0, &vec![1u8; 3 * CHUNK_SIZE]).unwrap();
    fs.hold(f).unwrap();
    fs.hold(f).unwrap();
    fs.unlink(&r, Ino::ROOT, b"f").unwrap();
    assert_eq!(fs.lookup(&r, Ino::ROOT, b"f"), Err(Error::NotFound));
    assert_eq!(fs.stat(f).unwrap().nlink, 0);
    assert_eq!(fs.read(f, 0, 4).unwrap(), vec![1; 4]);
    fs.write(&r, f, 0, b"still").unwrap();
    assert_eq!(fs.used_inodes(), 2);
    assert_eq!(fs.used_bytes(), 3 * CHUNK_SIZE as u64);
    // A node with no name cannot be linked back.
    assert_eq!(fs.link(&r, f, Ino::ROOT, b"back"), Err(Error::NotFound));
    consistent(&fs);
    fs.release(f).unwrap();
    assert_eq!(fs.open_count(f), Ok(1));
    fs.release(f).unwrap();
    assert_eq!(fs.stat(f), Err(Error::Stale));
    assert_eq!((fs.used_inodes(), fs.used_bytes()), (1, 0));
    assert_eq!(fs.release(f), Err(Error::Stale));
    // Releasing what is not held is an error, not an underflow.
    assert_eq!(fs.release(Ino::ROOT), Err(Error::Invalid));
    // A held node that keeps its names stays after release.
    let (g, _) = fs.create(&r, Ino::ROOT, b"g", 0o644, true).unwrap();
    fs.hold(g).unwrap();
    fs.release(g).unwrap();
    assert!(fs.stat(g).is_ok());
    consistent(&fs);
}

#[test]
fn removed_directories_held_open() {
    let (mut fs, _) = fresh();
    let r = root();
    let d = fs.mkdir(&r, Ino::ROOT, b"d", 0o755).unwrap();
    fs.hold(d).unwrap();
    fs.rmdir(&r, Ino::ROOT, b"d").unwrap();
    assert_eq!(fs.stat(d).unwrap().nlink, 0);
    assert_eq!(fs.create(&r, d, b"x", 0o644, true), Err(Error::NotFound));
    assert_eq!(fs.mkdir(&r, d, b"x", 0o755), Err(Error::NotFound));
    assert_eq!(fs.lookup(&r, d, b"x"), Err(Error::NotFound));
    assert_eq!(fs.lookup(&r, d, b"."), Ok(d));
    assert_eq!(fs.lookup(&r, d, b".."), Ok(Ino::ROOT));
    assert_eq!(fs.readdir(d, 0, 10), Err(Error::NotFound));
    consistent(&fs);
    fs.release(d).unwrap();
    assert_eq!((fs.used_inodes(), fs.used_bytes()), (1, 0));
}

#[test]
fn stale_inodes() {
    let (mut fs, _) = fresh();
    let r = root();
    let bad = Ino(999);
    assert_eq!(fs.stat(bad), Err(Error::Stale));
    assert_eq!(fs.lookup(&r, bad, b"x"), Err(Error::Stale));
    assert_eq!(fs.read(bad, 0, 1), Err(Error::Stale));
    assert_eq!(fs.chmod(&r, bad, 0), Err(Error::Stale));
    assert_eq!(fs.hold(bad), Err(Error::Stale));
    assert_eq!(fs.link(&r, bad, Ino::ROOT, b"x"), Err(Error::Stale));
    assert_eq!(fs.translator(bad), Err(Error::Stale));
    assert_eq!(Error::Stale.errno().0, 116);
}

#[test]
fn inode_limit() {
    let (mut fs, _) = with_limits(Limits {
        max_bytes: u64::MAX,
        max_inodes: 3,
    });
    let r = root();
    fs.create(&r, Ino::ROOT, b"a", 0o644, true).unwrap();
    fs.mkdir(&r, Ino::ROOT, b"b", 0o755).unwrap();
    assert_eq!(
        fs.create(&r, Ino::ROOT, b"c", 0o644, true),
        Err(Error::NoSpace)
    );
    assert_eq!(fs.symlink(&r, Ino::ROOT, b"c", b"a"), Err(Error::NoSpace));
    // Links need no inode.
    let a = fs.lookup(&r, Ino::ROOT, b"a").unwrap();
    fs.link(&r, a, Ino::ROOT, b"c").unwrap();
    let sf = fs.statfs();
    assert_eq!((sf.total_inodes, sf.free_inodes, sf.name_max), (3, 0, 255));
    fs.unlink(&r, Ino::ROOT, b"a").unwrap();
    fs.unlink(&r, Ino::ROOT, b"c").unwrap();
    fs.create(&r, Ino::ROOT, b"c", 0o644, true).unwrap();
}

#[test]
fn names_and_targets_count_against_the_size_limit() {
    let (mut fs, _) = with_limits(Limits {
        max_bytes: 10,
        max_inodes: 100,
    });
    let r = root();
    fs.create(&r, Ino::ROOT, b"abcd", 0o644, true).unwrap();
    fs.symlink(&r, Ino::ROOT, b"s", b"xyz").unwrap();
    assert_eq!(fs.used_bytes(), 8);
    assert_eq!(
        fs.create(&r, Ino::ROOT, b"efg", 0o644, true),
        Err(Error::NoSpace)
    );
    assert_eq!(fs.used_inodes(), 3);
    fs.create(&r, Ino::ROOT, b"ef", 0o644, true).unwrap();
    let sf = fs.statfs();
    assert_eq!((sf.total_bytes, sf.free_bytes), (10, 0));
    fs.unlink(&r, Ino::ROOT, b"abcd").unwrap();
    fs.unlink(&r, Ino::ROOT, b"s").unwrap();
    fs.unlink(&r, Ino::ROOT, b"ef").unwrap();
    assert_eq!(fs.used_bytes(), 0);
    consistent(&fs);
}

#[test]
fn times_of_directories_and_new_nodes() {
    let (mut fs, clock) = fresh();
    let r = root();
    clock.set(Timestamp::new(2000, 5));
    let d = fs.mkdir(&r, Ino::ROOT, b"d", 0o755).unwrap();
    let st = fs.stat(d).unwrap();
    assert_eq!(
        (st.atime, st.mtime, st.ctime),
        (
            Timestamp::new(2000, 5),
            Timestamp::new(2000, 5),
            Timestamp::new(2000, 5)
        )
    );
    let root_st = fs.stat(Ino::ROOT).unwrap();
    assert_eq!(
        (root_st.mtime, root_st.ctime),
        (Timestamp::new(2000, 5), Timestamp::new(2000, 5))
    );
    clock.set(Timestamp::new(2001, 0));
    fs.create(&r, d, b"f", 0o644, true).unwrap();
    assert_eq!(fs.stat(d).unwrap().mtime, Timestamp::new(2001, 0));
    clock.set(Timestamp::new(2002, 0));
    fs.unlink(&r, d, b"f").unwrap();
    assert_eq!(fs.stat(d).unwrap().ctime, Timestamp::new(2002, 0));
    // Listing stamps atime (relatime: it was older than mtime).
    clock.set(Timestamp::new(2003, 0));
    fs.readdir(d, 0, 10).unwrap();
    assert_eq!(fs.stat(d).unwrap().atime, Timestamp::new(2003, 0));
    // ...but not again until something changes or a day passes.
    clock.set(Timestamp::new(2004, 0));
    fs.readdir(d, 0, 10).unwrap();
    assert_eq!(fs.stat(d).unwrap().atime, Timestamp::new(2003, 0));
    clock.set(Timestamp::new(2003 + 86_400, 0));
    fs.readdir(d, 0, 10).unwrap();
    assert_eq!(fs.stat(d).unwrap().atime, Timestamp::new(2003 + 86_400, 0));
}

#[test]
fn changes_are_recorded_in_order() {
    let (mut fs, _) = fresh();
    let r = root();
    let d = fs.mkdir(&r, Ino::ROOT, b"d", 0o755).unwrap();
    let (f, _) = fs.create(&r, d, b"f", 0o644, true).unwrap();
    fs.write(&r, f, 2, b"xy").unwrap();
    fs.set_size(&r, f, 1).unwrap();
    fs.chmod(&r, f, 0o600).unwrap();
    let _ = fs.create(&r, d, b"f", 0o644, true); // fails: records nothing
    fs.unlink(&r, d, b"f").unwrap();
    assert_eq!(
        fs.take_changes(),
        vec![
            Change::Added {
                dir: Ino::ROOT,
                name: b"d".to_vec()
            },
            Change::Added {
                dir: d,
                name: b"f".to_vec()
            },
            Change::Written {
                ino: f,
                start: 2,
                end: 4
            },
            Change::Resized {
                ino: f,
                old: 4,
                new: 1
            },
            Change::Attributes { ino: f },
            Change::Removed {
                dir: d,
                name: b"f".to_vec()
            },
            Change::Attributes { ino: f },
        ]
    );
    assert_eq!(fs.take_changes(), vec![]);
}

#[test]
fn everything_removed_leaves_nothing_accounted() {
    let (mut fs, _) = fresh();
    let r = root();
    let mut dirs = vec![Ino::ROOT];
    for i in 0..50u32 {
        let parent = dirs[(i as usize * 7) % dirs.len()];
        let name = format!("n{i}");
        match i % 4 {
            0 => dirs.push(fs.mkdir(&r, parent, name.as_bytes(), 0o755).unwrap()),
            1 => {
                let (f, _) = fs.create(&r, parent, name.as_bytes(), 0o644, true).unwrap();
                fs.write(&r, f, u64::from(i) * 1000, &[i as u8; 5000])
                    .unwrap();
                fs.set_translator(&r, f, b"/hurd/null\0").unwrap();
            }
            2 => {
                fs.symlink(&r, parent, name.as_bytes(), b"somewhere")
                    .unwrap();
            }
            _ => {
                fs.mknod(&r, parent, name.as_bytes(), Special::Fifo, 0o644)
                    .unwrap();
            }
        }
    }
    assert!(fs.used_bytes() > 0);
    consistent(&fs);
    remove_tree(&mut fs, Ino::ROOT);
    assert_eq!((fs.used_inodes(), fs.used_bytes()), (1, 0));
    assert_eq!(fs.stat(Ino::ROOT).unwrap().nlink, 2);
    consistent(&fs);
}

/// Remove everything under `dir`.
fn remove_tree(fs: &mut herd_tmpfs::Fs, dir: Ino) {
    let r = root();
    for e in fs.readdir(dir, 2, usize::MAX).unwrap() {
        if e.kind == Kind::Directory {
            remove_tree(fs, e.ino);
            fs.rmdir(&r, dir, &e.name).unwrap();
        } else {
            fs.unlink(&r, dir, &e.name).unwrap();
        }
    }
}

#[test]
fn a_file_system_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<herd_tmpfs::Fs>();
    shareable::<herd_tmpfs::Error>();
}
