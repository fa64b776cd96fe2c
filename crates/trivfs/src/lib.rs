//! herd's libtrivfs: a server that is a single node, such as a device (`null`, `zero`,
//! `random`) or a file whose contents are made up on each open (`fortune`).
//!
//! A translator implements [`Node`] (its reads, writes, size and status) and hands it to
//! [`Trivfs`], which serves everything else on [`herd_ports`]:
//!
//! - the io interface on the node's ports (protids: one per open, each with the user it
//!   was opened for and the open it shares with `io_duplicate`d ports): `io_read`,
//!   `io_write`, `io_seek`, `io_readable`, the open modes, `io_stat`, `io_duplicate`,
//!   `io_restrict_auth`, `io_identity`, `io_server_version`;
//! - the fs routines that make sense for one node: `file_chmod`, `file_chown`,
//!   `file_chauthor` and `file_utimes` (owner only), `file_set_size`, `file_sync`,
//!   `file_syncfs`, `file_statfs`, `file_check_access`, `file_getcontrol`,
//!   `file_get_fs_options`, and `dir_lookup` with an empty name (a re-open; any other
//!   name is `ENOTDIR`);
//! - the fsys interface on the control port: `fsys_getroot` (an open for the user the
//!   caller vouches for), `fsys_goaway` (refused with `EBUSY` while the node is open,
//!   unless forced), `fsys_set_options`, `fsys_get_options`, `fsys_syncfs`,
//!   `fsys_get_source`.
//!
//! A node may also answer `fsys_getroot` with a retry instead of an open of itself
//! ([`Node::getroot`], as the `symlink` and `firmlink` translators do) and name its own
//! passive record for `file_get_translator` ([`Node::passive`]).
//!
//! The node's owner, group and permission bits are those of the node it sits on (its
//! `realnode`, from the bootstrap handshake: `chmod` and `chown` go there, after the
//! owner check), or, with no such node, the [`Attrs`] it was started with. Startup follows
//! the bootstrap protocol of `docs/namespace.md` ([`bootstrap`]).
#![forbid(unsafe_code)]

/// The bootstrap handshake (moved to `herd-fshelp`, re-exported for translators).
pub use herd_fshelp::bootstrap;
mod fs;
mod fsys;
mod io;
mod server;

pub use herd_iohelp::User;
pub use server::{Attrs, Trivfs, TrivfsError};

use herd_interfaces::types::consts::{fstype::FSTYPE_DEV, mode::S_IFCHR};
use herd_interfaces::types::Stat;
use herd_runtime::{Errno, SendRight, Task};

/// A node's own answer to `fsys_getroot` instead of an open of itself (libtrivfs's
/// `trivfs_getroot_hook`): a retry the looker-up follows, as a symlink answers.
#[derive(Debug)]
pub struct Redirect {
    /// `FS_RETRY_*`.
    pub do_retry: u32,
    /// The name to look up at `port` (or, for `FS_RETRY_MAGICAL`, the magic string).
    pub name: String,
    /// Where to go on (`None`: no port, as for `FS_RETRY_MAGICAL`).
    pub port: Option<SendRight>,
}

/// What a one-node translator supplies (libtrivfs's `trivfs_*` hooks). Every method but
/// [`Node::open`] has a default: a node that cannot be read or written refuses with
/// `EOPNOTSUPP`, has size 0 and takes no options.
pub trait Node: Send + Sync + 'static {
    /// What each open keeps (the Hurd's per-open hook): chosen in [`Node::open`] and
    /// shared by every port of that open.
    type Open: Send + Sync + 'static;

    /// The server's name: the first word of its options, and `io_server_version`'s answer.
    fn name(&self) -> &str;

    /// `Stat::fstype` (the Hurd's `trivfs_fstype`).
    fn fstype(&self) -> u32 {
        FSTYPE_DEV
    }

    /// The node's file type bits (`S_IFCHR`, `S_IFREG`...); the permission bits come from
    /// the underlying node or the [`Attrs`].
    fn file_type(&self) -> u32 {
        S_IFCHR
    }

    /// A new open by `user` with `flags` (`O_READ`, `O_WRITE`...): the permission bits
    /// were already checked. Refuse what the node does not support (`EOPNOTSUPP` for
    /// writing a read-only node, say).
    fn open(&self, user: &User, flags: u32) -> Result<Self::Open, Errno>;

    /// Up to `amount` bytes at `offset` (at most `IO_MAX`; trivfs bounds it). An empty
    /// answer is the end of the file.
    fn read(&self, open: &Self::Open, offset: u64, amount: usize) -> Result<Vec<u8>, Errno> {
        let _ = (open, offset, amount);
        Err(Errno::EOPNOTSUPP)
    }

    /// Writes `data` at `offset`; answers how many bytes were taken.
    fn write(&self, open: &Self::Open, offset: u64, data: &[u8]) -> Result<u64, Errno> {
        let _ = (open, offset, data);
        Err(Errno::EOPNOTSUPP)
    }

    /// The size `io_stat` shows and `SEEK_END` and `O_APPEND` use.
    fn size(&self, open: &Self::Open) -> u64 {
        let _ = open;
        0
    }

    /// How many bytes can be read at `offset` without waiting.
    fn readable(&self, open: &Self::Open, offset: u64) -> u64 {
        self.size(open).saturating_sub(offset)
    }

    /// `file_set_size` (and `O_TRUNC`): a device takes a size of 0 and nothing else.
    fn set_size(&self, open: &Self::Open, size: u64) -> Result<(), Errno> {
        let _ = open;
        if size == 0 {
            Ok(())
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// Last changes to a status before it is answered (`trivfs_modify_stat`).
    fn modify_stat(&self, open: &Self::Open, st: &mut Stat) {
        let _ = (open, st);
    }

    /// The options after the name, for `fsys_get_options`.
    fn options(&self) -> Vec<String> {
        Vec::new()
    }

    /// Changes options at run time (`fsys_set_options`); the words come without the name.
    fn set_options(&self, words: &[String]) -> Result<(), Errno> {
        if words.is_empty() {
            Ok(())
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// `fsys_getroot` for `user` with `flags`, before trivfs opens the node: `Ok(None)`
    /// opens it as usual (the default); `Some` answers that retry instead. `dotdot` is the
    /// directory the node sits in (where a relative name goes on from), if the parent gave
    /// one.
    fn getroot(
        &self,
        task: &Task,
        dotdot: Option<SendRight>,
        user: &User,
        flags: u32,
    ) -> Result<Option<Redirect>, Errno> {
        let _ = (task, dotdot, user, flags);
        Ok(None)
    }

    /// The passive translator record `file_get_translator` answers (`None`: `EINVAL`, no
    /// record), as a symlink answers `/hurd/symlink TARGET`.
    fn passive(&self) -> Option<Vec<String>> {
        None
    }

    /// The server is about to go away (`fsys_goaway` with `flags`); an error keeps it.
    fn goaway(&self, flags: u32) -> Result<(), Errno> {
        let _ = flags;
        Ok(())
    }
}
