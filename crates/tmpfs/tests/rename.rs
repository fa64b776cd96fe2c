//! `rename` in its three modes, with Linux's answers.

mod common;

use common::*;
use herd_tmpfs::{Change, Error, Ino, RenameMode, Timestamp};

const REPLACE: RenameMode = RenameMode::Replace;
const NOREPLACE: RenameMode = RenameMode::NoReplace;
const EXCHANGE: RenameMode = RenameMode::Exchange;

#[test]
fn moves_files_and_replaces_them() {
    let (mut fs, clock) = fresh();
    let r = root();
    let a = fs.mkdir(&r, Ino::ROOT, b"a", 0o755).unwrap();
    let b = fs.mkdir(&r, Ino::ROOT, b"b", 0o755).unwrap();
    let (f, _) = fs.create(&r, a, b"f", 0o644, true).unwrap();
    let (g, _) = fs.create(&r, b, b"g", 0o644, true).unwrap();
    fs.take_changes();
    clock.advance(10, 0);
    fs.rename(&r, a, b"f", b, b"f2", REPLACE).unwrap();
    assert_eq!(fs.lookup(&r, a, b"f"), Err(Error::NotFound));
    assert_eq!(fs.lookup(&r, b, b"f2"), Ok(f));
    for ino in [a, b, f] {
        assert_eq!(fs.stat(ino).unwrap().ctime, Timestamp::new(1010, 0));
    }
    assert_eq!(fs.stat(a).unwrap().mtime, Timestamp::new(1010, 0));
    // Replace g: it loses its only name and is freed.
    fs.rename(&r, b, b"f2", b, b"g", REPLACE).unwrap();
    assert_eq!(fs.lookup(&r, b, b"g"), Ok(f));
    assert_eq!(fs.stat(g), Err(Error::Stale));
    let changes = fs.take_changes();
    assert_eq!(
        changes.last(),
        Some(&Change::Renamed {
            from_dir: b,
            from_name: b"f2".to_vec(),
            to_dir: b,
            to_name: b"g".to_vec()
        })
    );
    assert_eq!((fs.used_inodes(), fs.used_bytes()), (4, 3));
    consistent(&fs);
}

#[test]
fn a_held_replaced_file_lives_on() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    let (g, _) = fs.create(&r, Ino::ROOT, b"g", 0o644, true).unwrap();
    fs.write(&r, g, 0, b"old").unwrap();
    fs.hold(g).unwrap();
    fs.rename(&r, Ino::ROOT, b"f", Ino::ROOT, b"g", REPLACE)
        .unwrap();
    assert_eq!(fs.stat(g).unwrap().nlink, 0);
    assert_eq!(fs.read(g, 0, 10).unwrap(), b"old");
    consistent(&fs);
    fs.release(g).unwrap();
    assert_eq!(fs.lookup(&r, Ino::ROOT, b"g"), Ok(f));
    consistent(&fs);
}

#[test]
fn moves_directories_and_fixes_links() {
    let (mut fs, _) = fresh();
    let r = root();
    let a = fs.mkdir(&r, Ino::ROOT, b"a", 0o755).unwrap();
    let b = fs.mkdir(&r, Ino::ROOT, b"b", 0o755).unwrap();
    let d = fs.mkdir(&r, a, b"d", 0o755).unwrap();
    fs.rename(&r, a, b"d", b, b"d", REPLACE).unwrap();
    assert_eq!(fs.lookup(&r, d, b".."), Ok(b));
    assert_eq!(
        (fs.stat(a).unwrap().nlink, fs.stat(b).unwrap().nlink),
        (2, 3)
    );
    // Over an empty directory: allowed; over a non-empty one: ENOTEMPTY.
    let e = fs.mkdir(&r, a, b"e", 0o755).unwrap();
    fs.rename(&r, b, b"d", a, b"e", REPLACE).unwrap();
    assert_eq!(fs.stat(e), Err(Error::Stale));
    assert_eq!(
        (fs.stat(a).unwrap().nlink, fs.stat(b).unwrap().nlink),
        (3, 2)
    );
    fs.mkdir(&r, b, b"full", 0o755).unwrap();
    fs.create(&r, d, b"x", 0o644, true).unwrap();
    let full = fs.lookup(&r, b, b"full").unwrap();
    fs.create(&r, full, b"y", 0o644, true).unwrap();
    assert_eq!(
        fs.rename(&r, a, b"e", b, b"full", REPLACE),
        Err(Error::NotEmpty)
    );
    consistent(&fs);
}

