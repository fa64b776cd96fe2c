//! Changing attributes: mode, owner, times and the passive translator record, each with
//! Linux's (and the Hurd's) rule for who may.

use crate::change::Change;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::types::{mode, Access, Identity, Ino, Timestamp};

/// The longest passive translator record, in bytes.
pub const TRANSLATOR_MAX: usize = 64 * 1024;

/// What `utimes` sets one time to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetTime {
    /// Leave it (`UTIME_OMIT`).
    Omit,
    /// The current time (`UTIME_NOW`).
    Now,
    /// This time.
    At(Timestamp),
}

impl Fs {
    /// `chmod`: set the permission bits (anything outside `0o7777` is ignored). Only the
    /// owner or the superuser may (`EPERM`); a caller who is not the superuser and not in
    /// the node's group cannot set the setgid bit (it is cleared, as on Linux).
    pub fn chmod(&mut self, who: &Identity, ino: Ino, perm: u32) -> Result<()> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        if !who.owns(node.uid) {
            return Err(Error::NotPermitted);
        }
        let mut perm = perm & mode::PERMS;
        if !who.is_superuser() && !who.in_group(node.gid) {
            perm &= !mode::S_ISGID;
        }
        node.perm = perm;
        node.ctime = now;
        self.changes.push(Change::Attributes { ino });
        Ok(())
    }

    /// `chown`: set the owner and/or group (`None` leaves one as it is). The superuser may
    /// set anything; the owner may only set the group, to one of its own groups; anything
    /// else is `EPERM`. As on Linux, a non-directory loses its setuid bit, and its setgid
    /// bit if it is group-executable, even when nothing changes.
    pub fn chown(
        &mut self,
        who: &Identity,
        ino: Ino,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<()> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        let owner = who.has_uid(node.uid);
        let root = who.is_superuser();
        if let Some(uid) = uid {
            if !(root || (owner && uid == node.uid)) {
                return Err(Error::NotPermitted);
            }
        }
        if let Some(gid) = gid {
            if !(root || (owner && (who.in_group(gid) || gid == node.gid))) {
                return Err(Error::NotPermitted);
            }
        }
        node.uid = uid.unwrap_or(node.uid);
        node.gid = gid.unwrap_or(node.gid);
        if node.dir().is_none() {
            node.perm &= !mode::S_ISUID;
            let sgid_exec = mode::S_ISGID | mode::S_IXGRP;
            if node.perm & sgid_exec == sgid_exec {
                node.perm &= !mode::S_ISGID;
            }
        }
        node.ctime = now;
        self.changes.push(Change::Attributes { ino });
        Ok(())
    }

    /// `utimens`: set the access and modification times. Both [`SetTime::Now`]: the owner,
    /// the superuser or anyone who may write the node (`EACCES`). Any explicit time or
    /// [`SetTime::Omit`] beside `Now`: the owner or the superuser only (`EPERM`). Both
    /// `Omit`: nothing happens. `ctime` becomes now. An explicit time with a nanosecond
    /// field of a second or more is `EINVAL`, as on Linux.
    pub fn utimes(
        &mut self,
        who: &Identity,
        ino: Ino,
        atime: SetTime,
        mtime: SetTime,
    ) -> Result<()> {
        let valid = |t: SetTime| !matches!(t, SetTime::At(t) if t.nsec >= 1_000_000_000);
        if !valid(atime) || !valid(mtime) {
            return Err(Error::Invalid);
        }
        if (atime, mtime) == (SetTime::Omit, SetTime::Omit) {
            self.node(ino)?;
            return Ok(());
        }
        let now = self.now();
        let node = self.node_mut(ino)?;
        if !who.owns(node.uid) {
            if (atime, mtime) != (SetTime::Now, SetTime::Now) {
                return Err(Error::NotPermitted);
            }
            if !node.permits(who, Access::WRITE) {
                return Err(Error::AccessDenied);
            }
        }
        let resolve = |t: SetTime, old: Timestamp| match t {
            SetTime::Omit => old,
            SetTime::Now => now,
            SetTime::At(t) => t,
        };
        node.atime = resolve(atime, node.atime);
        node.mtime = resolve(mtime, node.mtime);
        node.ctime = now;
        self.changes.push(Change::Attributes { ino });
        Ok(())
    }

    /// Record a passive translator (an argz command line, e.g. `/hurd/ext2fs\0file:img\0`)
    /// on a node, replacing any; an empty record clears it. Only the owner or the
    /// superuser may (`EPERM`); a record over [`TRANSLATOR_MAX`] bytes is `ENAMETOOLONG`.
    /// The record counts against the size limit.
    pub fn set_translator(&mut self, who: &Identity, ino: Ino, record: &[u8]) -> Result<()> {
        let node = self.node(ino)?;
        if !who.owns(node.uid) {
            return Err(Error::NotPermitted);
        }
        if record.len() > TRANSLATOR_MAX {
            return Err(Error::NameTooLong);
        }
        let old = node.translator.len() as u64;
        let new = record.len() as u64;
        self.check_space(new.saturating_sub(old), 0)?;
        let now = self.now();
        self.uncharge(old);
        self.charge(new);
        let node = self.node_mut(ino)?;
        node.translator = record.to_vec();
        node.ctime = now;
        self.changes.push(Change::Attributes { ino });
        Ok(())
    }

    /// The passive translator record on a node; empty if none.
    pub fn translator(&self, ino: Ino) -> Result<&[u8]> {
        Ok(&self.node(ino)?.translator)
    }
}
