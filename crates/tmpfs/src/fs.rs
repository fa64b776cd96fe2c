//! The file system: the table of live nodes, the accounting against [`Limits`], and the
//! operations that look at nodes without changing names (lookup, stat, statfs, access, open
//! references).

use std::collections::HashMap;

use crate::change::{Change, ChangeLog};
use crate::dir::DirData;
use crate::error::{Error, Result};
use crate::file::CHUNK_SIZE;
use crate::name::{self, Component, NAME_MAX};
use crate::node::{Body, Node, Stat};
use crate::types::{mode, Access, Clock, Identity, Ino, Limits, Timestamp};

/// File system totals, as `file_statfs` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFs {
    /// The unit of `blocks` figures.
    pub block_size: u32,
    /// The size limit in bytes.
    pub total_bytes: u64,
    /// Bytes still free under the limit.
    pub free_bytes: u64,
    /// The inode limit.
    pub total_inodes: u64,
    /// Inodes still free under the limit.
    pub free_inodes: u64,
    /// The longest name.
    pub name_max: u32,
}

/// An in-memory POSIX file system. Not internally locked: the server layer wraps it in
/// whatever lock its threads need.
pub struct Fs {
    pub(crate) nodes: HashMap<Ino, Node>,
    next_ino: u64,
    limits: Limits,
    used_bytes: u64,
    clock: Box<dyn Clock>,
    pub(crate) changes: ChangeLog,
}

