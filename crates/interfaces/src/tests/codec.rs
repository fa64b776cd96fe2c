//! The generated encoders and decoders: exact bytes, round trips, malformed bodies.

use herd_runtime::{Errno, PortArg, PortName, Region, Right};

use super::{deliver, raw};
use crate::support::{BodyError, Decoder, Encoder, MIG_REPLY_MISMATCH};
use crate::test::{codec, ids};

fn dest() -> PortArg {
    PortArg::CopySend(PortName(9))
}

#[test]
fn requests_have_the_contract_encoding() {
    let m = codec::encode_add_request(dest(), -2, 40);
    assert_eq!(m.id, 1003);
    assert!(matches!(m.dest, PortArg::CopySend(PortName(9))));
    assert!(matches!(m.reply, PortArg::Null));
    let mut want = (-2i64).to_le_bytes().to_vec();
    want.extend_from_slice(&40i64.to_le_bytes());
    assert_eq!(m.data, want);

    let m = codec::encode_echo_request(dest(), b"hi");
    assert_eq!(m.data, [2, 0, 0, 0, b'h', b'i']);
    let m = codec::encode_give_port_request(dest(), PortArg::MakeSend(PortName(5)));
    assert!(m.data.is_empty());
    assert!(matches!(m.ports[..], [PortArg::MakeSend(PortName(5))]));
    let m = codec::encode_poke_request(dest(), 7);
    assert_eq!((m.id, m.data), (ids::POKE, vec![7, 0, 0, 0]));
}

#[test]
fn replies_have_the_contract_encoding() {
    let m = codec::encode_add_reply(PortArg::Null, Ok(42));
    assert_eq!(m.id, 1103);
    let mut want = 0i32.to_le_bytes().to_vec();
    want.extend_from_slice(&42i64.to_le_bytes());
    assert_eq!(m.data, want);
    let m = codec::encode_add_reply(PortArg::Null, Err(Errno::ENOENT));
    assert_eq!(m.data, 2i32.to_le_bytes());
    let m = codec::encode_make_port_reply(PortArg::Null, Err(Errno::EIO));
    assert!(m.ports.is_empty());
    let m = codec::encode_ping_reply(PortArg::Null, Ok(()));
    assert_eq!(m.data, [0, 0, 0, 0]);
    let m = codec::encode_ping_reply(PortArg::Null, Err(Errno(0)));
    assert_eq!(m.data, Errno::EIO.0.to_le_bytes());
}

#[test]
fn every_request_round_trips() {
    let msg = deliver(codec::encode_ping_request(dest()));
    assert_eq!(codec::decode_ping_request(msg), Ok(()));
    let msg = deliver(codec::encode_echo_request(dest(), b"hello\0"));
    assert_eq!(codec::decode_echo_request(msg).unwrap(), b"hello\0");
    let region = Region::from_bytes("t", b"out of line").unwrap();
    let msg = deliver(codec::encode_echo_region_request(dest(), region));
    let got = codec::decode_echo_region_request(msg).unwrap();
    assert_eq!(got.read().unwrap(), b"out of line");
    let msg = deliver(codec::encode_add_request(dest(), i64::MIN, i64::MAX));
    assert_eq!(codec::decode_add_request(msg), Ok((i64::MIN, i64::MAX)));
    let msg = deliver(codec::encode_give_port_request(
        dest(),
        PortArg::CopySend(PortName(4)),
    ));
    assert!(matches!(
        codec::decode_give_port_request(msg),
        Ok(Right::Dead)
    ));
    let msg = deliver(codec::encode_give_port_request(dest(), PortArg::Null));
    assert!(matches!(
        codec::decode_give_port_request(msg),
        Ok(Right::Null)
    ));
    let msg = deliver(codec::encode_make_port_request(dest()));
    assert_eq!(codec::decode_make_port_request(msg), Ok(()));
    let msg = deliver(codec::encode_fail_request(dest(), -77));
    assert_eq!(codec::decode_fail_request(msg), Ok(-77));
    let msg = deliver(codec::encode_poke_request(dest(), u32::MAX));
    assert_eq!(codec::decode_poke_request(msg), Ok(u32::MAX));
}

#[test]
fn every_reply_round_trips() {
    let r = |m| deliver(m);
    assert_eq!(
        codec::decode_ping_reply(r(codec::encode_ping_reply(PortArg::Null, Ok(())))),
        Ok(())
    );
    let m = codec::encode_echo_reply(PortArg::Null, Ok(b"back".to_vec()));
    assert_eq!(codec::decode_echo_reply(r(m)).unwrap(), b"back");
    let region = Region::from_bytes("t", &[7u8; 5000]).unwrap();
    let m = codec::encode_echo_region_reply(PortArg::Null, Ok(region));
    assert_eq!(
        codec::decode_echo_region_reply(r(m))
            .unwrap()
            .read()
            .unwrap(),
        [7u8; 5000]
    );
    let m = codec::encode_add_reply(PortArg::Null, Ok(-1));
    assert_eq!(codec::decode_add_reply(r(m)), Ok(-1));
    let m = codec::encode_give_port_reply(PortArg::Null, Ok(PortName(12)));
    assert_eq!(codec::decode_give_port_reply(r(m)), Ok(PortName(12)));
    let m = codec::encode_make_port_reply(PortArg::Null, Ok(PortArg::MakeSend(PortName(3))));
    assert!(matches!(
        codec::decode_make_port_reply(r(m)),
        Ok(Right::Dead)
    ));
    let m = codec::encode_fail_reply(PortArg::Null, Err(Errno(1234)));
    assert_eq!(codec::decode_fail_reply(r(m)), Err(Errno(1234)));
    let m = codec::encode_echo_reply(PortArg::Null, Err(Errno::MIG_BAD_ARGUMENTS));
    assert_eq!(
        codec::decode_echo_reply(r(m)),
        Err(Errno::MIG_BAD_ARGUMENTS)
    );
}

