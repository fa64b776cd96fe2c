//! The io interface on node ports: data through the open's host descriptor, the file
//! pointer, open modes, status.

use herd_interfaces::io::IoServer;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFMT};
use herd_interfaces::types::consts::open::{O_APPEND, O_READ, O_WRITE};
use herd_interfaces::types::consts::IO_MAX;
use herd_interfaces::types::Stat;
use herd_interfaces::Request;
use herd_runtime::{Errno, PortArg, Right};

use crate::host::errno;
use crate::{send, Inner, Peropen};

impl Inner {
    /// The size of the open's node now.
    fn size_of(&self, po: &Peropen) -> Result<u64, Errno> {
        match &po.file {
            Some(f) => Ok(rustix::fs::fstat(f).map_err(errno)?.st_size as u64),
            None => Ok(self.tree.lstat(&po.path)?.size),
        }
    }
}

impl IoServer for Inner {
    fn io_write(&self, req: &Request, data: Vec<u8>, offset: i64) -> Result<u64, Errno> {
        let p = self.protid(req.dest)?;
        let po = &p.po;
        if po.modes() & O_WRITE == 0 {
            return Err(Errno::EBADF);
        }
        self.check_writable()?;
        let file = po.file.as_ref().ok_or(Errno::EBADF)?;
        po.with_pointer(|pointer| {
            let (mut at, move_pointer) = herd_iohelp::position(offset, *pointer)?;
            if move_pointer && po.modes() & O_APPEND != 0 {
                at = self.size_of(po)?;
            }
            let written = rustix::io::pwrite(file, &data, at).map_err(errno)? as u64;
            if move_pointer {
                *pointer = at.saturating_add(written);
            }
            Ok(written)
        })
    }

    fn io_read(&self, req: &Request, offset: i64, amount: u64) -> Result<Vec<u8>, Errno> {
        let p = self.protid(req.dest)?;
        let po = &p.po;
        if po.modes() & O_READ == 0 {
            return Err(Errno::EBADF);
        }
        let Some(file) = &po.file else {
            let dir = self.tree.lstat(&po.path)?.mode & S_IFMT == S_IFDIR;
            return Err(if dir {
                Errno::EISDIR
            } else {
                Errno::EOPNOTSUPP
            });
        };
        po.with_pointer(|pointer| {
            let (at, move_pointer) = herd_iohelp::position(offset, *pointer)?;
            let mut buf = vec![0; amount.min(IO_MAX) as usize];
            let n = rustix::io::pread(file, &mut buf, at).map_err(errno)?;
            buf.truncate(n);
            if move_pointer {
                *pointer = at.saturating_add(n as u64);
            }
            Ok(buf)
        })
    }

    fn io_seek(&self, req: &Request, offset: i64, whence: u32) -> Result<i64, Errno> {
        let p = self.protid(req.dest)?;
        let size = self.size_of(&p.po)?;
        p.po.with_pointer(|pointer| {
            *pointer = herd_iohelp::seek(*pointer, size, offset, whence)?;
            i64::try_from(*pointer).map_err(|_| Errno::EOVERFLOW)
        })
    }

    fn io_readable(&self, req: &Request) -> Result<u64, Errno> {
        let p = self.protid(req.dest)?;
        if p.po.modes() & O_READ == 0 {
            return Err(Errno::EBADF);
        }
        let size = self.size_of(&p.po)?;
        Ok(size.saturating_sub(p.po.with_pointer(|p| *p)))
    }

    fn io_set_all_openmodes(&self, req: &Request, newbits: u32) -> Result<(), Errno> {
        herd_iohelp::openmodes::set_all(&self.protid(req.dest)?.po.modes, newbits);
        Ok(())
    }

    fn io_get_openmodes(&self, req: &Request) -> Result<u32, Errno> {
        Ok(herd_iohelp::openmodes::get(
            &self.protid(req.dest)?.po.modes,
        ))
    }

    fn io_set_some_openmodes(&self, req: &Request, bits_to_set: u32) -> Result<(), Errno> {
        herd_iohelp::openmodes::set_some(&self.protid(req.dest)?.po.modes, bits_to_set);
        Ok(())
    }

    fn io_clear_some_openmodes(&self, req: &Request, bits_to_clear: u32) -> Result<(), Errno> {
        herd_iohelp::openmodes::clear_some(&self.protid(req.dest)?.po.modes, bits_to_clear);
        Ok(())
    }

    fn io_stat(&self, req: &Request) -> Result<Stat, Errno> {
        let p = self.protid(req.dest)?;
        match &p.po.file {
            Some(f) => Ok(self.tree.stat(&rustix::fs::fstat(f).map_err(errno)?)),
            None => self.tree.lstat(&p.po.path),
        }
    }

    fn io_reauthenticate(&self, req: &Request, rendezvous: Right) {
        // Needs the auth server (issue 5), as in tmpfs: dropped until then.
        tracing::debug!(dest = %req.dest, "io_reauthenticate: no auth server yet");
        drop(rendezvous);
    }

    fn io_restrict_auth(
        &self,
        req: &Request,
        uids: Vec<u32>,
        gids: Vec<u32>,
    ) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        let user = p.user.restrict(&uids, &gids)?;
        self.new_protid(user, p.po.clone()).map(send)
    }

    fn io_duplicate(&self, req: &Request) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        self.new_protid(p.user.clone(), p.po.clone()).map(send)
    }

    fn io_server_version(&self, req: &Request) -> Result<(String, i32, i32, i32), Errno> {
        self.protid(req.dest)?;
        Ok(("hostfs".to_string(), 0, 1, 0))
    }
}
