//! herd's node kernel: the broker that plays Mach.
//!
//! It owns every port, port set, name space and message queue of a node. Tasks are Linux
//! processes; each thread that talks to the kernel has its own `SOCK_SEQPACKET`
//! connection. The port logic ([`state::Kernel`]) is a state machine with no I/O:
//! inputs are connections, frames, closes and time; outputs are frames to send,
//! connections to close and programs to start. [`driver::Driver`] is the thin epoll loop
//! around it. The rules it follows are written down in `docs/port-semantics.md`.
//!
//! Lock order: there are no locks. The kernel is single-threaded by design; everything a
//! task asks is answered in the order asked, and no handler waits on anything.
#![forbid(unsafe_code)]

mod calls;
pub mod check;
pub mod driver;
mod introspect;
mod ipc;
pub mod objects;
mod rights;
pub mod space;
mod special;
pub mod state;
mod trace;
mod transfer;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

pub use state::{Action, Input, Kernel};

/// A kernel running on a background thread of this process (for tests, benchmarks and
/// `herd boot`). Dropping it stops the kernel.
pub struct KernelHandle {
    socket: PathBuf,
    stop: Option<OwnedFd>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl KernelHandle {
    /// Binds `socket` (removing a stale socket file first) and runs a kernel there.
    pub fn start(socket: &Path) -> std::io::Result<KernelHandle> {
        if socket.exists() {
            std::fs::remove_file(socket)?;
        }
        let listener = herd_channel::Listener::bind(socket)?;
        let (stop_read, stop_write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let mut driver = driver::Driver::new(listener, socket, Some(stop_read))?;
        let thread = std::thread::Builder::new()
            .name("herd-kernel".into())
            .spawn(move || driver.run())?;
        Ok(KernelHandle {
            socket: socket.to_path_buf(),
            stop: Some(stop_write),
            thread: Some(thread),
        })
    }

    /// Where tasks connect.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for KernelHandle {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Runs a kernel at `socket` on the calling thread until the process is stopped.
pub fn serve(socket: &Path) -> std::io::Result<()> {
    if socket.exists() {
        std::fs::remove_file(socket)?;
    }
    let listener = herd_channel::Listener::bind(socket)?;
    driver::Driver::new(listener, socket, None)?.run()
}
