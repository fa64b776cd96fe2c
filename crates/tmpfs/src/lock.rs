//! Advisory locks: POSIX record locks (`fcntl` `F_SETLK`/`F_GETLK`, byte ranges per owner)
//! and `flock`-style whole-file locks (the Hurd's `file_lock`). Nothing here waits: a lock
//! that conflicts fails with `EAGAIN`, and the server layer decides whether to block and
//! retry.
//!
//! Owners are numbers the server layer chooses: for record locks, the process (POSIX ties
//! them to it); for `flock`, the open file description (the peropen).

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::file::MAX_FILE_SIZE;
use crate::fs::Fs;
use crate::types::Ino;

/// The most record locks one node holds, across owners; past it, `ENOLCK`
/// ([`Error::NoLocks`]).
pub const MAX_RECORD_LOCKS: usize = 4096;

/// Read (shared) or write (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockKind {
    /// Many owners may hold shared locks over the same bytes.
    Shared,
    /// One owner only.
    Exclusive,
}

/// A held record lock over bytes `start..end`; `end` is `None` for "to the end of the file
/// and beyond" (`l_len == 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordLock {
    /// Who holds it.
    pub owner: u64,
    /// Shared or exclusive.
    pub kind: LockKind,
    /// First byte.
    pub start: u64,
    /// One past the last byte, or `None` for no end.
    pub end: Option<u64>,
}

/// What a `flock` call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlockOp {
    /// `LOCK_SH`.
    Shared,
    /// `LOCK_EX`.
    Exclusive,
    /// `LOCK_UN`.
    Unlock,
}

/// A node's locks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Locks {
    records: Vec<Span>,
    flock_shared: BTreeSet<u64>,
    flock_exclusive: Option<u64>,
}

/// A record lock with its end made total (`u64::MAX` = no end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    owner: u64,
    kind: LockKind,
    start: u64,
    end: u64,
}

impl Span {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }

    fn public(self) -> RecordLock {
        RecordLock {
            owner: self.owner,
            kind: self.kind,
            start: self.start,
            end: (self.end != u64::MAX).then_some(self.end),
        }
    }
}

/// Turn `start` and `len` (0 = to the end and beyond) into a half-open range.
fn range(start: u64, len: u64) -> Result<(u64, u64)> {
    if start > MAX_FILE_SIZE {
        return Err(Error::Overflow);
    }
    if len == 0 {
        return Ok((start, u64::MAX));
    }
    match start.checked_add(len) {
        Some(end) if end - 1 <= MAX_FILE_SIZE => Ok((start, end)),
        _ => Err(Error::Overflow),
    }
}

impl Locks {
    /// The first lock of another owner that conflicts with `kind` over `start..end`.
    fn conflict(&self, owner: u64, kind: LockKind, start: u64, end: u64) -> Option<Span> {
        self.records.iter().copied().find(|l| {
            l.owner != owner
                && l.overlaps(start, end)
                && (l.kind == LockKind::Exclusive || kind == LockKind::Exclusive)
        })
    }

    /// `owner`'s locks with `start..end` cut out of them (the rest of everyone's unchanged).
    fn without(&self, owner: u64, start: u64, end: u64) -> Vec<Span> {
        let mut out = Vec::with_capacity(self.records.len() + 1);
        for &l in &self.records {
            if l.owner != owner || !l.overlaps(start, end) {
                out.push(l);
                continue;
            }
            if l.start < start {
                out.push(Span { end: start, ..l });
            }
            if end < l.end {
                out.push(Span { start: end, ..l });
            }
        }
        out
    }

    fn set(&mut self, owner: u64, kind: LockKind, start: u64, end: u64) -> Result<()> {
        if let Some(_held) = self.conflict(owner, kind, start, end) {
            return Err(Error::WouldBlock);
        }
        let mut records = self.without(owner, start, end);
        // Merge with the owner's adjacent locks of the same kind, as POSIX does.
        let (mut start, mut end) = (start, end);
        records.retain(|l| {
            let touches = l.owner == owner && l.kind == kind && (l.end == start || l.start == end);
            if touches {
                start = start.min(l.start);
                end = end.max(l.end);
            }
            !touches
        });
        records.push(Span {
            owner,
            kind,
            start,
            end,
        });
        if records.len() > MAX_RECORD_LOCKS {
            return Err(Error::NoLocks);
        }
        self.records = records;
        Ok(())
    }

