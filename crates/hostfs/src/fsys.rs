//! The fsys interface on the control port: roots for users, options, go-away.

use std::sync::Arc;
use std::time::Duration;

use herd_interfaces::fsys::FsysServer;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::Request;
use herd_iohelp::User;
use herd_runtime::{Errno, PortArg, Right};

use crate::{Inner, Parent};

/// How long `fsys_goaway` waits for RPCs in progress.
const DRAIN: Duration = Duration::from_secs(2);

impl Inner {
    /// The server's options: its name, the host directory, `--read-only` if so.
    pub(crate) fn options_words(&self) -> Vec<String> {
        let mut words = vec![
            "hostfs".to_string(),
            self.options.dir.to_string_lossy().into_owned(),
        ];
        if self.options.read_only {
            words.push("--read-only".into());
        }
        words
    }
}

impl FsysServer for Inner {
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
        let dotdot = dotdot.into_send().map(|port| {
            Arc::new(Parent {
                at: Vec::new(),
                port,
            })
        });
        self.open_node(&user, Vec::new(), flags, None, &dotdot)
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
            return Err(Errno::EBUSY);
        }
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

    fn fsys_get_options(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.check_control(req.dest)?;
        Ok(argz::join(&self.options_words()))
    }

    fn fsys_get_source(&self, req: &Request) -> Result<String, Errno> {
        self.check_control(req.dest)?;
        Ok(self.options.dir.to_string_lossy().into_owned())
    }
}
