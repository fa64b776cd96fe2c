//! `describe` and the reflection table: every test routine, replies, errors, unknown ids
//! and malformed bodies.

use herd_runtime::{Errno, PortArg, PortName, Region};
use herd_wire::{Disposition, PortDescriptor};

use super::describe_out;
use crate::reflect::{describe, routine_by_id, ArgType, Direction, INTERFACES};
use crate::test::codec;

fn dest() -> PortArg {
    PortArg::CopySend(PortName(3))
}

#[test]
fn every_test_request_is_described() {
    let region = || Region::from_bytes("t", &[0u8; 4096]).unwrap();
    let cases = [
        (codec::encode_ping_request(dest()), "test.ping()"),
        (
            codec::encode_echo_request(dest(), b"hi"),
            "test.echo(data=b\"hi\")",
        ),
        (
            codec::encode_echo_request(dest(), b"a\"\\\n\x00\xff"),
            "test.echo(data=b\"a\\\"\\\\\\n\\x00\\xff\")",
        ),
        (
            codec::encode_echo_region_request(dest(), region()),
            "test.echo_region(data=region(4096 bytes))",
        ),
        (
            codec::encode_add_request(dest(), -1, 2),
            "test.add(a=-1, b=2)",
        ),
        (
            codec::encode_give_port_request(dest(), PortArg::MakeSend(PortName(7))),
            "test.give_port(right=port 7 (make-send))",
        ),
        (
            codec::encode_give_port_request(dest(), PortArg::Null),
            "test.give_port(right=NULL)",
        ),
        (codec::encode_make_port_request(dest()), "test.make_port()"),
        (codec::encode_fail_request(dest(), 2), "test.fail(errno=2)"),
        (codec::encode_poke_request(dest(), 5), "test.poke(n=5)"),
    ];
    for (msg, want) in cases {
        assert_eq!(describe_out(&msg), want);
    }
}

