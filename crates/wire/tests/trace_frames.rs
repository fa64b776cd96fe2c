//! Round trips of the tracing calls and of trace records, and refusal of bad bytes.

use herd_wire::codec::DecodeError;
use herd_wire::frame::PortCall;
use herd_wire::trace::{
    record_id, Holder, MessageRecord, PortRef, TaskRef, TraceEvent, TraceRecord, MAX_LABEL,
};
use herd_wire::{Disposition, PortDescriptor, PortName, Request};
use proptest::prelude::*;

fn round_trip(c: PortCall) {
    let req = Request::Call(c);
    assert_eq!(Request::decode(&req.encode()).unwrap(), req);
}

#[test]
fn tracing_calls_round_trip() {
    round_trip(PortCall::Trace {
        task: 0,
        tracer: PortName(0x103),
        follow: true,
    });
    round_trip(PortCall::Trace {
        task: u64::MAX,
        tracer: PortName::NULL,
        follow: false,
    });
    round_trip(PortCall::Untrace(7));
    round_trip(PortCall::TaskNamesOf(0));
    round_trip(PortCall::SpawnTraced {
        program: "/bin/true".into(),
        args: vec!["true".into(), "x".into()],
        env: vec!["A=b".into()],
        rights: vec![PortDescriptor::send(PortName(5), Disposition::MakeSend)],
        tracer: PortName(9),
        follow: true,
    });
}

#[test]
fn trace_flag_must_be_zero_or_one() {
    let mut bytes = Request::Call(PortCall::Trace {
        task: 1,
        tracer: PortName(2),
        follow: true,
    })
    .encode();
    *bytes.last_mut().unwrap() = 2;
    assert!(matches!(
        Request::decode(&bytes),
        Err(DecodeError::BadValue { what: "flag", .. })
    ));
}

fn task(id: u64) -> TaskRef {
    TaskRef {
        task: id,
        pid: 4000 + id as u32,
        label: format!("task{id}"),
    }
}

fn sample_message() -> MessageRecord {
    MessageRecord {
        id: 1001,
        seqno: 3,
        status: 0,
        flags: 1,
        dest: PortRef {
            name: PortName(0x101),
            kind: Disposition::CopySend as u8,
            port_id: 0x1_0000_0002,
            receiver: Holder::Task(task(2)),
        },
        reply: PortRef {
            name: PortName(0x201),
            kind: Disposition::MakeSendOnce as u8,
            port_id: 5,
            receiver: Holder::Task(task(1)),
        },
        ports: vec![
            PortRef::default(),
            PortRef {
                name: PortName::DEAD,
                kind: 17,
                port_id: 0,
                receiver: Holder::InTransit,
            },
        ],
        ool: vec![1 << 20, 0],
        data_len: 10_000,
        data: vec![0xab; 4096],
    }
}

#[test]
fn records_round_trip() {
    let events = [
        TraceEvent::Send(sample_message()),
        TraceEvent::Receive(MessageRecord::default()),
        TraceEvent::Exit,
        TraceEvent::Spawned {
            child: task(9),
            followed: true,
        },
        TraceEvent::Waiting {
            sending: true,
            id: 1001,
            port: sample_message().dest,
            in_call: false,
        },
    ];
    for (event, id) in events.into_iter().zip([
        record_id::SEND,
        record_id::RECEIVE,
        record_id::EXIT,
        record_id::SPAWNED,
        record_id::WAITING,
    ]) {
        let r = TraceRecord {
            time_ns: 123_456_789,
            task: task(1),
            dropped: 42,
            event,
        };
        assert_eq!(r.id(), id);
        assert!(record_id::is_record(id));
        assert_eq!(TraceRecord::decode(id, &r.encode()).unwrap(), r);
    }
    assert!(!record_id::is_record(1000));
}

#[test]
fn long_labels_are_cut_on_a_character_boundary() {
    let r = TraceRecord {
        time_ns: 0,
        task: TaskRef {
            task: 0,
            pid: 1,
            label: "é".repeat(MAX_LABEL),
        },
        dropped: 0,
        event: TraceEvent::Exit,
    };
    let back = TraceRecord::decode(record_id::EXIT, &r.encode()).unwrap();
    assert!(back.task.label.len() <= MAX_LABEL);
    assert!(r.task.label.starts_with(&back.task.label));
}

#[test]
fn records_refuse_wrong_version_id_and_trailing_bytes() {
    let r = TraceRecord {
        time_ns: 1,
        task: task(1),
        dropped: 0,
        event: TraceEvent::Send(sample_message()),
    };
    let bytes = r.encode();
    assert!(TraceRecord::decode(record_id::RECEIVE + 100, &bytes).is_err());
    let mut v = bytes.clone();
    v[0] = 9;
    assert!(TraceRecord::decode(record_id::SEND, &v).is_err());
    let mut v = bytes.clone();
    v.push(0);
    assert!(matches!(
        TraceRecord::decode(record_id::SEND, &v),
        Err(DecodeError::Trailing(1))
    ));
    for cut in 0..bytes.len() {
        assert!(TraceRecord::decode(record_id::SEND, &bytes[..cut]).is_err());
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(id in record_id::SEND..=record_id::WAITING,
                                   bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = TraceRecord::decode(id, &bytes);
    }
}
