//! Tests of the generated code without a kernel: encoders and decoders round-trip,
//! dispatch answers bad messages with the MIG codes, and `describe` reads every message.
//!
//! Without a kernel no real right can be made, so a right "delivered" here arrives as
//! `Right::Dead` (which every right argument accepts); right kinds are checked against a
//! real kernel in `tests/server.rs`.

mod codec;
mod describe;
mod dispatch;
mod fuzz;

use herd_runtime::{OutMessage, PortArg, PortName, Received, Right};
use herd_wire::{Disposition, PortDescriptor};

/// What the receiver of `msg` would get (rights other than null become `Right::Dead`).
fn deliver(msg: OutMessage) -> Received {
    Received {
        id: msg.id,
        seqno: 1,
        dest: PortName(3),
        reply: Right::Null,
        ports: msg
            .ports
            .into_iter()
            .map(|p| match p {
                PortArg::Null => Right::Null,
                _ => Right::Dead,
            })
            .collect(),
        ool: msg.ool,
        data: msg.data,
    }
}

/// A received message with `data` and nothing else.
fn raw(id: u32, data: &[u8]) -> Received {
    Received {
        id,
        seqno: 1,
        dest: PortName(3),
        reply: Right::Null,
        ports: Vec::new(),
        ool: Vec::new(),
        data: data.to_vec(),
    }
}

/// `msg` as `describe` sees it on the wire.
fn describe_out(msg: &OutMessage) -> String {
    let ports: Vec<PortDescriptor> = msg
        .ports
        .iter()
        .map(|p| match p {
            PortArg::CopySend(n) => PortDescriptor::send(*n, Disposition::CopySend),
            PortArg::MakeSend(n) => PortDescriptor::send(*n, Disposition::MakeSend),
            PortArg::MakeSendOnce(n) => PortDescriptor::send(*n, Disposition::MakeSendOnce),
            _ => PortDescriptor::null(),
        })
        .collect();
    let sizes: Vec<u64> = msg.ool.iter().map(|r| r.len()).collect();
    crate::reflect::describe(msg.id, &msg.data, &ports, &sizes)
}