#[test]
fn every_test_reply_is_described() {
    let cases = [
        (
            codec::encode_ping_reply(PortArg::Null, Ok(())),
            "test.ping -> ()",
        ),
        (
            codec::encode_echo_reply(PortArg::Null, Ok(b"hi".to_vec())),
            "test.echo -> (back=b\"hi\")",
        ),
        (
            codec::encode_echo_region_reply(
                PortArg::Null,
                Ok(Region::from_bytes("t", b"xyz").unwrap()),
            ),
            "test.echo_region -> (back=region(3 bytes))",
        ),
        (
            codec::encode_add_reply(PortArg::Null, Ok(42)),
            "test.add -> (sum=42)",
        ),
        (
            codec::encode_give_port_reply(PortArg::Null, Ok(PortName(12))),
            "test.give_port -> (same=12)",
        ),
        (
            codec::encode_make_port_reply(PortArg::Null, Ok(PortArg::MakeSend(PortName(8)))),
            "test.make_port -> (right=port 8 (make-send))",
        ),
        (
            codec::encode_fail_reply(PortArg::Null, Err(Errno::ENOENT)),
            "test.fail -> errno ENOENT",
        ),
        (
            codec::encode_fail_reply(PortArg::Null, Err(Errno(9999))),
            "test.fail -> errno 9999",
        ),
        (
            codec::encode_add_reply(PortArg::Null, Err(Errno::MIG_BAD_ID)),
            "test.add -> errno MIG_BAD_ID",
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(describe_out(&msg), want);
    }
}

#[test]
fn long_values_show_a_prefix_and_the_length() {
    let long = vec![b'x'; 1000];
    let got = describe_out(&codec::encode_echo_request(dest(), &long));
    assert_eq!(
        got,
        format!("test.echo(data=b\"{}\"... (1000 bytes))", "x".repeat(32))
    );
}

#[test]
fn notifications_are_described() {
    let received = PortDescriptor {
        name: PortName(9),
        kind: 16,
    };
    assert_eq!(
        describe(70, &3u32.to_le_bytes(), &[], &[]),
        "notify.no_senders(mscount=3)"
    );
    assert_eq!(
        describe(72, &9u32.to_le_bytes(), &[], &[]),
        "notify.dead_name(name=9)"
    );
    assert_eq!(describe(71, &[], &[], &[]), "notify.send_once()");
    assert_eq!(
        describe(69, &[], &[received], &[]),
        "notify.port_destroyed(rights=port 9 (receive))"
    );
    // Simpleroutines have no replies: id 170 is nobody's.
    assert_eq!(describe(170, &[], &[], &[]), "unknown id 170 (0 bytes)");
}

#[test]
fn unknown_ids_show_raw_bytes() {
    assert_eq!(
        describe(4242, &[1, 2, 0xab], &[], &[]),
        "unknown id 4242 (3 bytes: 01 02 ab)"
    );
    let data: Vec<u8> = (0..20).collect();
    let port = PortDescriptor::send(PortName(4), Disposition::CopySend);
    assert_eq!(
        describe(4242, &data, &[port], &[5, 6]),
        "unknown id 4242 (20 bytes: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f ..., \
         1 rights, 2 regions)"
    );
}

#[test]
fn malformed_bodies_are_shown_as_far_as_they_decode() {
    let mut data = 5i64.to_le_bytes().to_vec();
    data.extend_from_slice(&[1, 2, 3]);
    assert_eq!(
        describe(1003, &data, &[], &[]),
        "test.add(a=5, <malformed: b: truncated: needed 8 bytes at offset 8, 3 left>)"
    );
    data.extend_from_slice(&[0; 6]);
    assert_eq!(
        describe(1003, &data, &[], &[]),
        "test.add(a=5, b=197121, <malformed: 1 bytes of inline data left over>)"
    );
    assert_eq!(
        describe(1004, &[], &[], &[]),
        "test.give_port(<malformed: right: right 0 is missing (0 came)>)"
    );
    assert_eq!(
        describe(1002, &[], &[], &[]),
        "test.echo_region(<malformed: data: region 0 is missing (0 came)>)"
    );
    assert_eq!(
        describe(1000, &[], &[PortDescriptor::null()], &[1]),
        "test.ping(<malformed: 1 rights left over>, <malformed: 1 regions left over>)"
    );
    assert_eq!(
        describe(1101, &[0, 0], &[], &[]),
        "test.echo -> <malformed: 2 bytes, too short for a return code>"
    );
    assert_eq!(
        describe(1101, &[0, 0, 0, 0, 9, 0, 0, 0, b'x'], &[], &[]),
        "test.echo -> (<malformed: back: truncated: needed 9 bytes at offset 8, 1 left>)"
    );
}

#[test]
fn the_reflection_table_lists_every_interface_and_id() {
    let names: Vec<&str> = INTERFACES.iter().map(|i| i.name).collect();
    assert_eq!(
        names,
        ["auth", "fs", "fs_notify", "fsys", "io", "notify", "test"]
    );
    let (iface, r, reply) = routine_by_id(1101).unwrap();
    assert_eq!((iface.name, r.name, reply), ("test", "echo", true));
    let (_, r, reply) = routine_by_id(70).unwrap();
    assert_eq!((r.name, r.simple, reply), ("no_senders", true, false));
    assert!(routine_by_id(1107).is_none(), "poke is a simpleroutine");
    assert!(routine_by_id(64).is_none() && routine_by_id(67).is_none());
    let echo = iface.routine("echo").unwrap();
    assert_eq!(echo.args[0].ty, ArgType::Object);
    let ins: Vec<_> = echo.ins().map(|a| (a.name, a.ty)).collect();
    assert_eq!(ins, [("data", ArgType::Bytes)]);
    let outs: Vec<_> = echo.outs().map(|a| (a.name, a.dir)).collect();
    assert_eq!(outs, [("back", Direction::Out)]);
    assert_eq!(echo.doc, "Sends bytes inline and gets them back.");
    assert!(iface.doc.starts_with("A small interface"));
    // Every id (and reply id) belongs to exactly one routine.
    for iface in INTERFACES {
        for r in iface.routines {
            assert_eq!(routine_by_id(r.id).map(|(_, x, _)| x.name), Some(r.name));
            if !r.simple {
                assert_eq!(
                    routine_by_id(r.reply_id()).map(|(_, x, _)| x.name),
                    Some(r.name)
                );
            }
        }
    }
}

#[test]
fn fixed_structs_and_id_arrays_are_described() {
    use crate::types::{Stat, Timespec};
    let st = Stat {
        mode: 0o20666,
        uid: 7,
        atime: Timespec { sec: 1, nsec: 2 },
        ..Stat::default()
    };
    let text = describe_out(&crate::io::codec::encode_io_stat_reply(
        PortArg::Null,
        Ok(st),
    ));
    assert!(
        text.starts_with("io.io_stat -> (stat_info={fstype=0, fsid=0, ino=0, gen=0, rdev=0, mode=8630, nlink=0, uid=7,"),
        "{text}"
    );
    assert!(text.contains("atime={sec=1, nsec=2}"), "{text}");
    let msg =
        crate::fsys::codec::encode_fsys_getroot_request(dest(), PortArg::Null, &[0, 1000], &[], 3);
    assert_eq!(
        describe_out(&msg),
        "fsys.fsys_getroot(dotdot=NULL, gen_uids=[0, 1000], gen_gids=[], flags=3)"
    );
    // A stat cut short, and an id array longer than the data, are malformed, not a panic.
    let reply = crate::io::codec::encode_io_stat_reply(PortArg::Null, Ok(st));
    let cut = describe(reply.id, &reply.data[..20], &[], &[]);
    assert!(cut.contains("<malformed: stat_info: stat needs"), "{cut}");
    let body = u32::MAX.to_le_bytes();
    let id = crate::io::ids::IO_RESTRICT_AUTH;
    assert!(describe(id, &body, &[], &[]).contains("<malformed: uids: u32_array of 4294967295"));
    let (_, r, _) = routine_by_id(crate::io::ids::IO_STAT).unwrap();
    assert_eq!(r.args[1].ty.keyword(), "stat");
}
