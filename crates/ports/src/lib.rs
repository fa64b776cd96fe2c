//! herd's libports: the objects a server keeps behind its receive rights.
//!
//! On the Hurd every server is built on libports; herd's frameworks (trivfs, netfs, the
//! file systems) are built on this crate the same way:
//!
//! - A [`Bucket`] is a port set served by a pool of threads
//!   ([`herd_runtime::serve`]); every port created in it is a member. A message that
//!   arrives is matched to its object by the receive name it arrived on
//!   ([`Received::dest`](herd_runtime::Received)) through a thread-safe map
//!   ([`Bucket::lookup`]).
//! - A [`Class`] groups ports of one object type (protids, control ports...) and says
//!   what to do when an object goes ([`Class::with_clean`]).
//! - [`Bucket::create_port`] makes a port for an object; [`PortRef`] is a counted
//!   reference to it. [`PortRef::make_send`] is the only way send rights to it should be
//!   made: it counts them (the make-send count) and asks the kernel for a no-senders
//!   notification on the port itself. When the last send right goes, the notification
//!   arrives on the port; a stale one (its count below the library's) is re-armed, as
//!   libports does, and the kernel's own count of send rights is checked before anything
//!   is dropped, so a forged notification does no harm. Then the port leaves the map and,
//!   when the last [`PortRef`] goes too, its receive right is destroyed and the class's
//!   clean routine runs: exactly once.
//! - [`Bucket::inhibit`] and [`Class::inhibit`] stop new RPCs (they are answered `EBUSY`)
//!   and wait for those in progress to finish: what `fsys_goaway` needs.
//! - A [`Demuxer`] hands a request to several interfaces' `try_dispatch` in turn.
//!
//! Lock order: a port's state, then the bucket's map, then a gate. Nothing is dropped
//! that could run a clean routine while any of them is held.
#![forbid(unsafe_code)]

mod bucket;
mod class;
mod demux;
mod gate;
mod port;

pub use bucket::Bucket;
pub use class::Class;
pub use demux::Demuxer;
pub use gate::Inhibited;
pub use port::PortRef;
