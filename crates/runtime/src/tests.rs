//! Unit tests against the scripted fake kernel: what the runtime asks of the kernel for
//! RAII rights, message conversion, send settlement and rpc reply matching.

use std::os::fd::OwnedFd;
use std::time::Duration;

use herd_channel::memfd::Region;
use herd_wire::frame::{notify_id, PortCall, Request, Response};
use herd_wire::message::MAX_OOL;
use herd_wire::name::{ReceivedRight, RightKind};
use herd_wire::{Disposition, KernError, Message, MessageHeader, PortDescriptor, PortName};

use crate::fake_kernel::FakeKernel;
use crate::message::{Malformed, SendOutcome};
use crate::{OutMessage, PortArg, Received, Right, RpcError, SendError, SendRight};

fn dealloc(n: u32) -> PortCall {
    PortCall::Deallocate(PortName(n))
}

fn mod_refs(n: u32, right: RightKind, delta: i32) -> PortCall {
    PortCall::ModRefs {
        name: PortName(n),
        right,
        delta,
    }
}

fn received(kind: ReceivedRight, n: u32) -> PortDescriptor {
    PortDescriptor {
        name: PortName(n),
        kind: kind as u8,
    }
}

fn wire_message(id: u32, reply: PortDescriptor, ports: Vec<PortDescriptor>) -> Message {
    Message {
        header: MessageHeader {
            dest: received(ReceivedRight::None, 5),
            reply,
            id,
            seqno: 4,
        },
        ports,
        ool: Vec::new(),
        data: b"payload".to_vec(),
    }
}

fn region_fd(bytes: &[u8]) -> OwnedFd {
    Region::from_bytes("t", bytes).unwrap().into_fd()
}

#[test]
fn dropping_rights_releases_them_and_into_name_does_not() {
    let (task, kernel) = FakeKernel::start();
    assert_eq!(task.id(), 7);
    assert_eq!(task.initial_ports(), &[PortName(3)]);
    let port = task.allocate_port().unwrap();
    let send = port.make_send().unwrap();
    let copy = send.clone();
    let once = port.make_send_once().unwrap();
    let set = task.allocate_port_set().unwrap();
    set.insert(&port).unwrap();
    let name = port.name().0;
    kernel.take_calls();
    drop(copy);
    drop(send);
    drop(once);
    drop(set);
    drop(port);
    assert_eq!(
        kernel.take_calls(),
        vec![
            dealloc(name),
            dealloc(name),
            dealloc(name + 1),
            mod_refs(name + 2, RightKind::PORT_SET, -1),
            mod_refs(name, RightKind::RECEIVE, -1),
        ]
    );
    let kept = task.allocate_port().unwrap();
    let kept_send = kept.make_send().unwrap();
    kernel.take_calls();
    assert_eq!(kept_send.into_name(), kept.name());
    kept.into_name();
    assert!(kernel.take_calls().is_empty());
}

#[test]
fn clone_of_a_send_right_adds_a_user_reference() {
    let (task, kernel) = FakeKernel::start();
    let send = SendRight::from_name(&task, PortName(42));
    let copy = send.clone();
    assert_eq!(copy.name(), PortName(42));
    assert_eq!(kernel.take_calls(), vec![mod_refs(42, RightKind::SEND, 1)]);
    copy.into_name();
    send.into_name();
}

#[test]
fn outgoing_messages_name_rights_by_disposition_and_carry_region_fds() {
    let (task, kernel) = FakeKernel::start();
    let dest = SendRight::from_name(&task, PortName(10));
    let mut msg = OutMessage::new(dest, 1000);
    msg.reply = PortArg::MakeSendOnce(PortName(11));
    msg.ports = vec![
        PortArg::CopySend(PortName(12)),
        PortArg::Null,
        PortArg::MoveReceive(crate::ReceiveRight::from_name(&task, PortName(13))),
    ];
    msg.ool = vec![Region::from_bytes("a", b"abc").unwrap()];
    msg.data = vec![1, 2];
    let (wire, outgoing) = msg.into_wire(None).unwrap();
    assert_eq!(
        wire.header.dest,
        PortDescriptor::send(PortName(10), Disposition::MoveSend)
    );
    assert_eq!(
        wire.header.reply,
        PortDescriptor::send(PortName(11), Disposition::MakeSendOnce)
    );
    assert_eq!(
        wire.ports,
        vec![
            PortDescriptor::send(PortName(12), Disposition::CopySend),
            PortDescriptor::null(),
            PortDescriptor::send(PortName(13), Disposition::MoveReceive),
        ]
    );
    assert_eq!(wire.header.id, 1000);
    assert_eq!(wire.ool, vec![3]);
    assert_eq!(wire.data, vec![1, 2]);
    assert_eq!(outgoing.fds().len(), 1);
    // Moved rights went with the message: nothing is released.
    outgoing.settle(SendOutcome::Consumed);
    assert!(kernel.take_calls().is_empty());
}

