//! herd's interface compiler, what MIG is on the Hurd.
//!
//! An interface is defined once, in a `.defs` file (syntax and encoding:
//! `docs/runtime-idl-contract.md`):
//!
//! ```text
//! /// Doc comment for the interface.
//! subsystem test 1000;           // message ids start at 1000; reply id = request id + 100
//!
//! /// Doc comment for the routine.
//! routine echo(server: object; in data: bytes; out back: bytes);
//! simpleroutine poke(server: object; in n: u32);
//! skip;                          // keeps later ids stable
//! ```
//!
//! [`parse`] checks the text and assigns message ids; [`generate`] turns the result into one
//! Rust module with typed client stubs, a server trait with a dispatcher, pure encoders and
//! decoders, and a reflection table. This crate does no I/O: a build script reads the files
//! and writes the output.
#![forbid(unsafe_code)]

pub mod ast;
mod codegen;
pub mod error;
mod lexer;
mod names;
mod parser;

pub use ast::{Arg, Direction, Interface, Pos, Routine, RoutineKind, Type};
pub use error::ParseError;

/// Parses and checks one `.defs` source. Never panics, whatever the input.
pub fn parse(src: &str) -> Result<Interface, ParseError> {
    parser::parse(src)
}

/// Generates the Rust module (`pub mod NAME { ... }`) for an interface that [`parse`]
/// produced (its checks on names and ids are what make the output compile).
pub fn generate(iface: &Interface) -> String {
    codegen::generate(iface)
}

#[cfg(test)]
mod tests;
