//! Making names: files, directories, device nodes, symlinks and hard links; and reading
//! symlinks.
//!
//! The checks run in Linux's order (`may_create`): the directory must be a directory the
//! caller may search (`ENOTDIR`, `EACCES`), the name valid (`ENAMETOOLONG`, `EINVAL`) and
//! free (`EEXIST`), the directory not removed (`ENOENT`) and writable (`EACCES`); then
//! space (`ENOSPC`).

use crate::change::Change;
use crate::dir::DirData;
use crate::error::{Error, Result};
use crate::file::FileData;
use crate::fs::Fs;
use crate::name::{self, Component};
use crate::node::{Body, Node, Special};
use crate::types::{mode, Access, Identity, Ino};

/// The longest symlink target, in bytes (`PATH_MAX` less its NUL).
pub const SYMLINK_MAX: usize = 4095;

impl Fs {
    /// The `may_create` checks; returns the checked name.
    pub(crate) fn check_create<'n>(
        &self,
        who: &Identity,
        dir: Ino,
        name: &'n [u8],
    ) -> Result<&'n [u8]> {
        let d = self.searchable_dir(who, dir)?;
        let name = match name::component(name)? {
            Component::Dot | Component::DotDot => return Err(Error::Exists),
            Component::Name(n) => n,
        };
        if d.get(name).is_some() {
            return Err(Error::Exists);
        }
        let node = self.node(dir)?;
        if node.nlink == 0 {
            return Err(Error::NotFound);
        }
        if !node.permits(who, Access::WRITE | Access::EXEC) {
            return Err(Error::AccessDenied);
        }
        if !d.has_room() {
            return Err(Error::NoSpace);
        }
        Ok(name)
    }

    /// Make a node named `name` in `dir`, after [`Fs::check_create`].
    fn make(
        &mut self,
        who: &Identity,
        dir: Ino,
        name: &[u8],
        body: Body,
        perm: u32,
    ) -> Result<Ino> {
        let is_dir = matches!(body, Body::Directory(_));
        let parent = self.node(dir)?;
        if is_dir && parent.nlink == u32::MAX {
            return Err(Error::TooManyLinks);
        }
        let (uid, gid, perm) = self.new_owner(who, parent, perm, is_dir);
        let now = self.now();
        let mut node = Node::new(body, perm, uid, gid, now);
        node.nlink = if is_dir { 2 } else { 1 };
        self.check_space(node.charged_bytes().saturating_add(name.len() as u64), 1)?;
        let ino = self.insert_node(node);
        self.charge(name.len() as u64);
        let parent = self.node_mut(dir)?;
        if let Some(d) = parent.dir_mut() {
            d.insert(name, ino);
        }
        if is_dir {
            parent.nlink += 1;
        }
        parent.touch_modified(now);
        self.changes.push(Change::Added {
            dir,
            name: name.to_vec(),
        });
        Ok(ino)
    }

    /// `open` with `O_CREAT`: make an empty regular file with permission bits `perm` (the
    /// caller has applied its umask), or, unless `exclusive`, return the node already
    /// there, whatever its kind (the server layer then checks it may open it). Returns the
    /// node and whether it was made.
    pub fn create(
        &mut self,
        who: &Identity,
        dir: Ino,
        name: &[u8],
        perm: u32,
        exclusive: bool,
    ) -> Result<(Ino, bool)> {
        match self.lookup(who, dir, name) {
            Ok(_) if exclusive => Err(Error::Exists),
            Ok(ino) => Ok((ino, false)),
            Err(Error::NotFound) => {
                let name = self.check_create(who, dir, name)?;
                let ino = self.make(who, dir, name, Body::File(FileData::default()), perm)?;
                Ok((ino, true))
            }
            Err(e) => Err(e),
        }
    }

    /// `mkdir`: make an empty directory. The set-user-id and set-group-id bits of `perm`
    /// are ignored; a setgid parent passes on its group and its setgid bit.
    pub fn mkdir(&mut self, who: &Identity, dir: Ino, name: &[u8], perm: u32) -> Result<Ino> {
        let name = self.check_create(who, dir, name)?;
        let perm = perm & (0o777 | mode::S_ISVTX);
        self.make(who, dir, name, Body::Directory(DirData::new(dir)), perm)
    }

    /// `mknod`: make a fifo, socket or device node. Device nodes need the superuser
    /// (`EPERM`).
    pub fn mknod(
        &mut self,
        who: &Identity,
        dir: Ino,
        name: &[u8],
        special: Special,
        perm: u32,
    ) -> Result<Ino> {
        let name = self.check_create(who, dir, name)?;
        let device = matches!(special, Special::CharDevice(_) | Special::BlockDevice(_));
        if device && !who.is_superuser() {
            return Err(Error::NotPermitted);
        }
        self.make(who, dir, name, Body::Special(special), perm)
    }

    /// `symlink`: make a symbolic link holding `target` (not interpreted here). An empty
    /// target is `ENOENT`, one over [`SYMLINK_MAX`] bytes `ENAMETOOLONG`, one with NUL
    /// `EINVAL`.
    pub fn symlink(&mut self, who: &Identity, dir: Ino, name: &[u8], target: &[u8]) -> Result<Ino> {
        if target.is_empty() {
            return Err(Error::NotFound);
        }
        if target.len() > SYMLINK_MAX {
            return Err(Error::NameTooLong);
        }
        if target.contains(&0) {
            return Err(Error::Invalid);
        }
        let name = self.check_create(who, dir, name)?;
        self.make(who, dir, name, Body::Symlink(target.to_vec()), 0o777)
    }

    /// `link`: give node `ino` another name. Directories cannot be linked (`EPERM`); a node
    /// whose last name is gone cannot get one back (`ENOENT`).
    pub fn link(&mut self, who: &Identity, ino: Ino, dir: Ino, name: &[u8]) -> Result<()> {
        let name = self.check_create(who, dir, name)?;
        let node = self.node(ino)?;
        if node.dir().is_some() {
            return Err(Error::NotPermitted);
        }
        if node.nlink == 0 {
            return Err(Error::NotFound);
        }
        if node.nlink == u32::MAX {
            return Err(Error::TooManyLinks);
        }
        self.check_space(name.len() as u64, 0)?;
        let now = self.now();
        self.charge(name.len() as u64);
        let node = self.node_mut(ino)?;
        node.nlink += 1;
        node.ctime = now;
        let parent = self.node_mut(dir)?;
        if let Some(d) = parent.dir_mut() {
            d.insert(name, ino);
        }
        parent.touch_modified(now);
        self.changes.push(Change::Added {
            dir,
            name: name.to_vec(),
        });
        self.changes.push(Change::Attributes { ino });
        Ok(())
    }

    /// `readlink`: a symlink's target (`EINVAL` for any other kind).
    pub fn readlink(&mut self, ino: Ino) -> Result<Vec<u8>> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        let Body::Symlink(target) = &node.body else {
            return Err(Error::Invalid);
        };
        let target = target.clone();
        node.touch_accessed(now);
        Ok(target)
    }
}
