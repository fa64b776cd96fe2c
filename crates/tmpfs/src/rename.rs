//! `rename`, with Linux's `renameat2` modes (replace, no-replace, exchange) and its checks
//! in its order.

use crate::change::Change;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::name::{self, Component};
use crate::types::{Access, Identity, Ino};

/// What `rename` does when the destination name exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RenameMode {
    /// Replace it (plain `rename`).
    #[default]
    Replace,
    /// Fail with `EEXIST` (`RENAME_NOREPLACE`).
    NoReplace,
    /// Swap the two names' nodes; the destination must exist (`RENAME_EXCHANGE`).
    Exchange,
}

impl Fs {
    /// Whether directory `ancestor` is `ino` or lies on the way from `ino` up to the root.
    fn is_ancestor(&self, ancestor: Ino, mut ino: Ino) -> bool {
        // Bounded by the node count, so a broken parent chain cannot loop forever.
        for _ in 0..=self.nodes.len() {
            if ino == ancestor {
                return true;
            }
            let Some(parent) = self.nodes.get(&ino).and_then(|n| n.dir()).map(|d| d.parent) else {
                return false;
            };
            if parent == ino {
                return false;
            }
            ino = parent;
        }
        false
    }

    fn is_dir(&self, ino: Ino) -> Result<bool> {
        Ok(self.node(ino)?.dir().is_some())
    }

    /// `rename` (`renameat2`): move the entry `from_name` of `from_dir` to `to_name` in
    /// `to_dir`. Checks, in Linux's order: both directories searchable; `.` or `..` as
    /// either name is `EBUSY` (`EEXIST` for the destination with [`RenameMode::NoReplace`]);
    /// source missing `ENOENT`; destination present with `NoReplace` `EEXIST`, absent with
    /// `Exchange` `ENOENT`; a directory moved into itself or below itself `EINVAL`; a
    /// destination that is an ancestor of the source `ENOTEMPTY` (`EINVAL` when
    /// exchanging); two names of one node: success, nothing changes; then `may_delete` on
    /// the source (and on the destination if it exists: a directory over a non-directory
    /// is `ENOTDIR`, the reverse `EISDIR`), write permission on a directory that changes
    /// parent (its `..` changes), and a replaced directory must be empty (`ENOTEMPTY`).
    pub fn rename(
        &mut self,
        who: &Identity,
        from_dir: Ino,
        from_name: &[u8],
        to_dir: Ino,
        to_name: &[u8],
        mode: RenameMode,
    ) -> Result<()> {
        let from_d = self.searchable_dir(who, from_dir)?;
        let to_d = self.searchable_dir(who, to_dir)?;
        let from = match name::component(from_name)? {
            Component::Name(n) => n,
            _ => return Err(Error::Busy),
        };
        let to = match name::component(to_name)? {
            Component::Name(n) => n,
            _ if mode == RenameMode::NoReplace => return Err(Error::Exists),
            _ => return Err(Error::Busy),
        };
        let src = from_d.get(from).ok_or(Error::NotFound)?;
        let dst = to_d.get(to);
        match (mode, dst) {
            (RenameMode::NoReplace, Some(_)) => return Err(Error::Exists),
            (RenameMode::Exchange, None) => return Err(Error::NotFound),
            _ => {}
        }
        let src_is_dir = self.is_dir(src)?;
        let dst_is_dir = match dst {
            Some(d) => self.is_dir(d)?,
            None => false,
        };
        if from_dir != to_dir {
            if src_is_dir && self.is_ancestor(src, to_dir) {
                return Err(Error::Invalid);
            }
            if let Some(d) = dst.filter(|_| dst_is_dir) {
                if self.is_ancestor(d, from_dir) {
                    return Err(match mode {
                        RenameMode::Exchange => Error::Invalid,
                        _ => Error::NotEmpty,
                    });
                }
            }
        }
        if dst == Some(src) {
            return Ok(());
        }
        self.check_delete(who, from_dir, src, src_is_dir)?;
        match dst {
            Some(d) if mode == RenameMode::Exchange => {
                self.check_delete(who, to_dir, d, dst_is_dir)?
            }
            Some(d) => self.check_delete(who, to_dir, d, src_is_dir)?,
            None => {
                let t = self.node(to_dir)?;
                if t.nlink == 0 {
                    return Err(Error::NotFound);
                }
                if !t.permits(who, Access::WRITE | Access::EXEC) {
                    return Err(Error::AccessDenied);
                }
            }
        }
        if from_dir != to_dir {
            if src_is_dir && !self.node(src)?.permits(who, Access::WRITE) {
                return Err(Error::AccessDenied);
            }
            if let Some(d) = dst.filter(|_| dst_is_dir && mode == RenameMode::Exchange) {
                if !self.node(d)?.permits(who, Access::WRITE) {
                    return Err(Error::AccessDenied);
                }
            }
        }
        match (mode, dst) {
            (RenameMode::Exchange, Some(d)) => {
                self.exchange(from_dir, from, src, src_is_dir, to_dir, to, d, dst_is_dir)
            }
            (_, Some(d)) => {
                self.replace(from_dir, from, src, src_is_dir, to_dir, to, d, dst_is_dir)
            }
            (_, None) => self.move_entry(from_dir, from, src, src_is_dir, to_dir, to),
        }
    }

