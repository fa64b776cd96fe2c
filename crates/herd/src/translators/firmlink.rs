//! `herd firmlink TARGET`: a link resolved in the translator's own namespace, as the
//! Hurd's `/hurd/firmlink`. Where a symlink hands the name back to the looker-up, a
//! firmlink looks `TARGET` up itself, from the root its kernel publishes (the special port
//! `root`), for the ids the parent vouched for (the root port restricted to them with
//! `io_restrict_auth`), and answers the port it found as the node. It then asks that node
//! for a port whose `..` leads back to the directory the link sits in (`file_reparent`,
//! as the Hurd's firmlink does); a server that does not do that answers the node as it is.
//! The link itself (looked up with `O_NOLINK`) shows `S_IFLNK` and reads as its target.
//! A firmlink whose target leads back through itself gets `ELOOP`: at most
//! [`MAX_NESTED`] of its lookups run at once.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use clap::Args;
use herd_interfaces::types::consts::fstype::FSTYPE_MISC;
use herd_interfaces::types::consts::mode::S_IFLNK;
use herd_interfaces::types::consts::open::{O_CREAT, O_EXCL, O_NOLINK, O_NOTRANS};
use herd_interfaces::types::consts::retry::FS_RETRY_NORMAL;
use herd_interfaces::{fs, io};
use herd_runtime::{Errno, PortArg, SendRight, Task};
use herd_trivfs::{Node, Redirect, User};

use super::symlink::{parse_target, LinkNode};
use super::NodeArgs;

/// How many lookups of the target may run at once: a target that leads back through
/// the link nests them, and the next is `ELOOP`.
pub const MAX_NESTED: usize = 8;

/// Arguments of `herd firmlink`.
#[derive(Args, Debug)]
pub struct FirmlinkArgs {
    /// The path the link leads to, looked up in the translator's namespace (relative
    /// paths start at its root too).
    #[arg(value_parser = parse_target)]
    target: String,
    #[command(flatten)]
    node: NodeArgs,
}

/// The firmlink translator's node.
pub struct Firmlink {
    link: LinkNode,
    /// Lookups of the target in progress.
    nested: AtomicUsize,
}

/// Counts one lookup in progress while it lives.
struct Nesting<'a>(&'a AtomicUsize);

impl Drop for Nesting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Firmlink {
    /// A firmlink to `target`.
    pub fn new(target: String) -> Firmlink {
        Firmlink {
            link: LinkNode {
                name: "firmlink",
                target,
            },
            nested: AtomicUsize::new(0),
        }
    }

    /// Looks the target up from the translator's root for `user`, with `flags` less
    /// those that concern the link itself or creation.
    fn open_target(&self, task: &Task, user: &User, flags: u32) -> Result<SendRight, Errno> {
        let _nesting = Nesting(&self.nested);
        if self.nested.fetch_add(1, Ordering::SeqCst) >= MAX_NESTED {
            return Err(Errno::ELOOP);
        }
        let root = task.special_port("root").map_err(|_| Errno::ENOENT)?;
        let root = io::io_restrict_auth(task, &root, user.uids(), user.gids())?
            .into_send()
            .ok_or(herd_hurd::errno::EPROTO)?;
        let flags = flags & !(O_NOLINK | O_NOTRANS | O_CREAT | O_EXCL);
        herd_hurd::lookup(task, &root, &root, self.link.target.as_bytes(), flags, 0)
    }
}

impl Node for Firmlink {
    type Open = ();

    fn name(&self) -> &str {
        self.link.name
    }

    fn fstype(&self) -> u32 {
        FSTYPE_MISC
    }

    fn file_type(&self) -> u32 {
        S_IFLNK
    }

    fn open(&self, _user: &User, flags: u32) -> Result<(), Errno> {
        self.link.open(flags)
    }

    fn read(&self, _open: &(), offset: u64, amount: usize) -> Result<Vec<u8>, Errno> {
        Ok(self.link.read(offset, amount))
    }

    fn size(&self, _open: &()) -> u64 {
        self.link.target.len() as u64
    }

    fn set_size(&self, _open: &(), _size: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn getroot(
        &self,
        task: &Task,
        dotdot: Option<SendRight>,
        user: &User,
        flags: u32,
    ) -> Result<Option<Redirect>, Errno> {
        if flags & O_NOLINK != 0 {
            return Ok(None);
        }
        let node = self.open_target(task, user, flags)?;
        let port = match dotdot {
            Some(dir) => match fs::file_reparent(task, &node, PortArg::MoveSend(dir)) {
                Ok(r) => r.into_send().unwrap_or(node),
                Err(e) => {
                    tracing::debug!(%e, "file_reparent refused: the node as it is");
                    node
                }
            },
            None => node,
        };
        Ok(Some(Redirect {
            do_retry: FS_RETRY_NORMAL,
            name: String::new(),
            port: Some(port),
        }))
    }

    fn passive(&self) -> Option<Vec<String>> {
        Some(self.link.record())
    }

    fn options(&self) -> Vec<String> {
        vec![self.link.target.clone()]
    }
}

/// Runs `herd firmlink`.
pub fn run(args: FirmlinkArgs) -> Result<()> {
    super::run(Firmlink::new(args.target), args.node, 0o777)
}
