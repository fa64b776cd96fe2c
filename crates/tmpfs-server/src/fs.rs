//! The fs interface on the node ports: status changes, directories, links, renames,
//! locks, and the node's translators (`file_set_translator` with fshelp's settrans
//! semantics).

use herd_fshelp::check_translator_owner;
use herd_interfaces::fs::FsServer;
use herd_interfaces::types::consts::lock::{LOCK_EX, LOCK_SH, LOCK_UN};
use herd_interfaces::types::consts::open::{O_EXEC, O_READ, O_WRITE};
use herd_interfaces::types::consts::trans::{FS_TRANS_EXCL, FS_TRANS_SET};
use herd_interfaces::types::consts::{IO_MAX, UTIME_NOW, UTIME_OMIT};
use herd_interfaces::types::dirent::{self, Dirent};
use herd_interfaces::types::{argz, StatFs, Timespec};
use herd_interfaces::Request;
use herd_runtime::{Errno, PortArg, Right};
use herd_tmpfs::{Access, FlockOp, Kind, RenameMode, SetTime, Timestamp};

use crate::server::{errno, identity, symlink_record, Inner, HIDDEN_PREFIX, SYMLINK_TRANSLATOR};

/// `file_chown`'s "leave it as it is".
const KEEP: u32 = u32::MAX;

/// Entries `dir_readdir` gives at most in one answer.
const READDIR_MAX: usize = 4096;

/// A time `file_utimes` asked for.
fn set_time(t: Timespec) -> SetTime {
    match t.nsec {
        UTIME_OMIT => SetTime::Omit,
        UTIME_NOW => SetTime::Now,
        nsec => SetTime::At(Timestamp { sec: t.sec, nsec }),
    }
}

/// `DT_*` of a node kind.
fn dirent_kind(kind: Kind) -> u8 {
    dirent::Dirent::kind_of_mode(kind.type_bits())
}