#[test]
fn moved_rights_come_back_only_when_the_kernel_left_the_message_untouched() {
    let (task, kernel) = FakeKernel::start();
    let settle = |name: u32, timeout, error| {
        let dest = SendRight::from_name(&task, PortName(name));
        let (_, outgoing) = OutMessage::new(dest, 1).into_wire(timeout).unwrap();
        outgoing.settle(SendOutcome::Refused(error));
    };
    let now = Some(Duration::ZERO);
    // Refused by copy-in: the right is still ours, and the message is gone.
    settle(20, now, KernError::SendInvalidDest);
    settle(21, None, KernError::SendInvalidRight);
    assert_eq!(kernel.take_calls(), vec![dealloc(20), dealloc(21)]);
    // A send that may have blocked and then found the port dead was taken in and
    // destroyed; and an unknown failure may have consumed it: never release twice.
    settle(22, None, KernError::SendInvalidDest);
    settle(23, now, KernError::ProtocolViolation);
    assert!(kernel.take_calls().is_empty());
    // A send-once destination never waits for queue room.
    let once = crate::SendOnceRight::from_name(&task, PortName(24));
    let (_, outgoing) = OutMessage::new(once, 1).into_wire(None).unwrap();
    outgoing.settle(SendOutcome::Refused(KernError::SendInvalidDest));
    assert_eq!(kernel.take_calls(), vec![dealloc(24)]);
}

#[test]
fn oversized_messages_are_refused_before_sending() {
    let (task, kernel) = FakeKernel::start();
    let mut msg = OutMessage::new(PortArg::CopySend(PortName(1)), 1);
    msg.ool = (0..=MAX_OOL)
        .map(|_| Region::from_bytes("r", b"").unwrap())
        .collect();
    assert!(matches!(
        task.send(msg, None),
        Err(SendError::Kern(KernError::SendTooLarge))
    ));
    assert!(kernel.take_log().is_empty());
}

#[test]
fn received_messages_wrap_every_right_and_region() {
    let (task, kernel) = FakeKernel::start();
    let mut wire = wire_message(
        7,
        received(ReceivedRight::SendOnce, 30),
        vec![
            received(ReceivedRight::Send, 31),
            received(ReceivedRight::Receive, 32),
            PortDescriptor {
                name: PortName::DEAD,
                kind: ReceivedRight::Send as u8,
            },
            PortDescriptor::null(),
        ],
    );
    wire.ool = vec![5];
    let r = Received::from_wire(&task, wire, vec![region_fd(b"hello")]).unwrap();
    assert_eq!((r.id, r.seqno, r.dest), (7, 4, PortName(5)));
    assert!(matches!(&r.reply, Right::SendOnce(s) if s.name() == PortName(30)));
    assert!(matches!(&r.ports[0], Right::Send(s) if s.name() == PortName(31)));
    assert!(matches!(&r.ports[1], Right::Receive(s) if s.name() == PortName(32)));
    assert!(matches!(r.ports[2], Right::Dead));
    assert!(r.ports[3].is_null());
    assert_eq!(r.ool[0].read().unwrap(), b"hello");
    assert_eq!(r.data, b"payload");
    drop(r);
    assert_eq!(
        kernel.take_calls(),
        vec![
            dealloc(30),
            dealloc(31),
            mod_refs(32, RightKind::RECEIVE, -1)
        ]
    );
}

#[test]
fn a_message_that_does_not_fit_its_descriptors_is_refused_and_released() {
    let (task, kernel) = FakeKernel::start();
    let mut wire = wire_message(7, received(ReceivedRight::SendOnce, 40), Vec::new());
    wire.ool = vec![5, 6];
    let err = Received::from_wire(&task, wire, vec![region_fd(b"hello")]).unwrap_err();
    assert!(matches!(err, Malformed::OolCount { sizes: 2, fds: 1 }));
    assert_eq!(kernel.take_calls(), vec![dealloc(40)]);

    let wire = wire_message(
        7,
        received(ReceivedRight::Send, 41),
        vec![PortDescriptor {
            name: PortName(42),
            kind: 99,
        }],
    );
    let err = Received::from_wire(&task, wire, Vec::new()).unwrap_err();
    assert!(matches!(err, Malformed::UnknownRight { kind: 99, .. }));
    assert_eq!(kernel.take_calls(), vec![dealloc(41)]);
}