    fn unset(&mut self, owner: u64, start: u64, end: u64) -> Result<()> {
        let records = self.without(owner, start, end);
        if records.len() > MAX_RECORD_LOCKS {
            return Err(Error::NoLocks);
        }
        self.records = records;
        Ok(())
    }

    fn flock(&mut self, owner: u64, op: FlockOp) -> Result<()> {
        match op {
            FlockOp::Unlock => {
                self.flock_shared.remove(&owner);
                if self.flock_exclusive == Some(owner) {
                    self.flock_exclusive = None;
                }
            }
            FlockOp::Shared => {
                if self.flock_exclusive.is_some_and(|o| o != owner) {
                    return Err(Error::WouldBlock);
                }
                self.flock_exclusive = None;
                self.flock_shared.insert(owner);
            }
            FlockOp::Exclusive => {
                let others_share = self.flock_shared.iter().any(|&o| o != owner);
                if others_share || self.flock_exclusive.is_some_and(|o| o != owner) {
                    return Err(Error::WouldBlock);
                }
                self.flock_shared.remove(&owner);
                self.flock_exclusive = Some(owner);
            }
        }
        Ok(())
    }
}

impl Fs {
    /// Take a record lock for `owner` over `len` bytes from `start` (`len` 0: to the end
    /// and beyond), replacing whatever `owner` held there (a shared lock becomes exclusive,
    /// or back). `EAGAIN` if another owner holds a conflicting lock; `EOVERFLOW` if the
    /// range passes the largest file size.
    pub fn lock_record(
        &mut self,
        ino: Ino,
        owner: u64,
        kind: LockKind,
        start: u64,
        len: u64,
    ) -> Result<()> {
        let (start, end) = range(start, len)?;
        self.node_mut(ino)?.locks.set(owner, kind, start, end)
    }

    /// Release `owner`'s record locks over the range (splitting a lock that sticks out).
    pub fn unlock_record(&mut self, ino: Ino, owner: u64, start: u64, len: u64) -> Result<()> {
        let (start, end) = range(start, len)?;
        self.node_mut(ino)?.locks.unset(owner, start, end)
    }

    /// `F_GETLK`: a lock of another owner that would stop `owner` from taking `kind` over
    /// the range, or `None` if it could take it now.
    pub fn test_record(
        &self,
        ino: Ino,
        owner: u64,
        kind: LockKind,
        start: u64,
        len: u64,
    ) -> Result<Option<RecordLock>> {
        let (start, end) = range(start, len)?;
        let conflict = self.node(ino)?.locks.conflict(owner, kind, start, end);
        Ok(conflict.map(Span::public))
    }

    /// Release every record lock `owner` holds on the node (POSIX: when the owner closes
    /// any descriptor of the file).
    pub fn release_records(&mut self, ino: Ino, owner: u64) -> Result<()> {
        self.node_mut(ino)?
            .locks
            .records
            .retain(|l| l.owner != owner);
        Ok(())
    }

    /// The record locks held on a node, in no particular order.
    pub fn record_locks(&self, ino: Ino) -> Result<Vec<RecordLock>> {
        Ok(self
            .node(ino)?
            .locks
            .records
            .iter()
            .map(|l| l.public())
            .collect())
    }

