//! The generated dispatchers: routing by id, MIG error replies, simpleroutines, and the
//! notify interface decoding messages exactly as the kernel builds them.

use std::sync::Mutex;

use herd_runtime::{Errno, OutMessage, PortArg, PortName, Region, Right};

use super::{deliver, raw};
use crate::support::MIG_REPLY_MISMATCH;
use crate::test::{codec, ids, TestServer};
use crate::{notify, Request};

/// A test server that answers from its arguments and remembers simpleroutines.
#[derive(Default)]
struct Echo {
    pokes: Mutex<Vec<(u32, Request)>>,
}

impl TestServer for Echo {
    fn ping(&self, _req: &Request) -> Result<(), Errno> {
        Ok(())
    }
    fn echo(&self, _req: &Request, data: Vec<u8>) -> Result<Vec<u8>, Errno> {
        Ok(data)
    }
    fn add(&self, _req: &Request, a: i64, b: i64) -> Result<i64, Errno> {
        a.checked_add(b).ok_or(Errno::EINVAL)
    }
    fn fail(&self, _req: &Request, errno: i32) -> Result<(), Errno> {
        match errno {
            0 => Ok(()),
            e => Err(Errno(e)),
        }
    }
    fn poke(&self, req: &Request, n: u32) {
        self.pokes.lock().unwrap().push((n, *req));
    }
}

/// The return code of a reply.
fn code(reply: &OutMessage) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&reply.data[..4]);
    i32::from_le_bytes(b)
}

fn call(msg: OutMessage) -> OutMessage {
    crate::test::dispatch(&Echo::default(), deliver(msg)).expect("a routine is answered")
}

fn dest() -> PortArg {
    PortArg::CopySend(PortName(3))
}

#[test]
fn routines_are_served_and_answered() {
    let reply = call(codec::encode_add_request(dest(), 40, 2));
    assert_eq!(reply.id, 1103);
    assert_eq!(codec::decode_add_reply(deliver(reply)), Ok(42));
    let reply = call(codec::encode_echo_request(dest(), b"abc"));
    assert_eq!(codec::decode_echo_reply(deliver(reply)).unwrap(), b"abc");
    let reply = call(codec::encode_add_request(dest(), i64::MAX, 1));
    assert_eq!(codec::decode_add_reply(deliver(reply)), Err(Errno::EINVAL));
    let reply = call(codec::encode_fail_request(dest(), Errno::ENOENT.0));
    assert_eq!(codec::decode_fail_reply(deliver(reply)), Err(Errno::ENOENT));
    let reply = call(codec::encode_fail_request(dest(), 0));
    assert_eq!(codec::decode_fail_reply(deliver(reply)), Ok(()));
}

#[test]
fn unimplemented_routines_answer_eopnotsupp() {
    let region = Region::from_bytes("t", b"r").unwrap();
    let reply = call(codec::encode_echo_region_request(dest(), region));
    assert_eq!(code(&reply), Errno::EOPNOTSUPP.0);
    let reply = call(codec::encode_make_port_request(dest()));
    assert_eq!(
        codec::decode_make_port_reply(deliver(reply)).unwrap_err(),
        Errno::EOPNOTSUPP
    );
}

#[test]
fn unknown_ids_and_bad_bodies_get_mig_codes() {
    let server = Echo::default();
    let reply = crate::test::dispatch(&server, raw(1050, &[1, 2, 3])).unwrap();
    assert_eq!((reply.id, code(&reply)), (1150, Errno::MIG_BAD_ID.0));
    assert_eq!(reply.data.len(), 4);
    let reply = crate::test::dispatch(&server, raw(ids::ADD, &[1, 2, 3])).unwrap();
    assert_eq!((reply.id, code(&reply)), (1103, Errno::MIG_BAD_ARGUMENTS.0));
    let reply = crate::test::dispatch(&server, raw(ids::PING, &[0])).unwrap();
    assert_eq!(
        codec::decode_ping_reply(deliver(reply)),
        Err(Errno::MIG_BAD_ARGUMENTS)
    );
    // try_dispatch hands foreign messages back for the next interface.
    let back = crate::test::try_dispatch(&server, raw(70, &[1, 0, 0, 0])).unwrap_err();
    assert_eq!((back.id, back.data), (70, vec![1, 0, 0, 0]));
    // A reply id is not a request.
    let reply = crate::test::dispatch(&server, raw(1100, &[0; 4])).unwrap();
    assert_eq!(code(&reply), Errno::MIG_BAD_ID.0);
    assert_eq!(
        codec::decode_ping_reply(deliver(reply)),
        Err(MIG_REPLY_MISMATCH),
        "the refusal of id 1100 has id 1200"
    );
}

