//! herd's libfshelp: what every file server needs to host translators on its nodes.
//!
//! - [`bootstrap`]: the `fsys_startup` handshake, both sides (the translator's
//!   [`bootstrap::startup`], the parent's [`bootstrap::accept_startup`] with a deadline and
//!   early news of a translator that dies first).
//! - [`Launcher`]: starts a translator command (`/hurd/NAME ARGS...` runs herd's own
//!   `NAME` server) as a kernel task with a bootstrap port, waits for its `fsys_startup`
//!   within a bounded time, and gives back its control port ([`Launcher::start`], the
//!   Hurd's `fshelp_start_translator`). A translator that dies or never answers is an
//!   error within that time, and one that hangs is killed.
//! - [`TransBox`]: one node's active translator (the Hurd's `transbox`).
//!   [`TransBox::fetch_root`] is what a lookup that crosses the node calls: it starts the
//!   node's passive translator if none runs (one start, concurrent lookups wait for it),
//!   asks the translator for its root with a deadline, and restarts a dead translator once
//!   from its passive record. [`TransBox::set_active`] and [`TransBox::goaway`] give
//!   `settrans` semantics.
//! - Owner checks for translators ([`check_translator_owner`], [`owner_user`]): any user
//!   may set translators on the nodes they own, and a passive translator runs as its
//!   node's owner.
//!
//! `docs/namespace.md` describes the protocol these follow.
#![forbid(unsafe_code)]

pub mod bootstrap;
mod start;
mod transbox;

pub use start::{Launcher, Running, StartError, DEFAULT_START_TIMEOUT, HERD_SERVERS};
pub use transbox::{getroot, Crossing, Retry, TransBox};

use herd_interfaces::types::Stat;
use herd_iohelp::User;
use herd_runtime::Errno;

/// `EPERM` unless `user` may set or clear translators on a node with status `st`: its
/// owner or root (the Hurd's `fshelp_isowner` check in `file_set_translator`).
pub fn check_translator_owner(user: &User, st: &Stat) -> Result<(), Errno> {
    user.check_owner(st)
}

/// The user a passive translator on a node with status `st` runs as, and for whom its
/// realnode is opened: the node's owner and group.
pub fn owner_user(st: &Stat) -> User {
    User::new(&[st.uid], &[st.gid]).unwrap_or_else(|_| User::nobody())
}

/// A translator command line from its argz form (`/hurd/zero\0--mode\0600\0`):
/// `EINVAL` if it does not decode, `None` if it is empty (no translator).
pub fn command_from_argz(record: &[u8]) -> Result<Option<Vec<String>>, Errno> {
    if record.is_empty() {
        return Ok(None);
    }
    let words = herd_interfaces::types::argz::split(record).ok_or(Errno::EINVAL)?;
    Ok(if words.is_empty() { None } else { Some(words) })
}

/// The longest path a server's `dir_lookup` takes (and the longest a symlink may make it).
pub const PATH_MAX: usize = 4096;

/// How many symlinks one lookup inside a server follows before `ELOOP`.
pub const MAX_SYMLINKS: u32 = 32;

/// `rest` after `first` with a `/` between (either may be empty): how a server splices a
/// symlink's target or a translator's answer before the rest of a path.
pub fn join_path(first: &str, rest: &str) -> String {
    match (first.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (false, true) => first.to_string(),
        (false, false) => format!("{first}/{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argz_commands() {
        assert_eq!(command_from_argz(b""), Ok(None));
        assert_eq!(
            command_from_argz(b"/hurd/zero\0-x\0"),
            Ok(Some(vec!["/hurd/zero".to_string(), "-x".to_string()]))
        );
        let st = Stat {
            uid: 5,
            gid: 6,
            ..Stat::default()
        };
        let owner = owner_user(&st);
        assert_eq!((owner.uids(), owner.gids()), (&[5][..], &[6][..]));
        assert!(check_translator_owner(&owner, &st).is_ok());
        assert_eq!(
            check_translator_owner(&User::new(&[7], &[6]).unwrap(), &st),
            Err(Errno::EPERM)
        );
    }
}
