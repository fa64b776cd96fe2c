//! Random messages: `describe`, the dispatchers and the reply decoders never panic, and a
//! request that decodes is answered with a well-formed reply.

use herd_runtime::{Errno, PortName, Region, Right};
use herd_wire::PortDescriptor;
use proptest::prelude::*;

use super::raw;
use crate::reflect::{describe, INTERFACES};

/// Every id the interfaces use, their replies, and some no one uses.
fn ids() -> Vec<u32> {
    let mut ids = vec![0, 63, 64, 67, 1099, 4242, u32::MAX];
    for iface in INTERFACES {
        for r in iface.routines {
            ids.push(r.id);
            ids.push(r.reply_id());
        }
    }
    ids
}

struct Nothing;
impl crate::test::TestServer for Nothing {}
impl crate::notify::NotifyServer for Nothing {}
impl crate::io::IoServer for Nothing {}
impl crate::fs::FsServer for Nothing {}
impl crate::fsys::FsysServer for Nothing {}
impl crate::fs_notify::FsNotifyServer for Nothing {}

proptest! {
    #[test]
    fn describe_never_panics(
        pick in any::<prop::sample::Index>(),
        data in proptest::collection::vec(any::<u8>(), 0..64),
        kinds in proptest::collection::vec((any::<u32>(), any::<u8>()), 0..3),
        ool in proptest::collection::vec(any::<u64>(), 0..3),
    ) {
        let ids = ids();
        let id = ids[pick.index(ids.len())];
        let ports: Vec<PortDescriptor> =
            kinds.iter().map(|(n, k)| PortDescriptor { name: PortName(*n), kind: *k }).collect();
        let text = describe(id, &data, &ports, &ool);
        prop_assert!(!text.is_empty());
    }

    #[test]
    fn dispatch_and_reply_decoding_never_panic(
        pick in any::<prop::sample::Index>(),
        data in proptest::collection::vec(any::<u8>(), 0..40),
        rights in 0usize..3,
        regions in 0usize..2,
    ) {
        let ids = ids();
        let id = ids[pick.index(ids.len())];
        let message = || {
            let mut msg = raw(id, &data);
            msg.ports = (0..rights).map(|_| Right::Dead).collect();
            msg.ool = (0..regions).map(|_| Region::from_bytes("f", b"r").unwrap()).collect();
            msg
        };
        if let Some(reply) = crate::test::dispatch(&Nothing, message()) {
            prop_assert_eq!(reply.id, herd_runtime::reply_id(id));
            prop_assert_eq!(reply.data.len(), 4);
        }
        // Notifications are never answered; anything else is refused with MIG_BAD_ID.
        let answered = crate::notify::dispatch(&Nothing, message()).is_some();
        prop_assert_eq!(answered, !matches!(id, 65 | 66 | 69..=72));
        if let Err(e) = crate::test::codec::decode_echo_reply(message()) {
            prop_assert_ne!(e, Errno(0));
        }
        // The file interfaces: every routine answers (EOPNOTSUPP, MIG_BAD_ID or
        // MIG_BAD_ARGUMENTS) with just a return code; their notifications never answer.
        let simple = id == crate::io::ids::IO_REAUTHENTICATE;
        for (reply, may_be_simple) in [
            (crate::io::dispatch(&Nothing, message()), simple),
            (crate::fs::dispatch(&Nothing, message()), false),
            (crate::fsys::dispatch(&Nothing, message()), false),
        ] {
            match reply {
                Some(reply) => {
                    prop_assert_eq!(reply.id, herd_runtime::reply_id(id));
                    prop_assert_eq!(reply.data.len(), 4);
                }
                None => prop_assert!(may_be_simple, "id {} was not answered", id),
            }
        }
        let answered = crate::fs_notify::dispatch(&Nothing, message()).is_some();
        prop_assert_eq!(answered, !matches!(id, 20500 | 20501));
        if let Err(e) = crate::io::codec::decode_io_stat_reply(message()) {
            prop_assert_ne!(e, Errno(0));
        }
        if let Err(e) = crate::fsys::codec::decode_fsys_getroot_request(message()) {
            prop_assert_eq!(crate::support::bad_request(&crate::Request::of(&raw(id, &[])), &e), Errno::MIG_BAD_ARGUMENTS);
        }
    }
}

proptest! {
    #[test]
    fn dirent_and_argz_decoding_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        use crate::types::{argz, dirent};
        if let Ok(entries) = dirent::decode(&data) {
            // What decodes encodes back to the same bytes.
            prop_assert_eq!(dirent::encode(&entries), data.clone());
        }
        if let Some(words) = argz::split(&data) {
            let again = argz::join(&words);
            prop_assert_eq!(argz::split(&again), Some(words));
        }
    }
}
