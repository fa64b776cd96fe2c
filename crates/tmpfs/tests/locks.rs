//! Record locks and flock locks through the file system.

mod common;

use common::*;
use herd_tmpfs::{Error, FlockOp, Ino, LockKind, RecordLock, MAX_FILE_SIZE};

#[test]
fn record_locks_between_owners() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    fs.lock_record(f, 1, LockKind::Shared, 0, 100).unwrap();
    fs.lock_record(f, 2, LockKind::Shared, 50, 100).unwrap();
    assert_eq!(
        fs.lock_record(f, 3, LockKind::Exclusive, 99, 1),
        Err(Error::WouldBlock)
    );
    assert_eq!(Error::WouldBlock.errno(), herd_wire::Errno::EAGAIN);
    fs.lock_record(f, 3, LockKind::Exclusive, 150, 0).unwrap();
    assert_eq!(
        fs.test_record(f, 4, LockKind::Shared, 1000, 1).unwrap(),
        Some(RecordLock {
            owner: 3,
            kind: LockKind::Exclusive,
            start: 150,
            end: None
        })
    );
    assert_eq!(
        fs.test_record(f, 4, LockKind::Shared, 0, 150).unwrap(),
        None
    );
    assert_eq!(
        fs.test_record(f, 3, LockKind::Exclusive, 150, 10).unwrap(),
        None
    );
    // Upgrading a shared lock conflicts with the other reader.
    assert_eq!(
        fs.lock_record(f, 1, LockKind::Exclusive, 60, 1),
        Err(Error::WouldBlock)
    );
    fs.lock_record(f, 1, LockKind::Exclusive, 0, 10).unwrap();
    fs.unlock_record(f, 2, 0, 0).unwrap();
    fs.lock_record(f, 1, LockKind::Exclusive, 60, 1).unwrap();
    let mut held = fs.record_locks(f).unwrap();
    held.sort_by_key(|l| (l.owner, l.start));
    assert_eq!(
        held,
        vec![
            RecordLock {
                owner: 1,
                kind: LockKind::Exclusive,
                start: 0,
                end: Some(10)
            },
            RecordLock {
                owner: 1,
                kind: LockKind::Shared,
                start: 10,
                end: Some(60)
            },
            RecordLock {
                owner: 1,
                kind: LockKind::Exclusive,
                start: 60,
                end: Some(61)
            },
            RecordLock {
                owner: 1,
                kind: LockKind::Shared,
                start: 61,
                end: Some(100)
            },
            RecordLock {
                owner: 3,
                kind: LockKind::Exclusive,
                start: 150,
                end: None
            },
        ]
    );
    fs.release_records(f, 1).unwrap();
    assert_eq!(fs.record_locks(f).unwrap().len(), 1);
    assert_eq!(
        fs.lock_record(f, 1, LockKind::Shared, MAX_FILE_SIZE, 2),
        Err(Error::Overflow)
    );
    assert_eq!(
        fs.lock_record(Ino(77), 1, LockKind::Shared, 0, 1),
        Err(Error::Stale)
    );
}

#[test]
fn flock_between_open_files() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    fs.flock(f, 10, FlockOp::Exclusive).unwrap();
    assert_eq!(fs.flock(f, 11, FlockOp::Shared), Err(Error::WouldBlock));
    assert_eq!(fs.flock(f, 11, FlockOp::Exclusive), Err(Error::WouldBlock));
    fs.flock(f, 10, FlockOp::Shared).unwrap();
    fs.flock(f, 11, FlockOp::Shared).unwrap();
    assert_eq!(fs.flock(f, 10, FlockOp::Exclusive), Err(Error::WouldBlock));
    fs.flock(f, 11, FlockOp::Unlock).unwrap();
    fs.flock(f, 10, FlockOp::Exclusive).unwrap();
    // flock and record locks are independent.
    fs.lock_record(f, 11, LockKind::Exclusive, 0, 0).unwrap();
}

#[test]
fn locks_die_with_the_node() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    fs.hold(f).unwrap();
    fs.lock_record(f, 1, LockKind::Exclusive, 0, 0).unwrap();
    fs.flock(f, 1, FlockOp::Exclusive).unwrap();
    fs.unlink(&r, Ino::ROOT, b"f").unwrap();
    // Still locked while open.
    assert_eq!(
        fs.lock_record(f, 2, LockKind::Shared, 0, 1),
        Err(Error::WouldBlock)
    );
    fs.release(f).unwrap();
    assert_eq!(fs.record_locks(f), Err(Error::Stale));
    // A new file never inherits them.
    let (g, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    assert_eq!(fs.record_locks(g).unwrap(), vec![]);
    fs.flock(g, 2, FlockOp::Exclusive).unwrap();
}

mod model {
    //! Record locks against a byte-by-byte reference: which owners hold which kind of lock
    //! on each of the first bytes of a file, with "to the end" locks covering the rest.