#[test]
fn send_to_a_dead_port_is_server_died_and_releases_moved_rights() {
    let (task, kernel) = FakeKernel::start();
    kernel.script(
        Response::Msg {
            result: Err(KernError::SendInvalidDest),
            message: None,
        },
        Vec::new(),
    );
    // A reply to a client that died: the send-once right became a dead name.
    let msg = OutMessage::new(crate::SendOnceRight::from_name(&task, PortName(50)), 1);
    assert!(matches!(task.send(msg, None), Err(SendError::ServerDied)));
    let log = kernel.take_log();
    assert!(matches!(log[0], Request::MachMsg { options: 1, .. }));
    assert_eq!(log[1], Request::Call(dealloc(50)));
}

fn reply(id: u32, reply: PortDescriptor) -> Response {
    Response::Msg {
        result: Ok(()),
        message: Some(wire_message(id, reply, Vec::new())),
    }
}

#[test]
fn rpc_skips_stale_replies_and_keeps_its_reply_port() {
    let (task, kernel) = FakeKernel::start();
    kernel.script(
        reply(999, received(ReceivedRight::SendOnce, 60)),
        Vec::new(),
    );
    kernel.script(reply(1100, PortDescriptor::null()), Vec::new());
    let answer = task
        .rpc(OutMessage::new(PortArg::CopySend(PortName(9)), 1000), None)
        .unwrap();
    assert_eq!(answer.id, 1100);
    let log = kernel.take_log();
    let Request::Call(PortCall::Allocate(_)) = &log[0] else {
        panic!("expected the reply port's allocation, got {log:?}");
    };
    let Request::MachMsg {
        options: 3,
        rcv_name,
        message: Some(m),
        ..
    } = &log[1]
    else {
        panic!("expected SEND|RECEIVE, got {log:?}");
    };
    assert_eq!(
        m.header.reply,
        PortDescriptor::send(*rcv_name, Disposition::MakeSendOnce)
    );
    // The stale message's right is released, then the wait goes on with RECEIVE alone.
    assert_eq!(log[2], Request::Call(dealloc(60)));
    assert!(matches!(&log[3], Request::MachMsg { options: 2, rcv_name: r, .. } if r == rcv_name));
    assert_eq!(log.len(), 4);
    // The next rpc reuses the port.
    kernel.script(reply(1101, PortDescriptor::null()), Vec::new());
    task.rpc(OutMessage::new(PortArg::CopySend(PortName(9)), 1001), None)
        .unwrap();
    assert!(
        matches!(&kernel.take_log()[..], [Request::MachMsg { rcv_name: r, .. }] if r == rcv_name)
    );
}

#[test]
fn rpc_failures_replace_the_reply_port() {
    let (task, kernel) = FakeKernel::start();
    kernel.script(
        reply(notify_id::SEND_ONCE, PortDescriptor::null()),
        Vec::new(),
    );
    let err = task
        .rpc(OutMessage::new(PortArg::CopySend(PortName(9)), 1000), None)
        .unwrap_err();
    assert!(err.is_server_died(), "{err:?}");
    let log = kernel.take_log();
    let Request::Call(PortCall::Allocate(_)) = &log[0] else {
        panic!("{log:?}");
    };
    let Request::MachMsg { rcv_name, .. } = &log[1] else {
        panic!("{log:?}");
    };
    assert_eq!(
        log[2],
        Request::Call(mod_refs(rcv_name.0, RightKind::RECEIVE, -1))
    );

    kernel.script(
        Response::Msg {
            result: Err(KernError::RcvTimedOut),
            message: None,
        },
        Vec::new(),
    );
    let err = task
        .rpc(
            OutMessage::new(PortArg::CopySend(PortName(9)), 1000),
            Some(Duration::from_millis(5)),
        )
        .unwrap_err();
    assert!(matches!(err, RpcError::Timeout));
    let log = kernel.take_log();
    assert!(
        matches!(log[0], Request::Call(PortCall::Allocate(_))),
        "{log:?}"
    );
    assert!(
        matches!(log[2], Request::Call(PortCall::ModRefs { .. })),
        "{log:?}"
    );
}

#[test]
fn rpc_refuses_a_caller_supplied_reply_right() {
    let (task, kernel) = FakeKernel::start();
    let mut msg = OutMessage::new(PortArg::CopySend(PortName(9)), 1000);
    msg.reply = PortArg::MakeSendOnce(PortName(3));
    assert!(matches!(
        task.rpc(msg, None),
        Err(RpcError::Send(KernError::SendInvalidReply))
    ));
    assert!(kernel.take_log().is_empty());
}

#[test]
fn a_fatal_answer_kills_the_connection() {
    let (task, kernel) = FakeKernel::start();
    kernel.script(Response::Fatal(KernError::ProtocolViolation), Vec::new());
    assert_eq!(
        task.receive(PortName(5), None).unwrap_err(),
        KernError::ProtocolViolation
    );
    // No socket to join again from: the task is unreachable.
    assert_eq!(task.stats().unwrap_err(), KernError::InvalidTask);
}
