//! The host side: a directory tree reached only from the root's descriptor, one name at
//! a time, never following a host symlink (`O_NOFOLLOW` on every component, `O_PATH` for
//! the directories on the way), so no name a client sends can reach outside the tree.

use std::os::fd::{AsFd, OwnedFd};

use herd_interfaces::types::consts::fstype::FSTYPE_MISC;
use herd_interfaces::types::{Stat, Timespec};
use herd_runtime::Errno;
use rustix::fs::{AtFlags, Mode, OFlags};

/// A path inside the tree: names from the root, none empty, `.` or `..`.
pub(crate) type Path = Vec<String>;

/// A host errno as herd's (both are Linux's numbers).
pub(crate) fn errno(e: rustix::io::Errno) -> Errno {
    Errno(e.raw_os_error())
}

/// The served tree.
pub(crate) struct Tree {
    root: OwnedFd,
    fsid: u64,
}

impl Tree {
    /// Opens `dir` as the root of the tree.
    pub(crate) fn open(dir: &std::path::Path) -> Result<Tree, rustix::io::Errno> {
        let root = rustix::fs::open(
            dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let fsid = rustix::fs::fstat(&root)?.st_dev;
        Ok(Tree { root, fsid })
    }

    /// The directory `path` (`O_PATH`), walked one name at a time without following
    /// symlinks (a symlink on the way is `ENOTDIR`: lookups resolve links themselves).
    pub(crate) fn dir(&self, path: &[String]) -> Result<OwnedFd, Errno> {
        let mut fd = rustix::io::dup(&self.root).map_err(errno)?;
        for name in path {
            fd = rustix::fs::openat(
                &fd,
                name.as_str(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(errno)?;
        }
        Ok(fd)
    }

    /// The directory holding `path` and `path`'s last name (`None` for the root).
    pub(crate) fn parent<'a>(
        &self,
        path: &'a [String],
    ) -> Result<(OwnedFd, Option<&'a str>), Errno> {
        match path.split_last() {
            Some((name, dir)) => Ok((self.dir(dir)?, Some(name.as_str()))),
            None => Ok((self.dir(&[])?, None)),
        }
    }

    /// The status of `path` itself (a symlink is not followed).
    pub(crate) fn lstat(&self, path: &[String]) -> Result<Stat, Errno> {
        let (dir, name) = self.parent(path)?;
        let st = match name {
            Some(name) => rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW),
            None => rustix::fs::fstat(&dir),
        }
        .map_err(errno)?;
        Ok(self.stat(&st))
    }

    /// Opens `path` with host `flags` (never through a symlink).
    pub(crate) fn open_file(
        &self,
        path: &[String],
        flags: OFlags,
        mode: u32,
    ) -> Result<OwnedFd, Errno> {
        let (dir, name) = self.parent(path)?;
        let name = name.unwrap_or(".");
        rustix::fs::openat(
            &dir,
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode & 0o7777),
        )
        .map_err(errno)
    }

    /// Changes the permission bits of `path` itself, never through a symlink: through a
    /// descriptor opened with `O_NOFOLLOW` (a symlink there is `ELOOP`), or, if the server
    /// may not open it, with `fchmodat`'s `AT_SYMLINK_NOFOLLOW`.
    pub(crate) fn chmod(&self, path: &[String], mode: u32) -> Result<(), Errno> {
        let mode = Mode::from_raw_mode(mode & 0o7777);
        let flags = OFlags::RDONLY | OFlags::NONBLOCK;
        match self.open_file(path, flags, 0) {
            Ok(fd) => rustix::fs::fchmod(&fd, mode).map_err(errno),
            Err(Errno::EACCES) => self.at(path, |d, n| {
                rustix::fs::chmodat(d, n, mode, AtFlags::SYMLINK_NOFOLLOW)
            }),
            Err(e) => Err(e),
        }
    }

    /// The target of the symlink `path`.
    pub(crate) fn readlink(&self, path: &[String]) -> Result<String, Errno> {
        let (dir, name) = self.parent(path)?;
        let target =
            rustix::fs::readlinkat(&dir, name.unwrap_or("."), Vec::new()).map_err(errno)?;
        target.into_string().map_err(|_| Errno::EINVAL)
    }

    /// Runs `f` on the directory holding `path` and its last name (`EBUSY` for the root).
    pub(crate) fn at<R>(
        &self,
        path: &[String],
        f: impl FnOnce(&OwnedFd, &str) -> rustix::io::Result<R>,
    ) -> Result<R, Errno> {
        let (dir, name) = self.parent(path)?;
        f(&dir, name.ok_or(Errno::EBUSY)?).map_err(errno)
    }

    /// The names in directory `path`, with inode numbers and `DT_*` types.
    pub(crate) fn list(&self, path: &[String]) -> Result<Vec<(u64, u8, String)>, Errno> {
        let fd = match path.is_empty() {
            true => rustix::fs::openat(&self.root, ".", dir_read(), Mode::empty()),
            false => {
                let (dir, name) = self.parent(path)?;
                rustix::fs::openat(&dir, name.unwrap_or("."), dir_read(), Mode::empty())
            }
        }
        .map_err(errno)?;
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(fd.as_fd()).map_err(errno)? {
            let entry = entry.map_err(errno)?;
            let Ok(name) = entry.file_name().to_str() else {
                continue; // Names are strings on the wire.
            };
            out.push((
                entry.ino(),
                dirent_type(entry.file_type()),
                name.to_string(),
            ));
        }
        Ok(out)
    }

    /// A host status in the interfaces' form. (The casts are needed where libc's field
    /// types differ from x86-64's.)
    #[allow(clippy::unnecessary_cast)]
    pub(crate) fn stat(&self, st: &rustix::fs::Stat) -> Stat {
        let ts = |sec: i64, nsec: i64| Timespec {
            sec,
            nsec: nsec as u32,
        };
        Stat {
            fstype: FSTYPE_MISC,
            fsid: self.fsid,
            ino: st.st_ino,
            gen: 0,
            rdev: st.st_rdev,
            mode: st.st_mode,
            nlink: st.st_nlink as u64,
            uid: st.st_uid,
            gid: st.st_gid,
            size: st.st_size as u64,
            atime: ts(st.st_atime as i64, st.st_atime_nsec as i64),
            mtime: ts(st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime: ts(st.st_ctime as i64, st.st_ctime_nsec as i64),
            blksize: st.st_blksize as u32,
            blocks: st.st_blocks as u64,
            author: st.st_uid,
            flags: 0,
        }
    }
}

/// A host file type as a `DT_*` value.
fn dirent_type(t: rustix::fs::FileType) -> u8 {
    use herd_interfaces::types::dirent::*;
    use rustix::fs::FileType;
    match t {
        FileType::RegularFile => DT_REG,
        FileType::Directory => DT_DIR,
        FileType::Symlink => DT_LNK,
        FileType::Fifo => DT_FIFO,
        FileType::Socket => DT_SOCK,
        FileType::CharacterDevice => DT_CHR,
        FileType::BlockDevice => DT_BLK,
        _ => DT_UNKNOWN,
    }
}

/// Host flags to read a directory, never through a symlink.
fn dir_read() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}