#[test]
fn malformed_requests_say_what_is_wrong() {
    let add = |data: &[u8]| codec::decode_add_request(raw(ids::ADD, data));
    assert_eq!(
        add(&[0; 15]),
        Err(BodyError::Truncated {
            offset: 8,
            needed: 8,
            available: 7
        })
    );
    assert_eq!(add(&[0; 17]), Err(BodyError::Trailing(1)));
    let echo = |data: &[u8]| codec::decode_echo_request(raw(ids::ECHO, data));
    assert_eq!(
        echo(&[0xff, 0xff, 0xff, 0xff, 1]),
        Err(BodyError::Truncated {
            offset: 4,
            needed: u32::MAX as usize,
            available: 1
        })
    );
    assert!(matches!(echo(&[1, 0]), Err(BodyError::Truncated { .. })));
    assert_eq!(
        codec::decode_give_port_request(raw(ids::GIVE_PORT, &[])).unwrap_err(),
        BodyError::MissingRight { index: 0 }
    );
    assert_eq!(
        codec::decode_echo_region_request(raw(ids::ECHO_REGION, &[])).unwrap_err(),
        BodyError::MissingRegion { index: 0 }
    );
    let mut extra = raw(ids::PING, &[]);
    extra.ports = vec![Right::Dead, Right::Null];
    assert_eq!(
        codec::decode_ping_request(extra),
        Err(BodyError::ExtraRights(2))
    );
    let mut extra = raw(ids::PING, &[]);
    extra.ool = vec![Region::from_bytes("t", b"x").unwrap()];
    assert_eq!(
        codec::decode_ping_request(extra),
        Err(BodyError::ExtraRegions(1))
    );
}

#[test]
fn malformed_replies_are_mig_errors() {
    assert_eq!(
        codec::decode_add_reply(raw(1103, &[0, 0])),
        Err(Errno::MIG_TYPE_ERROR)
    );
    assert_eq!(
        codec::decode_add_reply(raw(1103, &[0; 4])),
        Err(Errno::MIG_TYPE_ERROR)
    );
    assert_eq!(
        codec::decode_add_reply(raw(1103, &[0; 13])),
        Err(Errno::MIG_TYPE_ERROR)
    );
    assert_eq!(
        codec::decode_ping_reply(raw(1100, &[0; 5])),
        Err(Errno::MIG_TYPE_ERROR)
    );
    assert_eq!(
        codec::decode_ping_reply(raw(1101, &[0; 4])),
        Err(MIG_REPLY_MISMATCH)
    );
    // A send-once notification instead of the reply: the server dropped the request.
    assert_eq!(codec::decode_ping_reply(raw(71, &[])), Err(Errno::EDIED));
    // An error code ends the reply, whatever follows.
    let mut data = 5i32.to_le_bytes().to_vec();
    data.push(9);
    assert_eq!(codec::decode_add_reply(raw(1103, &data)), Err(Errno::EIO));
}

#[test]
fn every_scalar_and_string_type_round_trips() {
    let mut e = Encoder::new();
    e.u8(1)
        .u16(2)
        .u32(3)
        .u64(4)
        .i32(-5)
        .i64(-6)
        .bool(true)
        .bool(false);
    e.string("héllo").bytes(&[0, 255]).port_name(PortName::DEAD);
    let mut d = Decoder::new(deliver(e.request(PortArg::Null, 1)));
    assert_eq!(d.u8(), Ok(1));
    assert_eq!(d.u16(), Ok(2));
    assert_eq!(d.u32(), Ok(3));
    assert_eq!(d.u64(), Ok(4));
    assert_eq!(d.i32(), Ok(-5));
    assert_eq!(d.i64(), Ok(-6));
    assert_eq!((d.bool(), d.bool()), (Ok(true), Ok(false)));
    assert_eq!(d.string().as_deref(), Ok("héllo"));
    assert_eq!(d.bytes(), Ok(vec![0, 255]));
    assert_eq!(d.port_name(), Ok(PortName::DEAD));
    assert_eq!(d.finish(), Ok(()));

    let mut d = Decoder::new(raw(1, &[2, 1, 0, 0, 0, 0xff]));
    assert_eq!(
        d.bool(),
        Err(BodyError::BadBool {
            offset: 0,
            value: 2
        })
    );
    assert_eq!(d.string(), Err(BodyError::BadUtf8 { offset: 1 }));
    let mut msg = raw(1, &[]);
    msg.ports = vec![Right::Dead, Right::Null];
    let mut d = Decoder::new(msg);
    assert!(matches!(d.send_once(), Ok(Right::Dead)));
    assert!(matches!(d.receive(), Ok(Right::Null)));
    assert_eq!(d.send().unwrap_err(), BodyError::MissingRight { index: 2 });
}
