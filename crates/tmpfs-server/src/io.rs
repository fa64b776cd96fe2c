//! The io interface on the node ports: data, file pointer, open modes, status, identity.

use herd_interfaces::io::IoServer;
use herd_interfaces::types::consts::open::{O_APPEND, O_READ, O_WRITE};
use herd_interfaces::types::consts::IO_MAX;
use herd_interfaces::types::Stat;
use herd_interfaces::Request;
use herd_runtime::{Errno, PortArg, Right};
use herd_tmpfs::Kind;

use crate::server::{errno, identity, Inner};

/// The server's version, for `io_server_version`.
const VERSION: (i32, i32, i32) = (0, 1, 0);

impl IoServer for Inner {
    fn io_write(&self, req: &Request, data: Vec<u8>, offset: i64) -> Result<u64, Errno> {
        let p = self.protid(req.dest)?;
        let po = &p.po;
        if po.modes() & O_WRITE == 0 {
            return Err(Errno::EBADF);
        }
        let who = identity(&p.user);
        // The pointer is held across the write so appends and moves do not interleave.
        po.with_pointer(|pointer| {
            let (mut at, move_pointer) = herd_iohelp::position(offset, *pointer)?;
            let mut fs = self.fs();
            if move_pointer && po.modes() & O_APPEND != 0 {
                at = fs.stat(po.ino).map_err(errno)?.size;
            }
            let written = fs.write(&who, po.ino, at, &data).map_err(errno)? as u64;
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
        po.with_pointer(|pointer| {
            let (at, move_pointer) = herd_iohelp::position(offset, *pointer)?;
            let mut fs = self.fs();
            if fs.stat(po.ino).map_err(errno)?.kind == Kind::Directory {
                return Err(Errno::EISDIR);
            }
            let data = fs
                .read(po.ino, at, amount.min(IO_MAX) as usize)
                .map_err(errno)?;
            if move_pointer {
                *pointer = at.saturating_add(data.len() as u64);
            }
            Ok(data)
        })
    }

    fn io_seek(&self, req: &Request, offset: i64, whence: u32) -> Result<i64, Errno> {
        let p = self.protid(req.dest)?;
        let size = self.fs().stat(p.po.ino).map_err(errno)?.size;
        p.po.with_pointer(|pointer| {
            *pointer = herd_iohelp::seek(*pointer, size, offset, whence)?;
            Ok(*pointer as i64)
        })
    }

    fn io_readable(&self, req: &Request) -> Result<u64, Errno> {
        let p = self.protid(req.dest)?;
        if p.po.modes() & O_READ == 0 {
            return Err(Errno::EBADF);
        }
        let size = self.fs().stat(p.po.ino).map_err(errno)?.size;
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
        let fs = self.fs();
        self.stat_of(&fs, p.po.ino)
    }

    fn io_reauthenticate(&self, req: &Request, rendezvous: Right) {
        // The handshake needs the auth server (issue 5); until then the request is
        // dropped, and the client's auth_user_authenticate finds no partner.
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
        self.new_protid(user, p.po.clone()).map(PortArg::MoveSend)
    }

    fn io_duplicate(&self, req: &Request) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        self.new_protid(p.user.clone(), p.po.clone())
            .map(PortArg::MoveSend)
    }

    fn io_server_version(&self, req: &Request) -> Result<(String, i32, i32, i32), Errno> {
        self.protid(req.dest)?;
        let (major, minor, edit) = VERSION;
        Ok(("tmpfs".to_string(), major, minor, edit))
    }

    fn io_pathconf(&self, req: &Request, name: i32) -> Result<i64, Errno> {
        self.protid(req.dest)?;
        // _PC_LINK_MAX 0, _PC_MAX_CANON 1, _PC_MAX_INPUT 2, _PC_NAME_MAX 3, _PC_PATH_MAX 4,
        // _PC_PIPE_BUF 5.
        match name {
            0 => Ok(i64::from(u32::MAX)),
            1..=3 => Ok(255),
            4 => Ok(crate::lookup::PATH_MAX as i64),
            5 => Ok(4096),
            _ => Err(Errno::EINVAL),
        }
    }

    fn io_identity(&self, req: &Request) -> Result<(PortArg, PortArg, u64), Errno> {
        let p = self.protid(req.dest)?;
        let idport = self.idport(p.po.ino)?;
        Ok((
            idport.make_send_arg()?,
            self.fsidport.make_send_arg()?,
            p.po.ino.0,
        ))
    }
}
