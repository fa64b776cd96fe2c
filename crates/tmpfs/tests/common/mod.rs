//! Helpers shared by the integration tests.
#![allow(dead_code)]

use herd_tmpfs::{Fs, Identity, Ino, Limits, ManualClock, Timestamp};

/// A file system with no limits, its clock at t = 1000 s, and the clock.
pub fn fresh() -> (Fs, ManualClock) {
    with_limits(Limits::UNLIMITED)
}

/// A file system with the given limits, its clock at t = 1000 s, and the clock.
pub fn with_limits(limits: Limits) -> (Fs, ManualClock) {
    let clock = ManualClock::new(Timestamp::new(1000, 0));
    (Fs::new(limits, clock.clone()), clock)
}

/// The superuser.
pub fn root() -> Identity {
    Identity::root()
}

/// Alice: uid 1000, groups 1000 and 50.
pub fn alice() -> Identity {
    Identity::user(1000, &[1000, 50])
}

/// Bob: uid 1001, groups 1001 and 50.
pub fn bob() -> Identity {
    Identity::user(1001, &[1001, 50])
}

/// Carol: uid 1002, group 1002 only.
pub fn carol() -> Identity {
    Identity::user(1002, &[1002])
}

/// A directory under the root owned by `who`'s first uid and group, mode `perm`.
pub fn owned_dir(fs: &mut Fs, name: &[u8], who: &Identity, perm: u32) -> Ino {
    let dir = fs.mkdir(&root(), Ino::ROOT, name, perm).unwrap();
    fs.chown(
        &root(),
        dir,
        who.uids.first().copied(),
        who.gids.first().copied(),
    )
    .unwrap();
    fs.chmod(&root(), dir, perm).unwrap();
    dir
}

/// Names listed in a directory, `.` and `..` included, in listing order.
pub fn names(fs: &mut Fs, dir: Ino) -> Vec<Vec<u8>> {
    fs.readdir(dir, 0, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect()
}

/// Assert the file system's invariants hold.
pub fn consistent(fs: &Fs) {
    if let Err(e) = fs.check_consistency() {
        panic!("inconsistent: {e}");
    }
}