    use std::collections::BTreeMap;

    use super::*;
    use herd_tmpfs::Fs;
    use proptest::prelude::*;

    /// Bytes the reference tracks; byte `SPAN` stands for everything from there on, which
    /// only "to the end" locks reach (finite ones end below it).
    const SPAN: u64 = 40;

    #[derive(Debug, Clone)]
    enum LockOp {
        Lock(u64, LockKind, u64, u64),
        Unlock(u64, u64, u64),
        Test(u64, LockKind, u64, u64),
        ReleaseAll(u64),
    }

    fn op() -> impl Strategy<Value = LockOp> {
        let kind = prop_oneof![Just(LockKind::Shared), Just(LockKind::Exclusive)];
        let owner = 1u64..4;
        let start = 0u64..SPAN - 12;
        let len = prop_oneof![3 => 1u64..12, 1 => Just(0u64)];
        prop_oneof![
            4 => (owner.clone(), kind.clone(), start.clone(), len.clone()).prop_map(|(o, k, s, l)| LockOp::Lock(o, k, s, l)),
            2 => (owner.clone(), start.clone(), len.clone()).prop_map(|(o, s, l)| LockOp::Unlock(o, s, l)),
            2 => (owner.clone(), kind, start, len).prop_map(|(o, k, s, l)| LockOp::Test(o, k, s, l)),
            1 => owner.prop_map(LockOp::ReleaseAll),
        ]
    }

    /// Byte -> owner -> kind.
    type Bytes = Vec<BTreeMap<u64, LockKind>>;

    fn bytes_of(start: u64, len: u64) -> std::ops::Range<usize> {
        let end = if len == 0 {
            SPAN + 1
        } else {
            (start + len).min(SPAN + 1)
        };
        start as usize..end as usize
    }

    fn conflicts(held: &BTreeMap<u64, LockKind>, owner: u64, kind: LockKind) -> bool {
        held.iter()
            .any(|(&o, &k)| o != owner && (k == LockKind::Exclusive || kind == LockKind::Exclusive))
    }

    fn state_of(fs: &Fs, f: Ino) -> Bytes {
        let mut bytes: Bytes = vec![BTreeMap::new(); SPAN as usize + 1];
        for l in fs.record_locks(f).unwrap() {
            let end = l.end.unwrap_or(u64::MAX).min(SPAN + 1);
            for b in l.start.min(SPAN + 1)..end {
                assert!(
                    bytes[b as usize].insert(l.owner, l.kind).is_none(),
                    "overlapping locks of one owner"
                );
            }
        }
        bytes
    }

    proptest! {
        #[test]
        fn record_locks_match_a_byte_model(ops in prop::collection::vec(op(), 1..40)) {
            let (mut fs, _) = fresh();
            let (f, _) = fs.create(&root(), Ino::ROOT, b"f", 0o644, true).unwrap();
            let mut model: Bytes = vec![BTreeMap::new(); SPAN as usize + 1];
            for op in &ops {
                match *op {
                    LockOp::Lock(o, k, s, l) => {
                        let blocked = model[bytes_of(s, l)].iter().any(|h| conflicts(h, o, k));
                        let got = fs.lock_record(f, o, k, s, l);
                        prop_assert_eq!(got.is_err(), blocked, "{:?}", op);
                        if !blocked {
                            for h in &mut model[bytes_of(s, l)] {
                                h.insert(o, k);
                            }
                        }
                    }
                    LockOp::Unlock(o, s, l) => {
                        fs.unlock_record(f, o, s, l).unwrap();
                        for h in &mut model[bytes_of(s, l)] {
                            h.remove(&o);
                        }
                    }
                    LockOp::Test(o, k, s, l) => {
                        let blocked = model[bytes_of(s, l)].iter().any(|h| conflicts(h, o, k));
                        let got = fs.test_record(f, o, k, s, l).unwrap();
                        prop_assert_eq!(got.is_some(), blocked, "{:?}", op);
                        if let Some(c) = got {
                            prop_assert!(c.owner != o);
                            prop_assert!(c.kind == LockKind::Exclusive || k == LockKind::Exclusive);
                        }
                    }
                    LockOp::ReleaseAll(o) => {
                        fs.release_records(f, o).unwrap();
                        for h in &mut model {
                            h.remove(&o);
                        }
                    }
                }
                prop_assert_eq!(state_of(&fs, f), model.clone());
                // Canonical: an owner's locks of one kind never touch or overlap.
                let mut held = fs.record_locks(f).unwrap();
                held.sort_by_key(|l| (l.owner, l.start));
                for w in held.windows(2) {
                    if w[0].owner == w[1].owner && w[0].kind == w[1].kind {
                        prop_assert!(w[0].end.is_some_and(|e| e < w[1].start), "unmerged {:?}", w);
                    }
                }
            }
        }
    }
}