    /// Move `src` to a free name.
    fn move_entry(
        &mut self,
        from_dir: Ino,
        from: &[u8],
        src: Ino,
        src_is_dir: bool,
        to_dir: Ino,
        to: &[u8],
    ) -> Result<()> {
        let crosses = src_is_dir && from_dir != to_dir;
        let t = self.node(to_dir)?;
        if crosses && t.nlink == u32::MAX {
            return Err(Error::TooManyLinks);
        }
        if !t.dir().is_some_and(|d| d.has_room()) {
            return Err(Error::NoSpace);
        }
        self.check_space((to.len() as u64).saturating_sub(from.len() as u64), 0)?;
        self.remove_entry(from_dir, from);
        self.charge(to.len() as u64);
        if let Some(d) = self.node_mut(to_dir)?.dir_mut() {
            d.insert(to, src);
        }
        if crosses {
            self.reparent(src, from_dir, to_dir)?;
        }
        self.finish(from_dir, from, to_dir, to, &[src]);
        Ok(())
    }

    /// Move `src` over `dst`, which loses that name.
    #[allow(clippy::too_many_arguments)]
    fn replace(
        &mut self,
        from_dir: Ino,
        from: &[u8],
        src: Ino,
        src_is_dir: bool,
        to_dir: Ino,
        to: &[u8],
        dst: Ino,
        dst_is_dir: bool,
    ) -> Result<()> {
        if dst_is_dir && !self.node(dst)?.dir().is_some_and(|d| d.is_empty()) {
            return Err(Error::NotEmpty);
        }
        self.remove_entry(from_dir, from);
        if let Some(d) = self.node_mut(to_dir)?.dir_mut() {
            d.replace(to, src);
        }
        if src_is_dir && from_dir != to_dir {
            self.reparent(src, from_dir, to_dir)?;
        }
        let now = self.now();
        let victim = self.node_mut(dst)?;
        victim.ctime = now;
        if dst_is_dir {
            victim.nlink = 0;
            let t = self.node_mut(to_dir)?;
            t.nlink = t.nlink.saturating_sub(1);
        } else {
            victim.nlink = victim.nlink.saturating_sub(1);
        }
        self.finish(from_dir, from, to_dir, to, &[src, dst]);
        self.free_if_unused(dst);
        Ok(())
    }

    /// Swap the nodes of two entries.
    #[allow(clippy::too_many_arguments)]
    fn exchange(
        &mut self,
        dir_a: Ino,
        name_a: &[u8],
        a: Ino,
        a_is_dir: bool,
        dir_b: Ino,
        name_b: &[u8],
        b: Ino,
        b_is_dir: bool,
    ) -> Result<()> {
        if dir_a != dir_b {
            let would_overflow = |dir: Ino, gains: bool, loses: bool| -> Result<bool> {
                Ok(gains && !loses && self.node(dir)?.nlink == u32::MAX)
            };
            if would_overflow(dir_b, a_is_dir, b_is_dir)?
                || would_overflow(dir_a, b_is_dir, a_is_dir)?
            {
                return Err(Error::TooManyLinks);
            }
        }
        if let Some(d) = self.node_mut(dir_a)?.dir_mut() {
            d.replace(name_a, b);
        }
        if let Some(d) = self.node_mut(dir_b)?.dir_mut() {
            d.replace(name_b, a);
        }
        if dir_a != dir_b {
            if a_is_dir {
                self.reparent(a, dir_a, dir_b)?;
            }
            if b_is_dir {
                self.reparent(b, dir_b, dir_a)?;
            }
        }
        let now = self.now();
        for dir in [dir_a, dir_b] {
            self.node_mut(dir)?.touch_modified(now);
        }
        for ino in [a, b] {
            self.node_mut(ino)?.ctime = now;
            self.changes.push(Change::Attributes { ino });
        }
        self.changes.push(Change::Exchanged {
            dir_a,
            name_a: name_a.to_vec(),
            dir_b,
            name_b: name_b.to_vec(),
        });
        Ok(())
    }

    /// Directory `ino` moved from `from` to `to`: fix its `..` and both link counts.
    fn reparent(&mut self, ino: Ino, from: Ino, to: Ino) -> Result<()> {
        if let Some(d) = self.node_mut(ino)?.dir_mut() {
            d.parent = to;
        }
        let f = self.node_mut(from)?;
        f.nlink = f.nlink.saturating_sub(1);
        let t = self.node_mut(to)?;
        t.nlink = t.nlink.saturating_add(1);
        Ok(())
    }

    /// Stamp the times a move changes and record it.
    fn finish(&mut self, from_dir: Ino, from: &[u8], to_dir: Ino, to: &[u8], moved: &[Ino]) {
        let now = self.now();
        for dir in [from_dir, to_dir] {
            if let Some(n) = self.nodes.get_mut(&dir) {
                n.touch_modified(now);
            }
        }
        for ino in moved {
            if let Some(n) = self.nodes.get_mut(ino) {
                n.ctime = now;
            }
            self.changes.push(Change::Attributes { ino: *ino });
        }
        self.changes.push(Change::Renamed {
            from_dir,
            from_name: from.to_vec(),
            to_dir,
            to_name: to.to_vec(),
        });
    }
}