#[test]
fn kinds_must_match_when_replacing() {
    let (mut fs, _) = fresh();
    let r = root();
    fs.mkdir(&r, Ino::ROOT, b"d", 0o755).unwrap();
    fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    assert_eq!(
        fs.rename(&r, Ino::ROOT, b"d", Ino::ROOT, b"f", REPLACE),
        Err(Error::NotDirectory)
    );
    assert_eq!(
        fs.rename(&r, Ino::ROOT, b"f", Ino::ROOT, b"d", REPLACE),
        Err(Error::IsDirectory)
    );
    // Exchange swaps any kinds.
    let d = fs.lookup(&r, Ino::ROOT, b"d").unwrap();
    let f = fs.lookup(&r, Ino::ROOT, b"f").unwrap();
    fs.rename(&r, Ino::ROOT, b"f", Ino::ROOT, b"d", EXCHANGE)
        .unwrap();
    assert_eq!(fs.lookup(&r, Ino::ROOT, b"d"), Ok(f));
    assert_eq!(fs.lookup(&r, Ino::ROOT, b"f"), Ok(d));
    consistent(&fs);
}

#[test]
fn never_into_itself() {
    let (mut fs, _) = fresh();
    let r = root();
    let a = fs.mkdir(&r, Ino::ROOT, b"a", 0o755).unwrap();
    let b = fs.mkdir(&r, a, b"b", 0o755).unwrap();
    let c = fs.mkdir(&r, b, b"c", 0o755).unwrap();
    assert_eq!(
        fs.rename(&r, Ino::ROOT, b"a", c, b"a", REPLACE),
        Err(Error::Invalid)
    );
    assert_eq!(
        fs.rename(&r, Ino::ROOT, b"a", a, b"x", REPLACE),
        Err(Error::Invalid)
    );
    assert_eq!(
        fs.rename(&r, a, b"b", b, b"x", REPLACE),
        Err(Error::Invalid)
    );
    // Renaming over an ancestor of the source: ENOTEMPTY (EINVAL when exchanging).
    assert_eq!(
        fs.rename(&r, b, b"c", Ino::ROOT, b"a", REPLACE),
        Err(Error::NotEmpty)
    );
    assert_eq!(
        fs.rename(&r, b, b"c", Ino::ROOT, b"a", EXCHANGE),
        Err(Error::Invalid)
    );
    assert_eq!(
        fs.rename(&r, Ino::ROOT, b"a", b, b"c", EXCHANGE),
        Err(Error::Invalid)
    );
    consistent(&fs);
}

#[test]
fn modes() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    let (g, _) = fs.create(&r, Ino::ROOT, b"g", 0o644, true).unwrap();
    assert_eq!(
        fs.rename(&r, Ino::ROOT, b"f", Ino::ROOT, b"g", NOREPLACE),
        Err(Error::Exists)
    );
    assert_eq!(
        fs.rename(&r, Ino::ROOT, b"f", Ino::ROOT, b"h", EXCHANGE),
        Err(Error::NotFound)
    );
    fs.rename(&r, Ino::ROOT, b"f", Ino::ROOT, b"h", NOREPLACE)
        .unwrap();
    fs.rename(&r, Ino::ROOT, b"h", Ino::ROOT, b"g", EXCHANGE)
        .unwrap();
    assert_eq!(fs.lookup(&r, Ino::ROOT, b"g"), Ok(f));
    assert_eq!(fs.lookup(&r, Ino::ROOT, b"h"), Ok(g));
    assert_eq!(
        fs.take_changes().last(),
        Some(&Change::Exchanged {
            dir_a: Ino::ROOT,
            name_a: b"h".to_vec(),
            dir_b: Ino::ROOT,
            name_b: b"g".to_vec()
        })
    );
    consistent(&fs);
}

#[test]
fn exchanging_directories_across_parents() {
    let (mut fs, _) = fresh();
    let r = root();
    let a = fs.mkdir(&r, Ino::ROOT, b"a", 0o755).unwrap();
    let b = fs.mkdir(&r, Ino::ROOT, b"b", 0o755).unwrap();
    let x = fs.mkdir(&r, a, b"x", 0o755).unwrap();
    let (y, _) = fs.create(&r, b, b"y", 0o644, true).unwrap();
    fs.rename(&r, a, b"x", b, b"y", EXCHANGE).unwrap();
    assert_eq!(fs.lookup(&r, a, b"x"), Ok(y));
    assert_eq!(fs.lookup(&r, b, b"y"), Ok(x));
    assert_eq!(fs.lookup(&r, x, b".."), Ok(b));
    assert_eq!(
        (fs.stat(a).unwrap().nlink, fs.stat(b).unwrap().nlink),
        (2, 3)
    );
    consistent(&fs);
}

