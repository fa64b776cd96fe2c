//! herd's task runtime: what libmach and glibc's Hurd part are on the Hurd.
//!
//! A [`Task`] is this process's membership in a node kernel. Every kernel call goes over
//! the calling thread's own `SOCK_SEQPACKET` connection (opened on first use), so threads
//! block independently. Port rights are RAII values that remember their task
//! ([`ReceiveRight`], [`SendRight`], [`SendOnceRight`], [`PortSet`], [`Right`]);
//! messages are [`OutMessage`] going out and [`Received`] coming in; [`Task::rpc`] sends a
//! request and waits for its reply in one round trip; [`server::serve`] runs a growing
//! pool of threads on a port.
//!
//! The shape of this crate is fixed by `docs/runtime-idl-contract.md`.
#![forbid(unsafe_code)]

mod connection;
pub mod env;
mod error;
mod message;
mod rights;
mod rpc;
pub mod server;
mod special;
mod task;

#[cfg(test)]
mod fake_kernel;
#[cfg(test)]
mod tests;

pub use herd_channel::memfd::Region;
pub use herd_wire::frame::{
    notify_id, CallValue, KernelStats, NotifyKind, PortCall, PortStatus, Timeout,
};
pub use herd_wire::name::RightKind;
pub use herd_wire::{Disposition, Errno, KernError, PortDescriptor, PortName};

pub use error::{RpcError, RuntimeError, SendError};
pub use message::{OutMessage, PortArg, Received, Returned};
pub use rights::{PortSet, ReceiveRight, Right, SendOnceRight, SendRight};
pub use rpc::reply_id;
pub use server::{serve, ServeOptions};
pub use task::Task;
