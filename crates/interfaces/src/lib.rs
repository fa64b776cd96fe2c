//! herd's interfaces, defined once in `idl/*.defs` and generated here by herd-idl (herd's
//! MIG): one module per subsystem ([`notify`], [`test`](mod@test), ...), each with
//!
//! - client stubs: `test::echo(&task, &server, b"hi") -> Result<Vec<u8>, Errno>`;
//! - a server trait (`test::TestServer`) and `test::dispatch`, which turns a received
//!   request into the reply to send (`MIG_BAD_ID` for an unknown id, `MIG_BAD_ARGUMENTS`
//!   for a body that does not decode);
//! - `test::codec`: the pure encoders and decoders both use;
//! - `test::INTERFACE`: the reflection table, gathered in [`reflect::INTERFACES`], from
//!   which [`reflect::describe`] turns any message into text for `rpctrace`.
//!
//! Fixed structs (`Stat`, `StatFs`, `Timespec`), the interfaces' constants and the
//! directory entry format are in [`types`].
//!
//! The syntax, the encoding and this API are fixed by `docs/runtime-idl-contract.md`.
#![forbid(unsafe_code)]

// Generated code names this crate by its absolute path, so it compiles here and elsewhere.
extern crate self as herd_interfaces;

pub mod reflect;
pub mod support;
pub mod types;

pub use support::Request;

include!(concat!(env!("OUT_DIR"), "/interfaces.rs"));

#[cfg(test)]
mod tests;