    /// A `flock`-style whole-file lock: shared, exclusive, or unlock, for `owner` (an open
    /// file description). Converting between shared and exclusive is atomic here: on
    /// `EAGAIN` the owner keeps what it held.
    pub fn flock(&mut self, ino: Ino, owner: u64, op: FlockOp) -> Result<()> {
        self.node_mut(ino)?.locks.flock(owner, op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(l: &Locks) -> Vec<(u64, LockKind, u64, u64)> {
        let mut v: Vec<_> = l
            .records
            .iter()
            .map(|s| (s.owner, s.kind, s.start, s.end))
            .collect();
        v.sort_by_key(|s| (s.0, s.2));
        v
    }

    #[test]
    fn ranges() {
        assert_eq!(range(5, 0), Ok((5, u64::MAX)));
        assert_eq!(range(5, 10), Ok((5, 15)));
        assert_eq!(
            range(MAX_FILE_SIZE, 1),
            Ok((MAX_FILE_SIZE, MAX_FILE_SIZE + 1))
        );
        assert_eq!(range(MAX_FILE_SIZE, 2), Err(Error::Overflow));
        assert_eq!(range(u64::MAX, 1), Err(Error::Overflow));
        assert_eq!(range(MAX_FILE_SIZE + 1, 0), Err(Error::Overflow));
    }

    #[test]
    fn split_merge_and_convert() {
        use LockKind::*;
        let mut l = Locks::default();
        l.set(1, Shared, 0, 100).unwrap();
        l.set(1, Exclusive, 40, 60).unwrap();
        assert_eq!(
            spans(&l),
            vec![
                (1, Shared, 0, 40),
                (1, Exclusive, 40, 60),
                (1, Shared, 60, 100)
            ]
        );
        l.set(1, Shared, 40, 60).unwrap();
        assert_eq!(spans(&l), vec![(1, Shared, 0, 100)]);
        l.unset(1, 10, 20).unwrap();
        assert_eq!(spans(&l), vec![(1, Shared, 0, 10), (1, Shared, 20, 100)]);
        l.set(2, Shared, 0, u64::MAX).unwrap();
        assert_eq!(l.set(2, Exclusive, 15, 16), Ok(()));
        assert_eq!(l.set(2, Exclusive, 5, 6), Err(Error::WouldBlock));
        assert_eq!(l.conflict(3, Exclusive, 15, 16).map(|s| s.owner), Some(2));
        assert_eq!(l.conflict(3, Shared, 0, 200).map(|s| s.owner), Some(2));
        assert_eq!(l.conflict(3, Shared, 0, 15), None);
        assert_eq!(l.conflict(2, Exclusive, 0, 200).map(|s| s.owner), Some(1));
        assert_eq!(
            l.conflict(1, Shared, 0, 200),
            Some(Span {
                owner: 2,
                kind: Exclusive,
                start: 15,
                end: 16
            })
        );
    }

    #[test]
    fn the_lock_count_is_bounded() {
        let mut l = Locks::default();
        for i in 0..MAX_RECORD_LOCKS as u64 {
            l.set(i, LockKind::Shared, i * 2, i * 2 + 1).unwrap();
        }
        assert_eq!(l.set(9999, LockKind::Shared, 1, 2), Err(Error::NoLocks));
        l.unset(0, 0, 1).unwrap();
        l.set(0, LockKind::Shared, 0, 10).unwrap();
        assert_eq!(l.records.len(), MAX_RECORD_LOCKS);
        // Splitting one lock in two would pass the bound too; nothing changes then.
        let before = l.records.clone();
        assert_eq!(l.unset(0, 4, 5), Err(Error::NoLocks));
        assert_eq!(l.records, before);
    }

    #[test]
    fn flock_rules() {
        let mut l = Locks::default();
        l.flock(1, FlockOp::Shared).unwrap();
        l.flock(2, FlockOp::Shared).unwrap();
        assert_eq!(l.flock(1, FlockOp::Exclusive), Err(Error::WouldBlock));
        assert!(l.flock_shared.contains(&1));
        l.flock(2, FlockOp::Unlock).unwrap();
        l.flock(1, FlockOp::Exclusive).unwrap();
        assert_eq!(l.flock(2, FlockOp::Shared), Err(Error::WouldBlock));
        l.flock(1, FlockOp::Shared).unwrap();
        l.flock(2, FlockOp::Shared).unwrap();
        l.flock(1, FlockOp::Unlock).unwrap();
        l.flock(2, FlockOp::Unlock).unwrap();
        l.flock(3, FlockOp::Exclusive).unwrap();
    }
}
