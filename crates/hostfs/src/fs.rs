//! The fs routines hostfs serves: lookup, directory listing and changes within the tree,
//! size and mode changes, options. Every change is refused in a read-only server
//! (`EROFS`) and checked against the port's user before the host is asked.

use std::sync::Arc;

use herd_interfaces::fs::FsServer;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFMT, S_ISVTX};
use herd_interfaces::types::consts::open::{O_EXEC, O_READ, O_WRITE};
use herd_interfaces::types::consts::{IO_MAX, NAME_MAX};
use herd_interfaces::types::dirent::{self, Dirent};
use herd_interfaces::Request;
use herd_iohelp::User;
use herd_runtime::{Errno, PortArg, Right};
use rustix::fs::{AtFlags, Mode};

use crate::host::Path;
use crate::{Inner, Parent, Protid};

/// The most entries one `dir_readdir` answers.
const READDIR_MAX: usize = 4096;

/// The path of `name` in directory `dir`: one plain name only.
fn child(dir: &Path, name: &str) -> Result<Path, Errno> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Errno::EINVAL);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut path = dir.clone();
    path.push(name.to_string());
    Ok(path)
}

impl Inner {
    /// Checks that `user` may change the entries of the directory `dir` (and that the
    /// server may change anything).
    fn check_dir_write(&self, user: &User, dir: &Path) -> Result<(), Errno> {
        self.check_writable()?;
        let st = self.tree.lstat(dir)?;
        if st.mode & S_IFMT != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        user.check_open(&st, O_WRITE | O_EXEC)
    }

    /// Checks the sticky bit: in a sticky directory only the owner of the entry (or of
    /// the directory) may remove or replace it.
    fn check_sticky(&self, user: &User, dir: &Path, entry: &Path) -> Result<(), Errno> {
        let d = self.tree.lstat(dir)?;
        if d.mode & S_ISVTX == 0 || user.is_owner(&d) {
            return Ok(());
        }
        match self.tree.lstat(entry) {
            Ok(st) if !user.is_owner(&st) => Err(Errno::EPERM),
            _ => Ok(()),
        }
    }

    /// Removes `name` from `p`'s directory (`rmdir` when `dir`).
    fn remove(&self, p: &Protid, name: &str, dir: bool) -> Result<(), Errno> {
        let path = child(&p.po.path, name)?;
        self.check_dir_write(&p.user, &p.po.path)?;
        self.check_sticky(&p.user, &p.po.path, &path)?;
        let flags = if dir {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        self.tree
            .at(&path, |d, n| rustix::fs::unlinkat(d, n, flags))
    }
}

impl FsServer for Inner {
    fn dir_lookup(
        &self,
        req: &Request,
        file_name: String,
        flags: u32,
        mode: u32,
    ) -> Result<(u32, String, PortArg), Errno> {
        let p = self.protid(req.dest)?;
        self.lookup(&p.user, &p.po.path, &p.po.dotdot, &file_name, flags, mode)
    }

    fn dir_readdir(
        &self,
        req: &Request,
        entry: i32,
        nentries: i32,
        bufsiz: u64,
    ) -> Result<(Vec<u8>, i32), Errno> {
        let p = self.protid(req.dest)?;
        if p.po.modes() & O_READ == 0 {
            return Err(Errno::EBADF);
        }
        let skip = usize::try_from(entry).map_err(|_| Errno::EINVAL)?;
        let want = usize::try_from(nentries)
            .unwrap_or(usize::MAX)
            .min(READDIR_MAX);
        let limit = match bufsiz {
            0 => IO_MAX as usize,
            n => n.min(IO_MAX) as usize,
        };
        let mut entries = self.tree.list(&p.po.path)?;
        entries.sort_by(|a, b| a.2.cmp(&b.2));
        let mut data = Vec::new();
        let mut count = 0;
        for (ino, kind, name) in entries.into_iter().skip(skip).take(want) {
            let d = Dirent { ino, kind, name };
            if data.len() + d.encoded_len() > limit {
                if count == 0 {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            dirent::encode_into(&mut data, &d);
            count += 1;
        }
        Ok((data, count))
    }

    fn dir_mkdir(&self, req: &Request, name: String, mode: u32) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        let path = child(&p.po.path, &name)?;
        self.check_dir_write(&p.user, &p.po.path)?;
        let mode = Mode::from_raw_mode(mode & 0o7777);
        self.tree.at(&path, |d, n| rustix::fs::mkdirat(d, n, mode))
    }

    fn dir_rmdir(&self, req: &Request, name: String) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.remove(&p, &name, true)
    }

