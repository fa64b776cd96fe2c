//! herd's auth server: what the Hurd's `auth` is.
//!
//! An identity is an auth handle: a send right to an object here holding four id sets
//! ([`Ids`]: effective and available uids and gids). Holding the right is holding the
//! identity, so a server never sees a client's handle: it learns the client's ids only
//! through the rendezvous handshake (`auth_user_authenticate` from the client and
//! `auth_server_authenticate` from the server, matched by the rendezvous port they both
//! pass; the kernel shows one port under one name in this task, so the names match).
//! `auth_makeauth` makes new handles: any subset of what the caller holds, anything at all
//! for the superuser.
#![forbid(unsafe_code)]

mod rendezvous;
mod server;

pub use server::AuthServer;

/// The four id sets of an identity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    /// Effective uids (the first is the one that acts; 0 among them is the superuser).
    pub euids: Vec<u32>,
    /// Available uids (real, saved, ...).
    pub auids: Vec<u32>,
    /// Effective gids.
    pub egids: Vec<u32>,
    /// Available gids.
    pub agids: Vec<u32>,
}

/// The most ids of one kind a handle may hold.
pub const MAX_IDS: usize = 256;

impl Ids {
    /// The superuser: uid 0 and gid 0, effective and available.
    pub fn root() -> Ids {
        Ids {
            euids: vec![0],
            auids: vec![0],
            egids: vec![0],
            agids: vec![0],
        }
    }

    /// Whether uid 0 is among the effective uids.
    pub fn is_superuser(&self) -> bool {
        self.euids.contains(&0)
    }

    /// Whether `holders` together may make a handle with `want`: the superuser may make
    /// anything; anyone else only ids (of each kind, effective or available) that they
    /// hold, effective or available. Returns `false` for sets past [`MAX_IDS`].
    pub fn may_make(holders: &[&Ids], want: &Ids) -> bool {
        let sizes = [&want.euids, &want.auids, &want.egids, &want.agids];
        if sizes.iter().any(|v| v.len() > MAX_IDS) {
            return false;
        }
        if holders.iter().any(|h| h.is_superuser()) {
            return true;
        }
        let has_uid = |id: &u32| {
            holders
                .iter()
                .any(|h| h.euids.contains(id) || h.auids.contains(id))
        };
        let has_gid = |id: &u32| {
            holders
                .iter()
                .any(|h| h.egids.contains(id) || h.agids.contains(id))
        };
        want.euids.iter().chain(&want.auids).all(has_uid)
            && want.egids.iter().chain(&want.agids).all(has_gid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32, gid: u32) -> Ids {
        Ids {
            euids: vec![uid],
            auids: vec![uid, uid],
            egids: vec![gid],
            agids: vec![gid],
        }
    }

    #[test]
    fn makeauth_rules_restrict_merge_and_the_superuser() {
        let alice = user(1000, 100);
        let bob = user(1001, 101);
        // Restricting to a subset (or to nothing) is always allowed.
        let none = Ids::default();
        assert!(Ids::may_make(&[&alice], &none));
        assert!(Ids::may_make(&[&alice], &alice));
        // Another user's ids are not, unless their handle is merged in.
        let both = Ids {
            euids: vec![1000, 1001],
            auids: vec![],
            egids: vec![100, 101],
            agids: vec![],
        };
        assert!(!Ids::may_make(&[&alice], &both));
        assert!(Ids::may_make(&[&alice, &bob], &both));
        // An available id may become effective (setuid's saved id).
        let swapped = Ids {
            euids: vec![1000],
            ..Ids::default()
        };
        let saved = Ids {
            euids: vec![],
            auids: vec![1000],
            ..Ids::default()
        };
        assert!(Ids::may_make(&[&saved], &swapped));
        // The superuser makes anything; nobody makes absurdly large sets.
        let anyone = user(4242, 4242);
        assert!(Ids::may_make(&[&Ids::root()], &anyone));
        assert!(!Ids::may_make(&[&alice], &anyone));
        let huge = Ids {
            euids: vec![0; MAX_IDS + 1],
            ..Ids::default()
        };
        assert!(!Ids::may_make(&[&Ids::root()], &huge));
    }
}
