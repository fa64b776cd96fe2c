//! Any input, any order: random operations with arbitrary names, inode numbers, offsets,
//! modes and identities never panic, keep the invariants, stay under the limits, and
//! leave nothing accounted once every name is removed and every reference released.

mod common;

use common::*;
use herd_tmpfs::{
    FlockOp, Identity, Ino, Kind, Limits, LockKind, RenameMode, SetTime, Special, Timestamp,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Create(usize, u64, Vec<u8>, u32, bool),
    Mkdir(usize, u64, Vec<u8>, u32),
    Mknod(usize, u64, Vec<u8>, u8),
    Symlink(usize, u64, Vec<u8>, Vec<u8>),
    Link(usize, u64, u64, Vec<u8>),
    Unlink(usize, u64, Vec<u8>),
    Rmdir(usize, u64, Vec<u8>),
    Rename(usize, u64, Vec<u8>, u64, Vec<u8>, u8),
    Write(usize, u64, u64, usize),
    SetSize(usize, u64, u64),
    Read(u64, u64, usize),
    Chmod(usize, u64, u32),
    Chown(usize, u64, Option<u32>, Option<u32>),
    Utimes(usize, u64, i64, u32),
    Translator(usize, u64, Vec<u8>),
    Hold(u64),
    Release(u64),
    Readdir(u64, u64, usize),
    Lock(u64, u64, bool, u64, u64),
    Flock(u64, u64, u8),
}

fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(vec![&b"a"[..], b"b", b"c", b".", b"..", b""]).prop_map(|s| s.to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

/// Mostly live-looking inode numbers, sometimes anything.
fn ino() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..12, 1 => any::<u64>()]
}

fn who() -> impl Strategy<Value = usize> {
    0usize..4
}

fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0u64..20_000, 1 => any::<u64>(), 1 => Just(i64::MAX as u64 - 1)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (who(), ino(), name(), any::<u32>(), any::<bool>())
            .prop_map(|(w, i, n, m, x)| Op::Create(w, i, n, m, x)),
        (who(), ino(), name(), any::<u32>()).prop_map(|(w, i, n, m)| Op::Mkdir(w, i, n, m)),
        (who(), ino(), name(), any::<u8>()).prop_map(|(w, i, n, k)| Op::Mknod(w, i, n, k)),
        (
            who(),
            ino(),
            name(),
            prop::collection::vec(any::<u8>(), 0..50)
        )
            .prop_map(|(w, i, n, t)| Op::Symlink(w, i, n, t)),
        (who(), ino(), ino(), name()).prop_map(|(w, a, d, n)| Op::Link(w, a, d, n)),
        (who(), ino(), name()).prop_map(|(w, i, n)| Op::Unlink(w, i, n)),
        (who(), ino(), name()).prop_map(|(w, i, n)| Op::Rmdir(w, i, n)),
        (who(), ino(), name(), ino(), name(), any::<u8>())
            .prop_map(|(w, a, n, b, m, k)| Op::Rename(w, a, n, b, m, k)),
        (who(), ino(), offset(), 0usize..10_000).prop_map(|(w, i, o, l)| Op::Write(w, i, o, l)),
        (who(), ino(), offset()).prop_map(|(w, i, s)| Op::SetSize(w, i, s)),
        (
            ino(),
            offset(),
            prop_oneof![Just(0usize), 0usize..10_000, any::<usize>()]
        )
            .prop_map(|(i, o, l)| Op::Read(i, o, l)),
        (who(), ino(), any::<u32>()).prop_map(|(w, i, m)| Op::Chmod(w, i, m)),
        (who(), ino(), any::<Option<u32>>(), any::<Option<u32>>())
            .prop_map(|(w, i, u, g)| Op::Chown(w, i, u, g)),
        (who(), ino(), any::<i64>(), any::<u32>()).prop_map(|(w, i, s, n)| Op::Utimes(w, i, s, n)),
        (who(), ino(), prop::collection::vec(any::<u8>(), 0..100))
            .prop_map(|(w, i, t)| Op::Translator(w, i, t)),
        ino().prop_map(Op::Hold),
        ino().prop_map(Op::Release),
        (ino(), any::<u64>(), any::<usize>()).prop_map(|(i, c, m)| Op::Readdir(i, c, m)),
        (ino(), 0u64..4, any::<bool>(), offset(), offset())
            .prop_map(|(i, o, x, s, l)| Op::Lock(i, o, x, s, l)),
        (ino(), 0u64..4, any::<u8>()).prop_map(|(i, o, k)| Op::Flock(i, o, k)),
    ]
}

