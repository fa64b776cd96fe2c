//! The small values every operation speaks in: inode numbers, the caller's identity, time,
//! limits and mode bits.

use std::ops::BitOr;
use std::sync::{Arc, Mutex};

/// An inode number. Numbers are never reused within one [`crate::Fs`], so a stale number
/// can only fail with [`crate::Error::Stale`], never reach another node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ino(pub u64);

impl Ino {
    /// The root directory.
    pub const ROOT: Ino = Ino(1);
}

/// Who is asking: the effective ids of the caller, as the auth server vouched for them.
///
/// Uid 0 among `uids` is the superuser. New nodes are owned by `uids[0]` and get group
/// `gids[0]` (unless the directory is setgid); an identity with no uids or no gids takes
/// the directory's owner or group instead.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Identity {
    /// Effective user ids; the first owns what this identity creates.
    pub uids: Vec<u32>,
    /// Effective group ids; the first is the group of what this identity creates.
    pub gids: Vec<u32>,
}

impl Identity {
    /// The superuser (uid 0, gid 0).
    pub fn root() -> Identity {
        Identity {
            uids: vec![0],
            gids: vec![0],
        }
    }

    /// A user with one uid and the given groups (the first is the primary group).
    pub fn user(uid: u32, gids: &[u32]) -> Identity {
        Identity {
            uids: vec![uid],
            gids: gids.to_vec(),
        }
    }

    /// Whether uid 0 is among the effective uids.
    pub fn is_superuser(&self) -> bool {
        self.uids.contains(&0)
    }

    /// Whether `uid` is among the effective uids.
    pub fn has_uid(&self, uid: u32) -> bool {
        self.uids.contains(&uid)
    }

    /// Whether `gid` is among the effective gids.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gids.contains(&gid)
    }

    /// Whether this identity owns a node with owner `uid` or is the superuser.
    pub fn owns(&self, uid: u32) -> bool {
        self.is_superuser() || self.has_uid(uid)
    }
}

/// A point in time: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Seconds since the epoch (negative before it).
    pub sec: i64,
    /// Nanoseconds within the second, below 1,000,000,000.
    pub nsec: u32,
}

impl Timestamp {
    /// A timestamp, with `nsec` folded into `sec` if it is a second or more.
    pub fn new(sec: i64, nsec: u32) -> Timestamp {
        Timestamp {
            sec: sec.saturating_add(i64::from(nsec / 1_000_000_000)),
            nsec: nsec % 1_000_000_000,
        }
    }
}

/// Where the file system reads the time for the times it stamps.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The host's real-time clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        use std::time::{SystemTime, UNIX_EPOCH};
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp::new(
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_nanos(),
            ),
            Err(e) => {
                let d = e.duration();
                let sec = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_nanos() {
                    0 => Timestamp::new(-sec, 0),
                    n => Timestamp::new(-sec - 1, 1_000_000_000 - n),
                }
            }
        }
    }
}

/// A clock that moves only when told to; clones share the time. For deterministic tests.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock showing `t`.
    pub fn new(t: Timestamp) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(t)))
    }

    /// Set the time.
    pub fn set(&self, t: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Move the time forward by `sec` seconds and `nsec` nanoseconds.
    pub fn advance(&self, sec: i64, nsec: u32) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let total = t.nsec.saturating_add(nsec % 1_000_000_000);
        *t = Timestamp::new(
            t.sec
                .saturating_add(sec)
                .saturating_add(i64::from(nsec / 1_000_000_000)),
            total,
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How much the file system may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of storage: file data (whole [`crate::CHUNK_SIZE`] chunks as written), symlink
    /// targets, directory entry names and passive translator records.
    pub max_bytes: u64,
    /// Live nodes, the root included.
    pub max_inodes: u64,
}

impl Limits {
    /// No limit but the machine's memory.
    pub const UNLIMITED: Limits = Limits {
        max_bytes: u64::MAX,
        max_inodes: u64::MAX,
    };
}

/// Permission bits of a mode: the set-user-id, set-group-id and sticky bits and `rwxrwxrwx`.
pub mod mode {
    /// Set user id on execution.
    pub const S_ISUID: u32 = 0o4000;
    /// Set group id on execution; on a directory, new entries inherit its group.
    pub const S_ISGID: u32 = 0o2000;
    /// Sticky: in a directory, only the owner of an entry or of the directory may remove it.
    pub const S_ISVTX: u32 = 0o1000;
    /// Group execute.
    pub const S_IXGRP: u32 = 0o010;
    /// Every permission bit; anything else passed as a mode is ignored.
    pub const PERMS: u32 = 0o7777;
}

/// A set of access kinds to check with [`crate::Fs::access`]: combine with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Access(u8);

impl Access {
    /// No access (always allowed).
    pub const NONE: Access = Access(0);
    /// Execute a file, search a directory.
    pub const EXEC: Access = Access(1);
    /// Write a file, create or remove entries in a directory.
    pub const WRITE: Access = Access(2);
    /// Read a file or list a directory.
    pub const READ: Access = Access(4);

    /// The three bits (`r` = 4, `w` = 2, `x` = 1), as in a mode triple.
    pub fn bits(self) -> u32 {
        u32::from(self.0)
    }

    /// Whether every kind in `other` is in `self`.
    pub fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Access {
    type Output = Access;
    fn bitor(self, rhs: Access) -> Access {
        Access(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_normalise_and_order() {
        assert_eq!(
            Timestamp::new(1, 2_500_000_000),
            Timestamp {
                sec: 3,
                nsec: 500_000_000
            }
        );
        assert!(Timestamp::new(1, 5) < Timestamp::new(2, 0));
        let c = ManualClock::new(Timestamp::new(10, 900_000_000));
        c.advance(1, 200_000_000);
        assert_eq!(c.now(), Timestamp::new(12, 100_000_000));
        c.advance(i64::MAX, u32::MAX);
        assert_eq!(c.now().sec, i64::MAX);
        assert!(SystemClock.now().sec > 1_600_000_000);
    }

    #[test]
    fn identities() {
        let u = Identity::user(1000, &[100, 7]);
        assert!(!u.is_superuser() && u.has_uid(1000) && u.in_group(7) && u.owns(1000));
        assert!(!u.owns(0));
        assert!(Identity::root().owns(1000));
        assert!((Access::READ | Access::EXEC).contains(Access::EXEC));
        assert_eq!((Access::READ | Access::WRITE).bits(), 6);
    }
}