impl FsServer for Inner {
    fn file_chown(&self, req: &Request, new_owner: u32, new_group: u32) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        let keep = |id: u32| (id != KEEP).then_some(id);
        self.fs()
            .chown(
                &identity(&p.user),
                p.po.ino,
                keep(new_owner),
                keep(new_group),
            )
            .map_err(errno)
    }

    fn file_chmod(&self, req: &Request, new_mode: u32) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.fs()
            .chmod(&identity(&p.user), p.po.ino, new_mode & 0o7777)
            .map_err(errno)
    }

    fn file_utimes(
        &self,
        req: &Request,
        new_atime: Timespec,
        new_mtime: Timespec,
    ) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.fs()
            .utimes(
                &identity(&p.user),
                p.po.ino,
                set_time(new_atime),
                set_time(new_mtime),
            )
            .map_err(errno)
    }

    fn file_set_size(&self, req: &Request, new_size: u64) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        if p.po.modes() & O_WRITE == 0 {
            return Err(Errno::EBADF);
        }
        self.fs()
            .set_size(&identity(&p.user), p.po.ino, new_size)
            .map_err(errno)
    }

    fn file_lock(&self, req: &Request, flags: u32) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        let op = if flags & LOCK_UN != 0 {
            FlockOp::Unlock
        } else if flags & LOCK_EX != 0 {
            FlockOp::Exclusive
        } else if flags & LOCK_SH != 0 {
            FlockOp::Shared
        } else {
            return Err(Errno::EINVAL);
        };
        // Waiting would hold a server thread: a blocking request is answered like LOCK_NB
        // (EAGAIN), and the client retries.
        self.fs().flock(p.po.ino, p.po.id, op).map_err(errno)
    }

    fn file_check_access(&self, req: &Request) -> Result<u32, Errno> {
        let p = self.protid(req.dest)?;
        let who = identity(&p.user);
        let fs = self.fs();
        let mut allowed = 0;
        for (bit, access) in [
            (O_READ, Access::READ),
            (O_WRITE, Access::WRITE),
            (O_EXEC, Access::EXEC),
        ] {
            if fs.access(&who, p.po.ino, access).is_ok() {
                allowed |= bit;
            }
        }
        Ok(allowed)
    }

    fn file_getcontrol(&self, req: &Request) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        let root = self.stat_of(&self.fs(), herd_tmpfs::Ino::ROOT)?;
        p.user.check_owner(&root)?;
        self.control.make_send_arg()
    }

    fn file_statfs(&self, req: &Request) -> Result<StatFs, Errno> {
        self.protid(req.dest)?;
        let s = self.fs().statfs();
        let bsize = u64::from(s.block_size);
        Ok(StatFs {
            fstype: herd_interfaces::types::consts::fstype::FSTYPE_MEMFS,
            bsize,
            blocks: s.total_bytes / bsize,
            bfree: s.free_bytes / bsize,
            bavail: s.free_bytes / bsize,
            files: s.total_inodes,
            ffree: s.free_inodes,
            fsid: self.task.id(),
            namelen: u64::from(s.name_max),
            frsize: bsize,
            flag: 0,
        })
    }

    fn file_sync(&self, req: &Request, _wait: bool, _omit_metadata: bool) -> Result<(), Errno> {
        self.protid(req.dest).map(drop)
    }

    fn file_syncfs(&self, req: &Request, _wait: bool, _do_children: bool) -> Result<(), Errno> {
        self.protid(req.dest).map(drop)
    }

    fn dir_lookup(
        &self,
        req: &Request,
        file_name: String,
        flags: u32,
        mode: u32,
    ) -> Result<(u32, String, PortArg), Errno> {
        let p = self.protid(req.dest)?;
        self.lookup(&p, &file_name, flags, mode)
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
        let entries = self.fs().readdir(p.po.ino, 0, usize::MAX).map_err(errno)?;
        let mut data = Vec::new();
        let mut count = 0;
        let visible = entries
            .into_iter()
            .filter(|e| !e.name.starts_with(HIDDEN_PREFIX.as_bytes()));
        for e in visible.skip(skip).take(want) {
            let d = Dirent {
                ino: e.ino.0,
                kind: dirent_kind(e.kind),
                name: String::from_utf8_lossy(&e.name).into_owned(),
            };
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
        self.fs()
            .mkdir(&identity(&p.user), p.po.ino, name.as_bytes(), mode & 0o7777)
            .map(drop)
            .map_err(errno)
    }

    fn dir_rmdir(&self, req: &Request, name: String) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.fs()
            .rmdir(&identity(&p.user), p.po.ino, name.as_bytes())
            .map_err(errno)
    }

    fn dir_unlink(&self, req: &Request, name: String) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.fs()
            .unlink(&identity(&p.user), p.po.ino, name.as_bytes())
            .map_err(errno)
    }

    fn dir_link(&self, req: &Request, file: Right, name: String, excl: bool) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        let target = self
            .bucket
            .lookup_right::<crate::server::Protid>(&file)
            .ok_or(Errno::EXDEV)?;
        self.link(&p, &target, &name, excl)
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
        let to = self
            .bucket
            .lookup_right::<crate::server::Protid>(&newdirectory)
            .ok_or(Errno::EXDEV)?;
        let mode = if excl {
            RenameMode::NoReplace
        } else {
            RenameMode::Replace
        };
        self.fs()
            .rename(
                &identity(&p.user),
                p.po.ino,
                oldname.as_bytes(),
                to.po.ino,
                newname.as_bytes(),
                mode,
            )
            .map_err(errno)
    }

    fn dir_mkfile(&self, req: &Request, flags: u32, mode: u32) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        self.mkfile(&p, flags, mode).map(PortArg::MoveSend)
    }

    fn file_set_translator(
        &self,
        req: &Request,
        passive_flags: u32,
        active_flags: u32,
        oldtrans_flags: u32,
        passive: Vec<u8>,
        active: Right,
    ) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        let ino = p.po.ino;
        let st = self.stat_of(&self.fs(), ino)?;
        check_translator_owner(&p.user, &st)?;
        if active_flags & FS_TRANS_SET != 0 {
            let tb = self.transbox_or_new(ino);
            tb.set_active(
                &self.task,
                active.into_send(),
                active_flags & FS_TRANS_EXCL != 0,
                oldtrans_flags,
                self.launcher.start_timeout(),
            )?;
        }
        if passive_flags & FS_TRANS_SET != 0 {
            let mut fs = self.fs();
            if passive_flags & FS_TRANS_EXCL != 0 && !fs.translator(ino).map_err(errno)?.is_empty()
            {
                return Err(Errno::EBUSY);
            }
            fs.set_translator(&identity(&p.user), ino, &passive)
                .map_err(errno)?;
        }
        Ok(())
    }

    fn file_get_translator(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        let p = self.protid(req.dest)?;
        let mut fs = self.fs();
        if fs.stat(p.po.ino).map_err(errno)?.kind == Kind::Symlink {
            let target = fs.readlink(p.po.ino).map_err(errno)?;
            let mut record = argz::join(&[SYMLINK_TRANSLATOR]);
            record.extend_from_slice(&target);
            record.push(0);
            return Ok(record);
        }
        let record = fs.translator(p.po.ino).map_err(errno)?;
        if record.is_empty() {
            return Err(Errno::EINVAL);
        }
        Ok(record.to_vec())
    }

    fn file_get_translator_cntl(&self, req: &Request) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        let st = self.stat_of(&self.fs(), p.po.ino)?;
        check_translator_owner(&p.user, &st)?;
        let control = self
            .transbox(p.po.ino)
            .and_then(|t| t.control())
            .ok_or(Errno::ENXIO)?;
        Ok(PortArg::MoveSend(control))
    }

    fn file_getlinknode(&self, req: &Request) -> Result<PortArg, Errno> {
        // Ports here always name the node itself (a translator on it is crossed only by
        // `dir_lookup`), so the link node is another port for the same open.
        let p = self.protid(req.dest)?;
        self.new_protid(p.user.clone(), p.po.clone())
            .map(PortArg::MoveSend)
    }

    fn file_notice_changes(&self, req: &Request, notify: Right) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        self.watch(p.po.ino, false, notify)
    }

    fn dir_notice_changes(&self, req: &Request, notify: Right) -> Result<(), Errno> {
        let p = self.protid(req.dest)?;
        if self.fs().stat(p.po.ino).map_err(errno)?.kind != Kind::Directory {
            return Err(Errno::ENOTDIR);
        }
        self.watch(p.po.ino, true, notify)
    }

    fn file_reparent(&self, req: &Request, parent: Right) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        // A new open of the node whose `..` leads to `parent` (none: as before).
        let dotdot = match parent.into_send() {
            Some(port) => Some(std::sync::Arc::new(crate::server::Parent {
                at: p.po.ino,
                port,
            })),
            None => p.po.dotdot.clone(),
        };
        self.new_open(p.po.ino, p.user.clone(), p.po.modes(), dotdot)
            .map(PortArg::MoveSend)
    }

    fn file_get_fs_options(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.protid(req.dest)?;
        Ok(argz::join(&self.options()))
    }
}