fn identities() -> [Identity; 4] {
    [root(), alice(), bob(), Identity::default()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_operations_keep_the_books(ops in prop::collection::vec(op(), 1..80)) {
        let limits = Limits { max_bytes: 64 * 1024, max_inodes: 20 };
        let (mut fs, clock) = with_limits(limits);
        // A world-writable root, so the users get somewhere.
        fs.chmod(&root(), Ino::ROOT, 0o777).unwrap();
        let ids = identities();
        let mut holds: Vec<Ino> = Vec::new();
        for op in &ops {
            clock.advance(0, 1_000);
            match op.clone() {
                Op::Create(w, d, n, m, x) => { let _ = fs.create(&ids[w], Ino(d), &n, m, x); }
                Op::Mkdir(w, d, n, m) => { let _ = fs.mkdir(&ids[w], Ino(d), &n, m); }
                Op::Mknod(w, d, n, k) => {
                    let special = match k % 4 {
                        0 => Special::Fifo,
                        1 => Special::Socket,
                        2 => Special::CharDevice(u64::from(k)),
                        _ => Special::BlockDevice(u64::from(k)),
                    };
                    let _ = fs.mknod(&ids[w], Ino(d), &n, special, 0o644);
                }
                Op::Symlink(w, d, n, t) => { let _ = fs.symlink(&ids[w], Ino(d), &n, &t); }
                Op::Link(w, a, d, n) => { let _ = fs.link(&ids[w], Ino(a), Ino(d), &n); }
                Op::Unlink(w, d, n) => { let _ = fs.unlink(&ids[w], Ino(d), &n); }
                Op::Rmdir(w, d, n) => { let _ = fs.rmdir(&ids[w], Ino(d), &n); }
                Op::Rename(w, a, n, b, m, k) => {
                    let mode = [RenameMode::Replace, RenameMode::NoReplace, RenameMode::Exchange][usize::from(k % 3)];
                    let _ = fs.rename(&ids[w], Ino(a), &n, Ino(b), &m, mode);
                }
                Op::Write(w, i, o, l) => {
                    if let Ok(n) = fs.write(&ids[w], Ino(i), o, &vec![7u8; l]) {
                        prop_assert!(n <= l);
                    }
                }
                Op::SetSize(w, i, s) => { let _ = fs.set_size(&ids[w], Ino(i), s); }
                Op::Read(i, o, l) => {
                    if let Ok(data) = fs.read(Ino(i), o, l) {
                        prop_assert!(data.len() <= l);
                    }
                }
                Op::Chmod(w, i, m) => { let _ = fs.chmod(&ids[w], Ino(i), m); }
                Op::Chown(w, i, u, g) => { let _ = fs.chown(&ids[w], Ino(i), u, g); }
                Op::Utimes(w, i, s, n) => {
                    let _ = fs.utimes(&ids[w], Ino(i), SetTime::At(Timestamp { sec: s, nsec: n }), SetTime::Now);
                    if let Ok(st) = fs.stat(Ino(i)) {
                        prop_assert!(st.atime.nsec < 1_000_000_000);
                    }
                }
                Op::Translator(w, i, t) => { let _ = fs.set_translator(&ids[w], Ino(i), &t); }
                Op::Hold(i) => {
                    if fs.hold(Ino(i)).is_ok() {
                        holds.push(Ino(i));
                    }
                }
                Op::Release(i) => {
                    if let Some(pos) = holds.iter().position(|&h| h == Ino(i)) {
                        holds.swap_remove(pos);
                        fs.release(Ino(i)).unwrap();
                    } else {
                        prop_assert!(fs.release(Ino(i)).is_err());
                    }
                }
                Op::Readdir(i, c, m) => {
                    if let Ok(entries) = fs.readdir(Ino(i), c, m) {
                        prop_assert!(entries.len() <= m);
                        prop_assert!(entries.iter().all(|e| e.next > c));
                    }
                }
                Op::Lock(i, o, x, s, l) => {
                    let kind = if x { LockKind::Exclusive } else { LockKind::Shared };
                    let _ = fs.lock_record(Ino(i), o, kind, s, l);
                }
                Op::Flock(i, o, k) => {
                    let op = [FlockOp::Shared, FlockOp::Exclusive, FlockOp::Unlock][usize::from(k % 3)];
                    let _ = fs.flock(Ino(i), o, op);
                }
            }
            if let Err(problem) = fs.check_consistency() {
                prop_assert!(false, "after {:?}: {}", op, problem);
            }
            let sf = fs.statfs();
            prop_assert!(fs.used_bytes() <= limits.max_bytes, "{:?}", sf);
            prop_assert!(fs.used_inodes() <= limits.max_inodes);
        }
        for h in holds.drain(..) {
            fs.release(h).unwrap();
        }
        clear(&mut fs, Ino::ROOT);
        prop_assert_eq!((fs.used_inodes(), fs.used_bytes() - fs.translator(Ino::ROOT).unwrap().len() as u64), (1, 0));
        fs.set_translator(&root(), Ino::ROOT, b"").unwrap();
        prop_assert_eq!(fs.used_bytes(), 0);
        prop_assert!(fs.check_consistency().is_ok());
    }
}

/// Remove everything under `dir` as the superuser.
fn clear(fs: &mut herd_tmpfs::Fs, dir: Ino) {
    let r = root();
    for e in fs.readdir(dir, 2, usize::MAX).unwrap() {
        if e.kind == Kind::Directory {
            clear(fs, e.ino);
            fs.rmdir(&r, dir, &e.name).unwrap();
        } else {
            fs.unlink(&r, dir, &e.name).unwrap();
        }
    }
}