#[test]
fn simpleroutines_get_no_reply_even_when_malformed() {
    let server = Echo::default();
    let mut msg = deliver(codec::encode_poke_request(dest(), 9));
    msg.seqno = 77;
    assert!(crate::test::dispatch(&server, msg).is_none());
    assert!(crate::test::dispatch(&server, raw(ids::POKE, &[1])).is_none());
    let pokes = server.pokes.lock().unwrap();
    assert_eq!(pokes.len(), 1);
    let (n, req) = pokes[0];
    assert_eq!(n, 9);
    assert_eq!(
        req,
        Request {
            id: ids::POKE,
            seqno: 77,
            dest: PortName(3)
        }
    );
}

/// A notify server that writes down what it was told.
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl notify::NotifyServer for Notes {
    fn port_deleted(&self, _req: &Request, name: PortName) {
        self.0.lock().unwrap().push(format!("deleted {name}"));
    }
    fn port_destroyed(&self, _req: &Request, rights: Right) {
        self.0
            .lock()
            .unwrap()
            .push(format!("destroyed {:?}", rights.name()));
    }
    fn no_senders(&self, req: &Request, mscount: u32) {
        self.0
            .lock()
            .unwrap()
            .push(format!("no senders on {} at {mscount}", req.dest));
    }
    fn send_once(&self, _req: &Request) {
        self.0.lock().unwrap().push("send once".to_string());
    }
    fn dead_name(&self, _req: &Request, name: PortName) {
        self.0.lock().unwrap().push(format!("dead {name}"));
    }
}

#[test]
fn notifications_decode_as_the_kernel_sends_them() {
    let notes = Notes::default();
    let kernel_sent = |id: u32, data: &[u8], ports: Vec<Right>| {
        let mut msg = raw(id, data);
        msg.ports = ports;
        notify::dispatch(&notes, msg)
    };
    assert!(kernel_sent(65, &7u32.to_le_bytes(), vec![]).is_none());
    assert!(kernel_sent(66, &7u32.to_le_bytes(), vec![]).is_none());
    assert!(kernel_sent(69, &[], vec![Right::Dead]).is_none());
    assert!(kernel_sent(70, &12u32.to_le_bytes(), vec![]).is_none());
    assert!(kernel_sent(71, &[], vec![]).is_none());
    assert!(kernel_sent(72, &9u32.to_le_bytes(), vec![]).is_none());
    assert!(kernel_sent(70, &[1, 2], vec![]).is_none());
    assert_eq!(
        *notes.0.lock().unwrap(),
        vec![
            "deleted 7",
            "destroyed DEAD",
            "no senders on 3 at 12",
            "send once",
            "dead 9"
        ]
    );
    assert_eq!(
        [
            notify::ids::PORT_DELETED,
            notify::ids::MSG_ACCEPTED,
            notify::ids::PORT_DESTROYED
        ],
        [65, 66, 69]
    );
    assert_eq!(
        [
            notify::ids::NO_SENDERS,
            notify::ids::SEND_ONCE,
            notify::ids::DEAD_NAME
        ],
        [70, 71, 72]
    );
    assert_eq!(notify::ids::NO_SENDERS, herd_runtime::notify_id::NO_SENDERS);
}

#[test]
fn notify_encoders_build_what_the_kernel_builds() {
    let m = notify::codec::encode_no_senders_request(PortArg::Null, 5);
    assert_eq!((m.id, m.data), (70, 5u32.to_le_bytes().to_vec()));
    let m =
        notify::codec::encode_port_destroyed_request(PortArg::Null, PortArg::MakeSend(PortName(4)));
    assert_eq!((m.id, m.data.len(), m.ports.len()), (69, 0, 1));
    let m = notify::codec::encode_dead_name_request(PortArg::Null, PortName(8));
    assert_eq!((m.id, m.data), (72, 8u32.to_le_bytes().to_vec()));
}
