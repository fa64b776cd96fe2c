//! The io interface on the node's ports.

use herd_interfaces::io::IoServer;
use herd_interfaces::types::consts::open::{O_APPEND, O_READ, O_WRITE};
use herd_interfaces::types::consts::IO_MAX;
use herd_interfaces::types::Stat;
use herd_interfaces::Request;
use herd_runtime::{Errno, PortArg, Right};

use crate::server::{Inner, Peropen};
use crate::Node;

/// The server's version, for `io_server_version`.
const VERSION: (i32, i32, i32) = (0, 1, 0);

/// Where an io call with `offset` works (`herd_iohelp::position` on the open's pointer).
fn position<O>(po: &Peropen<O>, offset: i64) -> Result<(u64, bool), Errno> {
    herd_iohelp::position(offset, po.with_pointer(|p| *p))
}

impl<N: Node> IoServer for Inner<N> {
    fn io_write(&self, req: &Request, data: Vec<u8>, offset: i64) -> Result<u64, Errno> {
        let p = self.protid(req.dest)?;
        let po = &p.po;
        if po.modes() & O_WRITE == 0 {
            return Err(Errno::EBADF);
        }
        let (mut at, move_pointer) = position(po, offset)?;
        if move_pointer && po.modes() & O_APPEND != 0 {
            at = self.node.size(&po.open);
        }
        let written = self.node.write(&po.open, at, &data)?.min(data.len() as u64);
        if move_pointer {
            po.with_pointer(|p| *p = at.saturating_add(written));
        }
        Ok(written)
    }

    fn io_read(&self, req: &Request, offset: i64, amount: u64) -> Result<Vec<u8>, Errno> {
        let p = self.protid(req.dest)?;
        let po = &p.po;
        if po.modes() & O_READ == 0 {
            return Err(Errno::EBADF);
        }
        let (at, move_pointer) = position(po, offset)?;
        let amount = amount.min(IO_MAX) as usize;
        let mut data = self.node.read(&po.open, at, amount)?;
        data.truncate(amount);
        if move_pointer {
            po.with_pointer(|p| *p = at.saturating_add(data.len() as u64));
        }
        Ok(data)
    }

    fn io_seek(&self, req: &Request, offset: i64, whence: u32) -> Result<i64, Errno> {
        let p = self.protid(req.dest)?;
        let po = &p.po;
        let size = self.node.size(&po.open);
        po.with_pointer(|pointer| {
            *pointer = herd_iohelp::seek(*pointer, size, offset, whence)?;
            Ok(*pointer as i64)
        })
    }

    fn io_readable(&self, req: &Request) -> Result<u64, Errno> {
        let p = self.protid(req.dest)?;
        let po = &p.po;
        if po.modes() & O_READ == 0 {
            return Err(Errno::EBADF);
        }
        let at = po.with_pointer(|p| *p);
        Ok(self.node.readable(&po.open, at))
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
        self.stat(&p.po.open)
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
        Ok((self.node.name().to_string(), major, minor, edit))
    }

    fn io_pathconf(&self, req: &Request, name: i32) -> Result<i64, Errno> {
        self.protid(req.dest)?;
        // _PC_LINK_MAX 0, _PC_MAX_CANON 1, _PC_MAX_INPUT 2, _PC_NAME_MAX 3, _PC_PATH_MAX 4,
        // _PC_PIPE_BUF 5: the values a device answers on Linux.
        match name {
            0 => Ok(1),
            1..=3 => Ok(255),
            4 | 5 => Ok(4096),
            _ => Err(Errno::EINVAL),
        }
    }

    fn io_identity(&self, req: &Request) -> Result<(PortArg, PortArg, u64), Errno> {
        self.protid(req.dest)?;
        let st = self.base_stat()?;
        Ok((
            self.idport.make_send_arg()?,
            self.fsidport.make_send_arg()?,
            st.ino,
        ))
    }
}
