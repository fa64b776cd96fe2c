//! herd's libiohelp: the identity a server holds for each of its ports ([`User`], the
//! Hurd's `iouser`) and the checks made against it.
//!
//! A server learns a user's ids in one of two ways, and stores them in the port (protid)
//! it makes for that user: from its parent file system, which vouches for them in
//! `fsys_getroot` (`gen_uids`, `gen_gids`), or, once the auth server exists (issue 5),
//! from the reauthentication handshake (`io_reauthenticate`, then
//! `auth_server_authenticate`, whose answer becomes a `User` the same way). Every check
//! (`file_chmod`, opening for writing...) reads only the `User` of the port the request
//! came on. Uid 0 among the ids is the superuser.
#![forbid(unsafe_code)]

pub mod openmodes;

use herd_interfaces::types::consts::open::{O_EXEC, O_READ, O_WRITE};
use herd_interfaces::types::Stat;
use herd_runtime::Errno;

/// The most ids of each kind a user may carry (longer lists are refused with `EINVAL`).
pub const MAX_IDS: usize = 1024;

/// A user as a server sees one: effective uids and gids (the first of each is the
/// primary one, the rest are also held).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct User {
    uids: Vec<u32>,
    gids: Vec<u32>,
}

impl User {
    /// A user with these ids (duplicates dropped, order kept); `EINVAL` past [`MAX_IDS`].
    pub fn new(uids: &[u32], gids: &[u32]) -> Result<User, Errno> {
        if uids.len() > MAX_IDS || gids.len() > MAX_IDS {
            return Err(Errno::EINVAL);
        }
        Ok(User {
            uids: dedup(uids),
            gids: dedup(gids),
        })
    }

    /// The superuser (uid 0, gid 0).
    pub fn root() -> User {
        User {
            uids: vec![0],
            gids: vec![0],
        }
    }

    /// A user with no ids at all: may do only what "others" may.
    pub fn nobody() -> User {
        User::default()
    }

    /// The uids.
    pub fn uids(&self) -> &[u32] {
        &self.uids
    }

    /// The gids.
    pub fn gids(&self) -> &[u32] {
        &self.gids
    }

    /// Whether uid 0 is among the uids.
    pub fn is_root(&self) -> bool {
        self.has_uid(0)
    }

    /// Whether `uid` is among the uids.
    pub fn has_uid(&self, uid: u32) -> bool {
        self.uids.contains(&uid)
    }

    /// Whether `gid` is among the gids.
    pub fn has_gid(&self, gid: u32) -> bool {
        self.gids.contains(&gid)
    }

    /// Whether the user owns the node (or is root): `fshelp_isowner`.
    pub fn is_owner(&self, st: &Stat) -> bool {
        self.is_root() || self.has_uid(st.uid)
    }

    /// `EPERM` unless the user owns the node.
    pub fn check_owner(&self, st: &Stat) -> Result<(), Errno> {
        if self.is_owner(st) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// What the user may do with the node: `O_READ | O_WRITE | O_EXEC` bits, from the
    /// owner, group or other permission bits (root may read and write anything, and
    /// execute what anyone may).
    pub fn access(&self, st: &Stat) -> u32 {
        let bits = |perm: u32| {
            let mut allowed = 0;
            if perm & 4 != 0 {
                allowed |= O_READ;
            }
            if perm & 2 != 0 {
                allowed |= O_WRITE;
            }
            if perm & 1 != 0 {
                allowed |= O_EXEC;
            }
            allowed
        };
        if self.is_root() {
            let exec = if st.mode & 0o111 != 0 { O_EXEC } else { 0 };
            return O_READ | O_WRITE | exec;
        }
        let perm = if self.has_uid(st.uid) {
            st.mode >> 6
        } else if self.has_gid(st.gid) {
            st.mode >> 3
        } else {
            st.mode
        };
        bits(perm & 7)
    }

    /// `EACCES` unless the user may do all of `flags`' `O_READ`/`O_WRITE`/`O_EXEC`.
    pub fn check_open(&self, st: &Stat, flags: u32) -> Result<(), Errno> {
        let wanted = flags & (O_READ | O_WRITE | O_EXEC);
        if wanted & !self.access(st) == 0 {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    }

    /// The user `io_restrict_auth` makes: root becomes exactly the ids given; anyone else
    /// keeps only the ids both have.
    pub fn restrict(&self, uids: &[u32], gids: &[u32]) -> Result<User, Errno> {
        if self.is_root() {
            return User::new(uids, gids);
        }
        let keep = |mine: &[u32], given: &[u32]| -> Vec<u32> {
            mine.iter()
                .copied()
                .filter(|id| given.contains(id))
                .collect()
        };
        User::new(&keep(&self.uids, uids), &keep(&self.gids, gids))
    }
}

/// Where an io call with `offset` works, given the open's file `pointer`: the offset
/// itself, or for -1 the pointer (`true`: the call moves it). Other negative offsets are
/// `EINVAL`.
pub fn position(offset: i64, pointer: u64) -> Result<(u64, bool), Errno> {
    match offset {
        -1 => Ok((pointer, true)),
        o => u64::try_from(o)
            .map(|o| (o, false))
            .map_err(|_| Errno::EINVAL),
    }
}

/// `io_seek`: the new file pointer for `offset` from `whence` (`SEEK_SET`, `SEEK_CUR`
/// from `pointer`, `SEEK_END` from `size`); `EINVAL` for a bad `whence` or a result
/// below 0 or past `i64::MAX`.
pub fn seek(pointer: u64, size: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
    use herd_interfaces::types::consts::seek::{SEEK_CUR, SEEK_END, SEEK_SET};
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => pointer,
        SEEK_END => size,
        _ => return Err(Errno::EINVAL),
    };
    i64::try_from(base)
        .ok()
        .and_then(|b| b.checked_add(offset))
        .filter(|n| *n >= 0)
        .map(|n| n as u64)
        .ok_or(Errno::EINVAL)
}

fn dedup(ids: &[u32]) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(uid: u32, gid: u32, mode: u32) -> Stat {
        Stat {
            uid,
            gid,
            mode,
            ..Stat::default()
        }
    }

