//! A directory's entries, kept in the order they were made, each at a position that never
//! changes while the entry lives. `readdir` cookies are positions, so a listing resumed
//! after entries were added or removed neither repeats nor skips the entries that stayed.
//!
//! Positions 0 and 1 are `.` and `..`; entries take 2, 3, ... in order of creation.

use std::collections::{BTreeMap, HashMap};

use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::node::Kind;
use crate::types::Ino;

/// Linux tmpfs's notional size of one entry (`BOGO_DIRENT_SIZE`): a directory's `st_size`
/// is this much per entry, counting `.` and `..`.
pub const DIRENT_SIZE: u64 = 20;

/// The first position an entry may take.
const FIRST_POSITION: u64 = 2;

/// One entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: Vec<u8>,
    pub(crate) ino: Ino,
}

/// A directory's contents and its parent.
#[derive(Debug, Clone)]
pub(crate) struct DirData {
    /// The directory `..` names (the root is its own parent).
    pub(crate) parent: Ino,
    by_position: BTreeMap<u64, Entry>,
    by_name: HashMap<Vec<u8>, u64>,
    next_position: u64,
}

impl DirData {
    /// An empty directory under `parent`.
    pub(crate) fn new(parent: Ino) -> DirData {
        DirData {
            parent,
            by_position: BTreeMap::new(),
            by_name: HashMap::new(),
            next_position: FIRST_POSITION,
        }
    }

    /// The node an entry names.
    pub(crate) fn get(&self, name: &[u8]) -> Option<Ino> {
        let pos = self.by_name.get(name)?;
        self.by_position.get(pos).map(|e| e.ino)
    }

    /// How many entries (not counting `.` and `..`).
    pub(crate) fn len(&self) -> usize {
        self.by_position.len()
    }

    /// Whether there are no entries but `.` and `..`.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_position.is_empty()
    }

    /// Whether another entry can be added (positions are never reused; 2^64 of them will
    /// not run out, but the check keeps this total).
    pub(crate) fn has_room(&self) -> bool {
        self.next_position < u64::MAX
    }

    /// Add an entry at the next position. The caller has checked that `name` is free and
    /// [`DirData::has_room`]; an entry that is present anyway is replaced in place.
    pub(crate) fn insert(&mut self, name: &[u8], ino: Ino) {
        if self.replace(name, ino).is_some() {
            return;
        }
        let pos = self.next_position;
        self.next_position = self.next_position.saturating_add(1);
        self.by_name.insert(name.to_vec(), pos);
        self.by_position.insert(
            pos,
            Entry {
                name: name.to_vec(),
                ino,
            },
        );
    }

    /// Point an existing entry at another node, keeping its position. Returns the node it
    /// named, or `None` (and changes nothing) if there is no such entry.
    pub(crate) fn replace(&mut self, name: &[u8], ino: Ino) -> Option<Ino> {
        let pos = self.by_name.get(name)?;
        let entry = self.by_position.get_mut(pos)?;
        Some(std::mem::replace(&mut entry.ino, ino))
    }

    /// Remove an entry; returns the node it named.
    pub(crate) fn remove(&mut self, name: &[u8]) -> Option<Ino> {
        let pos = self.by_name.remove(name)?;
        self.by_position.remove(&pos).map(|e| e.ino)
    }

    /// Entries at `position` or later, in order, with their positions.
    pub(crate) fn entries_starting_at(&self, position: u64) -> impl Iterator<Item = (u64, &Entry)> {
        self.by_position
            .range(position.max(FIRST_POSITION)..)
            .map(|(&p, e)| (p, e))
    }

    /// Every entry, in order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.by_position.values()
    }
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The name.
    pub name: Vec<u8>,
    /// The node it names.
    pub ino: Ino,
    /// The node's kind.
    pub kind: Kind,
    /// The cookie to pass to [`Fs::readdir`] to continue after this entry.
    pub next: u64,
}

impl Fs {
    /// List directory `dir` from `cookie` (0 to start), at most `max` entries: `.`, `..`,
    /// then the entries in order of creation. Each entry carries the cookie to resume
    /// after it; entries added or removed between calls neither shift nor repeat the
    /// others. An empty result is the end. A removed directory is `ENOENT`. The server
    /// layer checked read access at open time.
    pub fn readdir(&mut self, dir: Ino, cookie: u64, max: usize) -> Result<Vec<DirEntry>> {
        let node = self.node(dir)?;
        let d = node.dir().ok_or(Error::NotDirectory)?;
        if node.nlink == 0 {
            return Err(Error::NotFound);
        }
        let mut out = Vec::new();
        if cookie == 0 && out.len() < max {
            out.push(DirEntry {
                name: b".".to_vec(),
                ino: dir,
                kind: Kind::Directory,
                next: 1,
            });
        }
        if cookie <= 1 && out.len() < max {
            out.push(DirEntry {
                name: b"..".to_vec(),
                ino: d.parent,
                kind: Kind::Directory,
                next: FIRST_POSITION,
            });
        }
        for (position, e) in d.entries_starting_at(cookie) {
            if out.len() >= max {
                break;
            }
            let Some(kind) = self.nodes.get(&e.ino).map(|n| n.kind()) else {
                continue;
            };
            out.push(DirEntry {
                name: e.name.clone(),
                ino: e.ino,
                kind,
                next: position.saturating_add(1),
            });
        }
        let now = self.now();
        self.node_mut(dir)?.touch_accessed(now);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_stable() {
        let mut d = DirData::new(Ino::ROOT);
        d.insert(b"a", Ino(10));
        d.insert(b"b", Ino(11));
        d.insert(b"c", Ino(12));
        assert_eq!(d.remove(b"b"), Some(Ino(11)));
        d.insert(b"b", Ino(13));
        let listed: Vec<_> = d
            .entries_starting_at(3)
            .map(|(p, e)| (p, e.name.clone()))
            .collect();
        assert_eq!(listed, vec![(4, b"c".to_vec()), (5, b"b".to_vec())]);
        assert_eq!(d.replace(b"a", Ino(20)), Some(Ino(10)));
        assert_eq!(
            d.entries_starting_at(0).next().map(|(p, e)| (p, e.ino)),
            Some((2, Ino(20)))
        );
        assert_eq!(d.replace(b"zz", Ino(1)), None);
        assert_eq!(d.len(), 3);
        assert_eq!(d.get(b"b"), Some(Ino(13)));
        assert!(d.has_room() && !d.is_empty());
    }
}
