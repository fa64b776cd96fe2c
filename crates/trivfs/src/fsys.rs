//! The fsys interface on the control port: roots for users, options, go-away.

use std::time::Duration;

use herd_interfaces::fsys::FsysServer;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::retry::FS_RETRY_NORMAL;
use herd_interfaces::Request;
use herd_iohelp::User;
use herd_runtime::{Errno, PortArg, Right};

use crate::server::Inner;
use crate::Node;

/// How long `fsys_goaway` waits for RPCs in progress on the node's ports.
const DRAIN: Duration = Duration::from_secs(2);

impl<N: Node> FsysServer for Inner<N> {
    fn fsys_getroot(
        &self,
        req: &Request,
        dotdot: Right,
        gen_uids: Vec<u32>,
        gen_gids: Vec<u32>,
        flags: u32,
    ) -> Result<(u32, String, PortArg), Errno> {
        self.check_control(req.dest)?;
        let user = User::new(&gen_uids, &gen_gids)?;
        if let Some(r) = self
            .node
            .getroot(&self.task, dotdot.into_send(), &user, flags)?
        {
            let port = r.port.map_or(PortArg::Null, PortArg::MoveSend);
            return Ok((r.do_retry, r.name, port));
        }
        let port = self.open(user, flags)?;
        Ok((FS_RETRY_NORMAL, String::new(), PortArg::MoveSend(port)))
    }

    fn fsys_goaway(&self, req: &Request, flags: u32) -> Result<(), Errno> {
        self.check_control(req.dest)?;
        let force = flags & FSYS_GOAWAY_FORCE != 0;
        let inhibited = match self.protids.inhibit(DRAIN) {
            Ok(i) => Some(i),
            Err(e) if !force => return Err(e),
            Err(_) => None,
        };
        if !force && self.protids.count() > 0 {
            tracing::debug!(opens = self.protids.count(), "goaway refused: node in use");
            return Err(Errno::EBUSY);
        }
        self.node.goaway(flags)?;
        tracing::info!(flags, "going away");
        if let Some(i) = inhibited {
            i.keep();
        }
        self.bucket.shutdown();
        Ok(())
    }

    fn fsys_syncfs(&self, req: &Request, _wait: bool, _do_children: bool) -> Result<(), Errno> {
        self.check_control(req.dest)
    }

    fn fsys_set_options(
        &self,
        req: &Request,
        options: Vec<u8>,
        _do_children: bool,
    ) -> Result<(), Errno> {
        self.check_control(req.dest)?;
        let mut words = argz::split(&options).ok_or(Errno::EINVAL)?;
        // The server's own name may lead, as fsysopts sends it.
        if words.first().map(String::as_str) == Some(self.node.name()) {
            words.remove(0);
        }
        self.node.set_options(&words)
    }

    fn fsys_get_options(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.check_control(req.dest)?;
        Ok(argz::join(&self.options()))
    }

    fn fsys_get_source(&self, req: &Request) -> Result<String, Errno> {
        self.check_control(req.dest)?;
        Ok(String::new())
    }
}