    #[test]
    fn owner_group_and_other_bits_decide() {
        let st = node(1000, 100, 0o100_640);
        let owner = User::new(&[1000], &[1000]).unwrap();
        let group = User::new(&[2000], &[7, 100]).unwrap();
        let other = User::new(&[3000], &[3000]).unwrap();
        assert_eq!(owner.access(&st), O_READ | O_WRITE);
        assert_eq!(group.access(&st), O_READ);
        assert_eq!(other.access(&st), 0);
        assert_eq!(User::root().access(&st), O_READ | O_WRITE);
        assert_eq!(
            User::root().access(&node(1, 1, 0o001)),
            O_READ | O_WRITE | O_EXEC
        );
        assert!(owner.check_open(&st, O_READ | O_WRITE).is_ok());
        assert_eq!(group.check_open(&st, O_WRITE), Err(Errno::EACCES));
        assert!(other.check_open(&st, 0).is_ok(), "O_NORW needs nothing");
        assert!(owner.check_owner(&st).is_ok() && User::root().is_owner(&st));
        assert_eq!(group.check_owner(&st), Err(Errno::EPERM));
        assert_eq!(User::nobody().access(&node(1, 1, 0o004)), O_READ);
    }

    #[test]
    fn positions_and_seeks() {
        use herd_interfaces::types::consts::seek::{SEEK_CUR, SEEK_END, SEEK_SET};
        assert_eq!(position(-1, 7), Ok((7, true)));
        assert_eq!(position(3, 7), Ok((3, false)));
        assert_eq!(position(-2, 7), Err(Errno::EINVAL));
        assert_eq!(seek(5, 100, 2, SEEK_CUR), Ok(7));
        assert_eq!(seek(5, 100, -1, SEEK_END), Ok(99));
        assert_eq!(seek(5, 100, 4, SEEK_SET), Ok(4));
        assert_eq!(seek(5, 100, -6, SEEK_CUR), Err(Errno::EINVAL));
        assert_eq!(seek(0, u64::MAX, 0, SEEK_END), Err(Errno::EINVAL));
        assert_eq!(seek(0, 0, 0, 9), Err(Errno::EINVAL));
    }

    #[test]
    fn restrict_intersects_unless_root() {
        let u = User::new(&[5, 6, 5], &[1]).unwrap();
        assert_eq!(u.uids(), [5, 6]);
        let r = u.restrict(&[6, 7], &[2]).unwrap();
        assert_eq!((r.uids(), r.gids()), (&[6][..], &[][..]));
        let r = User::root().restrict(&[7], &[8]).unwrap();
        assert_eq!((r.uids(), r.gids()), (&[7][..], &[8][..]));
        assert_eq!(User::new(&[0; MAX_IDS + 1], &[]), Err(Errno::EINVAL));
    }
}
