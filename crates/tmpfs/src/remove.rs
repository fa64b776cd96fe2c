//! Removing names: `unlink` and `rmdir`, and the `may_delete` rule that `rename` shares.
//!
//! A node whose last name goes lives on while the server layer holds it open
//! ([`Fs::hold`]); it is freed, and its space returned, when both are gone.

use crate::change::Change;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::name::{self, Component};
use crate::types::{mode, Access, Identity, Ino};

impl Fs {
    /// Linux's `may_delete`: `who` may remove the entry for `victim` from `dir` if it may
    /// write and search `dir` (`EACCES`) and, in a sticky directory, owns `victim` or `dir`
    /// or is the superuser (`EPERM`); and the victim's kind must suit the call: a directory
    /// for `rmdir` (`ENOTDIR`), anything else for `unlink` (`EISDIR`).
    pub(crate) fn check_delete(
        &self,
        who: &Identity,
        dir: Ino,
        victim: Ino,
        want_dir: bool,
    ) -> Result<()> {
        let d = self.node(dir)?;
        let v = self.node(victim)?;
        if !d.permits(who, Access::WRITE | Access::EXEC) {
            return Err(Error::AccessDenied);
        }
        if d.perm & mode::S_ISVTX != 0
            && !who.is_superuser()
            && !who.has_uid(v.uid)
            && !who.has_uid(d.uid)
        {
            return Err(Error::NotPermitted);
        }
        match (want_dir, v.dir().is_some()) {
            (true, false) => Err(Error::NotDirectory),
            (false, true) => Err(Error::IsDirectory),
            _ => Ok(()),
        }
    }

    /// `unlink`: remove a name of a non-directory. `.` and `..` are `EISDIR`, as on Linux.
    pub fn unlink(&mut self, who: &Identity, dir: Ino, name: &[u8]) -> Result<()> {
        let d = self.searchable_dir(who, dir)?;
        let name = match name::component(name)? {
            Component::Dot | Component::DotDot => return Err(Error::IsDirectory),
            Component::Name(n) => n,
        };
        let victim = d.get(name).ok_or(Error::NotFound)?;
        self.check_delete(who, dir, victim, false)?;
        let now = self.now();
        self.remove_entry(dir, name);
        let node = self.node_mut(victim)?;
        node.nlink = node.nlink.saturating_sub(1);
        node.ctime = now;
        self.node_mut(dir)?.touch_modified(now);
        self.changes.push(Change::Removed {
            dir,
            name: name.to_vec(),
        });
        self.changes.push(Change::Attributes { ino: victim });
        self.free_if_unused(victim);
        Ok(())
    }

    /// `rmdir`: remove an empty directory (`ENOTEMPTY` if it has entries). `.` is `EINVAL`
    /// and `..` `ENOTEMPTY`, as on Linux.
    pub fn rmdir(&mut self, who: &Identity, dir: Ino, name: &[u8]) -> Result<()> {
        let d = self.searchable_dir(who, dir)?;
        let name = match name::component(name)? {
            Component::Dot => return Err(Error::Invalid),
            Component::DotDot => return Err(Error::NotEmpty),
            Component::Name(n) => n,
        };
        let victim = d.get(name).ok_or(Error::NotFound)?;
        self.check_delete(who, dir, victim, true)?;
        if !self.node(victim)?.dir().is_some_and(|v| v.is_empty()) {
            return Err(Error::NotEmpty);
        }
        let now = self.now();
        self.remove_entry(dir, name);
        let node = self.node_mut(victim)?;
        node.nlink = 0;
        node.ctime = now;
        let parent = self.node_mut(dir)?;
        parent.nlink = parent.nlink.saturating_sub(1);
        parent.touch_modified(now);
        self.changes.push(Change::Removed {
            dir,
            name: name.to_vec(),
        });
        self.free_if_unused(victim);
        Ok(())
    }

    /// Drop the entry `name` from `dir` and its name's bytes from the account.
    pub(crate) fn remove_entry(&mut self, dir: Ino, name: &[u8]) {
        let removed = self
            .nodes
            .get_mut(&dir)
            .and_then(|n| n.dir_mut())
            .and_then(|d| d.remove(name));
        if removed.is_some() {
            self.uncharge(name.len() as u64);
        }
    }
}