impl Inner {
    /// `dir_link` of `target`'s node here as `name`. A node from `dir_mkfile` gets its
    /// hidden name moved here; a symlink record made on one (`/hurd/symlink TARGET`)
    /// makes it a symlink.
    fn link(
        &self,
        dir: &crate::server::Protid,
        target: &crate::server::Protid,
        name: &str,
        excl: bool,
    ) -> Result<(), Errno> {
        let who = identity(&dir.user);
        let mode = if excl {
            RenameMode::NoReplace
        } else {
            RenameMode::Replace
        };
        let mut hidden = target
            .po
            .hidden
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut fs = self.fs();
        if let Some((from, hidden_name)) = hidden.as_ref() {
            let record = fs.translator(target.po.ino).map_err(errno)?.to_vec();
            if let Some(link) = symlink_record(&record) {
                if !excl && fs.lookup(&who, dir.po.ino, name.as_bytes()).is_ok() {
                    fs.unlink(&who, dir.po.ino, name.as_bytes())
                        .map_err(errno)?;
                }
                fs.symlink(&who, dir.po.ino, name.as_bytes(), &link)
                    .map_err(errno)?;
                return Ok(());
            }
            fs.rename(&who, *from, hidden_name, dir.po.ino, name.as_bytes(), mode)
                .map_err(errno)?;
            *hidden = None;
            return Ok(());
        }
        match fs.lookup(&who, dir.po.ino, name.as_bytes()) {
            Ok(_) if excl => return Err(Errno::EEXIST),
            Ok(old) if old == target.po.ino => return Ok(()),
            Ok(_) => fs
                .unlink(&who, dir.po.ino, name.as_bytes())
                .map_err(errno)?,
            Err(_) => {}
        }
        fs.link(&who, target.po.ino, dir.po.ino, name.as_bytes())
            .map_err(errno)
    }
}