impl std::fmt::Debug for Fs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fs")
            .field("nodes", &self.nodes.len())
            .field("used_bytes", &self.used_bytes)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Fs {
    /// An empty file system: a root directory owned by uid 0, gid 0, mode `0o1777` (as a
    /// fresh Linux tmpfs), stamping times from `clock`.
    pub fn new(limits: Limits, clock: impl Clock + 'static) -> Fs {
        let now = clock.now();
        let mut root = Node::new(Body::Directory(DirData::new(Ino::ROOT)), 0o1777, 0, 0, now);
        root.nlink = 2;
        let mut nodes = HashMap::new();
        nodes.insert(Ino::ROOT, root);
        Fs {
            nodes,
            next_ino: Ino::ROOT.0 + 1,
            limits,
            used_bytes: 0,
            clock: Box::new(clock),
            changes: ChangeLog::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Change the limits (`fsys_set_options`). Lowering them below what is in use is
    /// allowed; only new allocations fail.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The changes recorded since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<Change> {
        self.changes.take()
    }

    // ---- internal helpers shared by the operation modules ----

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn node(&self, ino: Ino) -> Result<&Node> {
        self.nodes.get(&ino).ok_or(Error::Stale)
    }

    pub(crate) fn node_mut(&mut self, ino: Ino) -> Result<&mut Node> {
        self.nodes.get_mut(&ino).ok_or(Error::Stale)
    }

    /// The directory `ino`, which `who` may search.
    pub(crate) fn searchable_dir(&self, who: &Identity, ino: Ino) -> Result<&DirData> {
        let node = self.node(ino)?;
        let dir = node.dir().ok_or(Error::NotDirectory)?;
        if !node.permits(who, Access::EXEC) {
            return Err(Error::AccessDenied);
        }
        Ok(dir)
    }

    /// Whether `bytes` more bytes and `inodes` more nodes fit under the limits.
    pub(crate) fn check_space(&self, bytes: u64, inodes: u64) -> Result<()> {
        let bytes_ok = self
            .used_bytes
            .checked_add(bytes)
            .is_some_and(|b| b <= self.limits.max_bytes);
        let inodes_ok = (self.nodes.len() as u64)
            .checked_add(inodes)
            .is_some_and(|n| n <= self.limits.max_inodes);
        if bytes_ok && inodes_ok {
            Ok(())
        } else {
            Err(Error::NoSpace)
        }
    }

    /// Bytes still free under the size limit.
    pub(crate) fn free_bytes(&self) -> u64 {
        self.limits.max_bytes.saturating_sub(self.used_bytes)
    }

    /// Count `bytes` as used; the caller checked [`Fs::check_space`] first.
    pub(crate) fn charge(&mut self, bytes: u64) {
        self.used_bytes = self.used_bytes.saturating_add(bytes);
    }

    /// Count `bytes` as free again.
    pub(crate) fn uncharge(&mut self, bytes: u64) {
        self.used_bytes = self.used_bytes.saturating_sub(bytes);
    }

    /// Add a node (with no links yet); the caller checked [`Fs::check_space`] first.
    pub(crate) fn insert_node(&mut self, node: Node) -> Ino {
        let ino = Ino(self.next_ino);
        self.next_ino = self.next_ino.saturating_add(1);
        self.charge(node.charged_bytes());
        self.nodes.insert(ino, node);
        ino
    }

    /// Free `ino` if it has neither links nor open references.
    pub(crate) fn free_if_unused(&mut self, ino: Ino) {
        let unused = self
            .nodes
            .get(&ino)
            .is_some_and(|n| n.nlink == 0 && n.opens == 0 && ino != Ino::ROOT);
        if unused {
            if let Some(node) = self.nodes.remove(&ino) {
                self.uncharge(node.charged_bytes());
            }
        }
    }

    /// The owner, group and permission bits of a node `who` makes in `dir`, by the Linux
    /// rules: the group is the directory's if it is setgid (and a new directory inherits
    /// the setgid bit), else the caller's; a group-executable setgid file whose group the
    /// caller is not in loses the setgid bit unless the caller is the superuser.
    pub(crate) fn new_owner(
        &self,
        who: &Identity,
        dir: &Node,
        perm: u32,
        is_dir: bool,
    ) -> (u32, u32, u32) {
        let mut perm = perm & mode::PERMS;
        let uid = who.uids.first().copied().unwrap_or(dir.uid);
        let gid = if dir.perm & mode::S_ISGID != 0 {
            if is_dir {
                perm |= mode::S_ISGID;
            }
            dir.gid
        } else {
            who.gids.first().copied().unwrap_or(dir.gid)
        };
        let sgid_exec = mode::S_ISGID | mode::S_IXGRP;
        if !is_dir && perm & sgid_exec == sgid_exec && !who.in_group(gid) && !who.is_superuser() {
            perm &= !mode::S_ISGID;
        }
        if who.uids.is_empty() {
            perm &= !mode::S_ISUID;
        }
        (uid, gid, perm)
    }

    // ---- operations ----

    /// Look `name` up in directory `dir`: `.` is the directory, `..` its parent (the root
    /// is its own parent; the server layer handles leaving a translator's root). Needs
    /// search permission on `dir`.
    pub fn lookup(&self, who: &Identity, dir: Ino, name: &[u8]) -> Result<Ino> {
        let d = self.searchable_dir(who, dir)?;
        match name::component(name)? {
            Component::Dot => Ok(dir),
            Component::DotDot => {
                if self.nodes.contains_key(&d.parent) {
                    Ok(d.parent)
                } else {
                    Err(Error::NotFound)
                }
            }
            Component::Name(n) => d.get(n).ok_or(Error::NotFound),
        }
    }

    /// A node's attributes.
    pub fn stat(&self, ino: Ino) -> Result<Stat> {
        Ok(self.node(ino)?.stat(ino))
    }

    /// File system totals.
    pub fn statfs(&self) -> StatFs {
        StatFs {
            block_size: CHUNK_SIZE as u32,
            total_bytes: self.limits.max_bytes,
            free_bytes: self.free_bytes(),
            total_inodes: self.limits.max_inodes,
            free_inodes: self
                .limits
                .max_inodes
                .saturating_sub(self.nodes.len() as u64),
            name_max: NAME_MAX as u32,
        }
    }

    /// Bytes in use against the size limit.
    pub fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    /// Live nodes (the root included; unlinked nodes still open included).
    pub fn used_inodes(&self) -> u64 {
        self.nodes.len() as u64
    }

    /// Whether `who` may have `want` access to the node (`EACCES` if not): what the server
    /// layer checks when it opens a node for reading, writing or executing.
    pub fn access(&self, who: &Identity, ino: Ino, want: Access) -> Result<()> {
        if self.node(ino)?.permits(who, want) {
            Ok(())
        } else {
            Err(Error::AccessDenied)
        }
    }

    /// Note one more open reference to a node (a port the server layer handed out). A node
    /// whose last name is removed lives on while references remain.
    pub fn hold(&mut self, ino: Ino) -> Result<()> {
        let node = self.node_mut(ino)?;
        node.opens = node.opens.checked_add(1).ok_or(Error::TooManyLinks)?;
        Ok(())
    }

    /// Drop one open reference; a node with neither names nor references is freed, with
    /// its locks. `EINVAL` if the node has no references.
    pub fn release(&mut self, ino: Ino) -> Result<()> {
        let node = self.node_mut(ino)?;
        node.opens = node.opens.checked_sub(1).ok_or(Error::Invalid)?;
        self.free_if_unused(ino);
        Ok(())
    }

    /// Open references a node has.
    pub fn open_count(&self, ino: Ino) -> Result<u64> {
        Ok(self.node(ino)?.opens)
    }

    /// Check the internal invariants: accounting matches the contents, every entry names a
    /// live node, link counts match the entries, every directory's `..` is right. Returns a
    /// description of the first problem found. Meant for tests and debugging; it walks
    /// everything.
    pub fn check_consistency(&self) -> Result<(), String> {
        let bytes: u64 = self.nodes.values().map(Node::charged_bytes).sum();
        if bytes != self.used_bytes {
            return Err(format!(
                "used_bytes {} but nodes hold {bytes}",
                self.used_bytes
            ));
        }
        let mut links: HashMap<Ino, u32> = HashMap::new();
        links.insert(Ino::ROOT, 1);
        for (&ino, node) in &self.nodes {
            let Some(dir) = node.dir() else { continue };
            if node.nlink == 0 {
                if !dir.is_empty() {
                    return Err(format!("removed directory {ino:?} has entries"));
                }
                continue;
            }
            *links.entry(ino).or_default() += 1;
            for e in dir.entries() {
                let child = self
                    .nodes
                    .get(&e.ino)
                    .ok_or_else(|| format!("{ino:?} names dead {:?}", e.ino))?;
                *links.entry(e.ino).or_default() += 1;
                if let Some(sub) = child.dir() {
                    *links.entry(ino).or_default() += 1;
                    if sub.parent != ino {
                        return Err(format!("{:?}'s .. is {:?}, not {ino:?}", e.ino, sub.parent));
                    }
                }
            }
        }
        for (&ino, node) in &self.nodes {
            let counted = links.get(&ino).copied().unwrap_or(0);
            if counted != node.nlink {
                return Err(format!("{ino:?} nlink {} but {counted} links", node.nlink));
            }
            if node.nlink == 0 && node.opens == 0 && ino != Ino::ROOT {
                return Err(format!("{ino:?} has no links or opens but lives"));
            }
        }
        Ok(())
    }
}
