//! The fs routines that make sense for one node: status changes (owner only), size,
//! sync, statfs, access, the control port, and `dir_lookup` as a re-open.

use herd_interfaces::fs::{self as fsi, FsServer};
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::mode::{S_IALLUGO, S_ISGID};
use herd_interfaces::types::consts::open::O_WRITE;
use herd_interfaces::types::consts::retry::FS_RETRY_NORMAL;
use herd_interfaces::types::consts::{UTIME_NOW, UTIME_OMIT};
use herd_interfaces::types::{StatFs, Timespec};
use herd_interfaces::Request;
use herd_runtime::{Errno, PortArg};

use crate::server::Inner;
use crate::Node;

/// `file_chown`'s "leave it as it is".
const KEEP: u32 = u32::MAX;

/// A time `file_utimes` asked for: `None` to leave it.
fn wanted(t: Timespec) -> Result<Option<Timespec>, Errno> {
    match t.nsec {
        UTIME_OMIT => Ok(None),
        UTIME_NOW => Ok(Some(Timespec::now())),
        n if n < 1_000_000_000 => Ok(Some(t)),
        _ => Err(Errno::EINVAL),
    }
}

impl<N: Node> FsServer for Inner<N> {
    fn file_chown(&self, req: &Request, new_owner: u32, new_group: u32) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        let st = self.base_stat()?;
        p.user.check_owner(&st)?;
        let user = &p.user;
        if !user.is_root() {
            let owner_ok = new_owner == KEEP || new_owner == st.uid;
            let group_ok = new_group == KEEP || new_group == st.gid || user.has_gid(new_group);
            if !owner_ok || !group_ok {
                return Err(Errno::EPERM);
            }
        }
        self.change(
            |st| {
                if new_owner != KEEP {
                    st.uid = new_owner;
                }
                if new_group != KEEP {
                    st.gid = new_group;
                }
            },
            |task, real| fsi::file_chown(task, real, new_owner, new_group),
        )
    }

    fn file_chauthor(&self, req: &Request, new_author: u32) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        p.user.check_owner(&self.base_stat()?)?;
        self.change(
            |st| st.author = new_author,
            |task, real| fsi::file_chauthor(task, real, new_author),
        )
    }

    fn file_chmod(&self, req: &Request, new_mode: u32) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        let st = self.base_stat()?;
        p.user.check_owner(&st)?;
        let mut mode = new_mode & S_IALLUGO;
        // POSIX: a non-root owner outside the file's group cannot make it set-group-id.
        if !p.user.is_root() && !p.user.has_gid(st.gid) {
            mode &= !S_ISGID;
        }
        self.change(
            |st| st.mode = (st.mode & !S_IALLUGO) | mode,
            |task, real| fsi::file_chmod(task, real, mode),
        )
    }

    fn file_utimes(
        &self,
        req: &Request,
        new_atime: Timespec,
        new_mtime: Timespec,
    ) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        let st = self.base_stat()?;
        // Setting both to "now" needs only write access, as utimensat(2) says.
        let both_now = new_atime.nsec == UTIME_NOW && new_mtime.nsec == UTIME_NOW;
        if !(p.user.is_owner(&st) || both_now && p.user.access(&st) & O_WRITE != 0) {
            return Err(Errno::EPERM);
        }
        let (atime, mtime) = (wanted(new_atime)?, wanted(new_mtime)?);
        self.change(
            |st| {
                st.atime = atime.unwrap_or(st.atime);
                st.mtime = mtime.unwrap_or(st.mtime);
            },
            |task, real| fsi::file_utimes(task, real, new_atime, new_mtime),
        )
    }

    fn file_set_size(&self, req: &Request, new_size: u64) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        if p.po.modes() & O_WRITE == 0 {
            return Err(Errno::EBADF);
        }
        self.node.set_size(&p.po.open, new_size)
    }

    fn file_sync(&self, req: &Request, _wait: bool, _omit_metadata: bool) -> Result<(), Errno> {
        self.protid(req.dest).map(drop)
    }

    fn file_syncfs(&self, req: &Request, _wait: bool, _do_children: bool) -> Result<(), Errno> {
        self.protid(req.dest).map(drop)
    }

    fn file_statfs(&self, req: &Request) -> Result<StatFs, Errno> {
        self.protid(req.dest)?;
        let st = self.base_stat()?;
        Ok(StatFs {
            fstype: self.node.fstype(),
            bsize: herd_interfaces::types::consts::IO_MAX,
            fsid: st.fsid,
            namelen: 0,
            frsize: herd_interfaces::types::consts::IO_MAX,
            ..StatFs::default()
        })
    }

    fn file_check_access(&self, req: &Request) -> Result<u32, Errno> {
        let p = self.protid(req.dest)?;
        Ok(p.user.access(&self.base_stat()?))
    }

    fn file_getcontrol(&self, req: &Request) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        p.user.check_owner(&self.base_stat()?)?;
        self.control.make_send_arg()
    }

    fn dir_lookup(
        &self,
        req: &Request,
        file_name: String,
        flags: u32,
        _mode: u32,
    ) -> Result<(u32, String, PortArg), Errno> {
        let p = self.protid(req.dest)?;
        if !file_name.is_empty() {
            return Err(Errno::ENOTDIR);
        }
        // A re-open: a new open of the node for the same user.
        let port = self.open(p.user.clone(), flags)?;
        Ok((FS_RETRY_NORMAL, String::new(), PortArg::MoveSend(port)))
    }

    fn file_get_translator(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.protid(req.dest)?;
        self.node
            .passive()
            .map(|words| argz::join(&words))
            .ok_or(Errno::EINVAL)
    }

    fn file_get_fs_options(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.protid(req.dest)?;
        Ok(argz::join(&self.options()))
    }
}

impl<N: Node> Inner<N> {
    /// The server's options: its name, then the node's.
    pub(crate) fn options(&self) -> Vec<String> {
        let mut words = vec![self.node.name().to_string()];
        words.extend(self.node.options());
        words
    }
}
