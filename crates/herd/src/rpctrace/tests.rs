//! The printer on made-up records: pairing on one line, interleaved requests with
//! continuation lines, server-side pairing, drops, filters, exits with pending requests.

use herd_wire::trace::{Holder, MessageRecord, PortRef, TaskRef, TraceEvent, TraceRecord};
use herd_wire::{Disposition, PortName, ReceivedRight};

use super::filter::Filter;
use super::output::Printer;

fn task(id: u64, label: &str) -> TaskRef {
    TaskRef {
        task: id,
        pid: 100 + id as u32,
        label: label.into(),
    }
}

const CLIENT: u64 = 1;
const SERVER: u64 = 2;
const SPORT: u64 = (1 << 62) | 10;

fn port(name: u32, kind: u8, id: u64, holder: u64) -> PortRef {
    PortRef {
        name: PortName(name),
        kind,
        port_id: id,
        receiver: Holder::Task(task(
            holder,
            if holder == SERVER { "server" } else { "client" },
        )),
    }
}

fn echo_data(reply: bool, text: &[u8]) -> Vec<u8> {
    let mut d = Vec::new();
    if reply {
        d.extend(0i32.to_le_bytes());
    }
    d.extend((text.len() as u32).to_le_bytes());
    d.extend_from_slice(text);
    d
}

fn message(id: u32, dest: PortRef, reply: PortRef, data: Vec<u8>) -> MessageRecord {
    MessageRecord {
        id,
        dest,
        reply,
        data_len: data.len() as u32,
        data,
        ..MessageRecord::default()
    }
}

/// The client sends `test.echo` with reply port `rport`.
fn request(t: u64, rport: u64, text: &[u8]) -> TraceRecord {
    TraceRecord {
        time_ns: t,
        task: task(CLIENT, "client"),
        dropped: 0,
        event: TraceEvent::Send(message(
            1001,
            port(259, Disposition::CopySend as u8, SPORT, SERVER),
            port(515, Disposition::MakeSendOnce as u8, rport, CLIENT),
            echo_data(false, text),
        )),
    }
}

/// The client receives the echo reply on `rport`.
fn reply(t: u64, rport: u64, text: &[u8]) -> TraceRecord {
    TraceRecord {
        time_ns: t,
        task: task(CLIENT, "client"),
        dropped: 0,
        event: TraceEvent::Receive(message(
            1101,
            port(515, ReceivedRight::SendOnce as u8, rport, CLIENT),
            PortRef::default(),
            echo_data(true, text),
        )),
    }
}

fn print(records: &[TraceRecord], filter: &[&str], timestamps: bool) -> String {
    let f = Filter::parse(&filter.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let mut p = Printer::new(Vec::new(), f, timestamps);
    for r in records {
        p.record(r).unwrap();
    }
    p.finish().unwrap();
    String::from_utf8(p.into_inner()).unwrap()
}

#[test]
fn a_reply_right_after_its_request_shares_its_line() {
    let out = print(&[request(0, 5, b"hi"), reply(1000, 5, b"hi")], &[], false);
    assert_eq!(
        out,
        "client(101) -> server(102)[259] test.echo(data=b\"hi\") = (back=b\"hi\")\n"
    );
}

#[test]
fn interleaved_requests_get_numbered_continuations() {
    let out = print(
        &[
            request(0, 5, b"a"),
            request(10, 6, b"b"),
            reply(20, 5, b"a"),
            reply(30, 6, b"b"),
        ],
        &[],
        false,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].ends_with("test.echo(data=b\"a\") ...#1"), "{out}");
    assert!(lines[1].ends_with("test.echo(data=b\"b\") ...#2"), "{out}");
    assert_eq!(lines[2], "client(101) #1... test.echo = (back=b\"a\")");
    assert_eq!(lines[3], "client(101) #2... test.echo = (back=b\"b\")");
}

#[test]
fn a_request_never_answered_stays_pending_and_is_closed_at_exit() {
    let exit = TraceRecord {
        time_ns: 50,
        task: task(CLIENT, "client"),
        dropped: 3,
        event: TraceEvent::Exit,
    };
    let out = print(&[request(0, 5, b"x"), exit], &[], false);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].ends_with("test.echo(data=b\"x\") ...#1"), "{out}");
    assert_eq!(
        lines[1],
        "--- client(101): 3 records dropped (the tracer fell behind) ---"
    );
    assert_eq!(
        lines[2],
        "client(101) #1... test.echo = <unanswered: task exited>"
    );
    assert_eq!(lines[3], "client(101) exited");
    let out = print(&[request(0, 5, b"x")], &[], false);
    assert!(
        out.ends_with("test.echo(data=b\"x\") ... <pending>\n"),
        "{out}"
    );
}

#[test]
fn a_server_pairs_what_it_is_asked_with_what_it_answers() {
    let rport = (1 << 62) | 77;
    let asked = TraceRecord {
        time_ns: 0,
        task: task(SERVER, "server"),
        dropped: 0,
        event: TraceEvent::Receive(message(
            1001,
            port(771, ReceivedRight::Receive as u8, SPORT, SERVER),
            port(1027, ReceivedRight::SendOnce as u8, rport, CLIENT),
            echo_data(false, b"q"),
        )),
    };
    let answered = TraceRecord {
        time_ns: 2_000,
        task: task(SERVER, "server"),
        dropped: 0,
        event: TraceEvent::Send(message(
            1101,
            port(1027, Disposition::MoveSendOnce as u8, rport, CLIENT),
            PortRef::default(),
            echo_data(true, b"q"),
        )),
    };
    let out = print(&[asked, answered], &[], true);
    assert_eq!(
        out,
        "   0.000000 server(102)[771] <- client(101) test.echo(data=b\"q\") = (back=b\"q\") <0.000002>\n"
    );
}

#[test]
fn filters_hide_requests_and_their_replies() {
    let out = print(
        &[request(0, 5, b"hi"), reply(1, 5, b"hi")],
        &["!test.echo"],
        false,
    );
    assert_eq!(out, "");
    let out = print(
        &[request(0, 5, b"hi"), reply(1, 5, b"hi")],
        &["test.echo"],
        false,
    );
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn something_else_on_the_reply_port_is_said_to_be_no_reply() {
    let so = TraceRecord {
        time_ns: 9,
        task: task(CLIENT, "client"),
        dropped: 0,
        event: TraceEvent::Receive(message(
            71,
            port(515, ReceivedRight::SendOnce as u8, 5, CLIENT),
            PortRef::default(),
            Vec::new(),
        )),
    };
    let out = print(&[request(0, 5, b"hi"), so], &[], false);
    assert!(
        out.ends_with("= <no reply: notify.send_once came instead>\n"),
        "{out}"
    );
}
