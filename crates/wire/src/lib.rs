//! The contract between a task and its node kernel.
//!
//! Everything a task and the kernel say to each other crosses one `SOCK_SEQPACKET`
//! connection as *frames*. This crate defines those frames and the values inside them
//! (port names, dispositions, messages, return codes) and turns bytes into them through
//! one checked parser. It does no I/O: the kernel's driver and the runtime move the bytes
//! and file descriptors; this crate only says what they mean.
//!
//! See `docs/port-semantics.md` for the rules these types carry.
#![forbid(unsafe_code)]

pub mod codec;
pub mod codes;
pub mod frame;
pub mod message;
pub mod name;
pub mod trace;

pub use codes::{Errno, KernError};
pub use frame::{Request, Response};
pub use message::{Message, MessageHeader, PortDescriptor};
pub use name::{Disposition, PortName, ReceivedRight, RightKind};