    fn dir_unlink(&self, req: &Request, name: String) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.remove(&p, &name, false)
    }

    fn dir_rename(
        &self,
        req: &Request,
        oldname: String,
        newdirectory: Right,
        newname: String,
        excl: bool,
    ) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        // Another server's directory (or another hostfs's): no rename across.
        let to = self
            .bucket
            .lookup_right::<Protid>(&newdirectory)
            .ok_or(Errno::EXDEV)?;
        let from = child(&p.po.path, &oldname)?;
        let dest = child(&to.po.path, &newname)?;
        self.check_dir_write(&p.user, &p.po.path)?;
        self.check_dir_write(&p.user, &to.po.path)?;
        self.check_sticky(&p.user, &p.po.path, &from)?;
        self.check_sticky(&p.user, &to.po.path, &dest)?;
        // A directory may not move into itself.
        if dest.starts_with(&from) {
            return Err(Errno::EINVAL);
        }
        let (from_dir, from_name) = self.tree.parent(&from)?;
        let (to_dir, to_name) = self.tree.parent(&dest)?;
        let (from_name, to_name) = (from_name.ok_or(Errno::EBUSY)?, to_name.ok_or(Errno::EBUSY)?);
        let flags = if excl {
            rustix::fs::RenameFlags::NOREPLACE
        } else {
            rustix::fs::RenameFlags::empty()
        };
        rustix::fs::renameat_with(&from_dir, from_name, &to_dir, to_name, flags)
            .map_err(crate::host::errno)
    }

    fn file_chmod(&self, req: &Request, new_mode: u32) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.check_writable()?;
        p.user.check_owner(&self.tree.lstat(&p.po.path)?)?;
        self.tree.chmod(&p.po.path, new_mode)
    }

    fn file_set_size(&self, req: &Request, new_size: u64) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.check_writable()?;
        if p.po.modes() & O_WRITE == 0 {
            return Err(Errno::EBADF);
        }
        let file = p.po.file.as_ref().ok_or(Errno::EISDIR)?;
        rustix::fs::ftruncate(file, new_size).map_err(crate::host::errno)
    }

    fn file_sync(&self, req: &Request, _wait: bool, _omit_metadata: bool) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        match &p.po.file {
            Some(f) => rustix::fs::fsync(f).map_err(crate::host::errno),
            None => Ok(()),
        }
    }

    fn file_check_access(&self, req: &Request) -> Result<u32, Errno> {
        let p = self.protid(req.dest)?;
        let mut allowed = p.user.access(&self.tree.lstat(&p.po.path)?);
        if self.options.read_only {
            allowed &= !O_WRITE;
        }
        Ok(allowed)
    }

    fn file_reparent(&self, req: &Request, parent: Right) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        // The same node and access, with `..` from it leading to `parent` (none: as
        // before). Its host file, if any, is opened anew.
        let dotdot = match parent.into_send() {
            Some(port) => Some(Arc::new(Parent {
                at: p.po.path.clone(),
                port,
            })),
            None => p.po.dotdot.clone(),
        };
        let flags = p.po.modes() & (O_READ | O_WRITE | O_EXEC);
        let (_, _, port) = self.open_node(&p.user, p.po.path.clone(), flags, None, &dotdot)?;
        Ok(port)
    }

    fn file_get_fs_options(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.protid(req.dest)?;
        Ok(argz::join(&self.options_words()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_children() {
        let dir: Path = vec!["a".into()];
        assert_eq!(child(&dir, "b").unwrap(), ["a", "b"]);
        for bad in ["", ".", "..", "x/y"] {
            assert_eq!(child(&dir, bad), Err(Errno::EINVAL), "{bad:?}");
        }
        assert_eq!(child(&dir, &"n".repeat(256)), Err(Errno::ENAMETOOLONG));
    }
}