#[test]
fn dots_missing_and_same_node() {
    let (mut fs, clock) = fresh();
    let r = root();
    let d = fs.mkdir(&r, Ino::ROOT, b"d", 0o755).unwrap();
    let (f, _) = fs.create(&r, d, b"f", 0o644, true).unwrap();
    assert_eq!(
        fs.rename(&r, d, b".", Ino::ROOT, b"x", REPLACE),
        Err(Error::Busy)
    );
    assert_eq!(
        fs.rename(&r, d, b"..", Ino::ROOT, b"x", REPLACE),
        Err(Error::Busy)
    );
    assert_eq!(fs.rename(&r, d, b"f", d, b"..", REPLACE), Err(Error::Busy));
    assert_eq!(
        fs.rename(&r, d, b"f", d, b".", NOREPLACE),
        Err(Error::Exists)
    );
    assert_eq!(
        fs.rename(&r, d, b"", d, b"x", REPLACE),
        Err(Error::NotFound)
    );
    assert_eq!(
        fs.rename(&r, d, b"nope", d, b"x", REPLACE),
        Err(Error::NotFound)
    );
    assert_eq!(
        fs.rename(&r, d, b"f", d, b"a/b", REPLACE),
        Err(Error::Invalid)
    );
    assert_eq!(
        fs.rename(&r, f, b"f", d, b"x", REPLACE),
        Err(Error::NotDirectory)
    );
    // Two names of one node: success, and nothing changes (both names stay).
    fs.link(&r, f, d, b"g").unwrap();
    fs.take_changes();
    clock.advance(1, 0);
    fs.rename(&r, d, b"f", d, b"g", REPLACE).unwrap();
    assert_eq!(fs.lookup(&r, d, b"f"), Ok(f));
    assert_eq!(fs.stat(f).unwrap().nlink, 2);
    assert_eq!(fs.take_changes(), vec![]);
    // Onto itself: the same.
    fs.rename(&r, d, b"f", d, b"f", REPLACE).unwrap();
    assert_eq!(fs.lookup(&r, d, b"f"), Ok(f));
    consistent(&fs);
}

#[test]
fn permissions() {
    let (mut fs, _) = fresh();
    let mine = owned_dir(&mut fs, b"mine", &alice(), 0o755);
    let open = owned_dir(&mut fs, b"open", &carol(), 0o777);
    let sub = fs.mkdir(&alice(), mine, b"sub", 0o755).unwrap();
    fs.create(&alice(), mine, b"f", 0o644, true).unwrap();
    // Bob may not take from a directory he cannot write.
    assert_eq!(
        fs.rename(&bob(), mine, b"f", open, b"f", REPLACE),
        Err(Error::AccessDenied)
    );
    // Nor put into one.
    fs.create(&bob(), open, b"b", 0o644, true).unwrap();
    assert_eq!(
        fs.rename(&bob(), open, b"b", mine, b"b", REPLACE),
        Err(Error::AccessDenied)
    );
    // Moving a directory to another parent needs write permission on it (its `..`).
    let theirs = fs.mkdir(&carol(), open, b"theirs", 0o555).unwrap();
    assert_eq!(
        fs.rename(&bob(), open, b"theirs", open, b"renamed", REPLACE),
        Ok(())
    );
    let bobs = fs.mkdir(&bob(), open, b"bobs", 0o777).unwrap();
    assert_eq!(
        fs.rename(&bob(), open, b"renamed", bobs, b"t", REPLACE),
        Err(Error::AccessDenied)
    );
    fs.rename(&root(), open, b"renamed", bobs, b"t", REPLACE)
        .unwrap();
    assert_eq!(fs.lookup(&root(), theirs, b".."), Ok(bobs));
    // Alice moves within her own tree.
    fs.rename(&alice(), mine, b"f", sub, b"f", REPLACE).unwrap();
    // A removed target directory: ENOENT.
    let gone = fs.mkdir(&root(), Ino::ROOT, b"gone", 0o777).unwrap();
    fs.hold(gone).unwrap();
    fs.rmdir(&root(), Ino::ROOT, b"gone").unwrap();
    assert_eq!(
        fs.rename(&root(), open, b"b", gone, b"b", REPLACE),
        Err(Error::NotFound)
    );
    fs.release(gone).unwrap();
    consistent(&fs);
}
