//! Taking ownership of a socket inherited across `exec` by its descriptor number (how a
//! task the kernel spawns gets its first connection). The only `unsafe` in the crate.
#![allow(unsafe_code)]

use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Mutex;

use rustix::fd::BorrowedFd;
use rustix::net::SocketType;

/// Descriptor numbers already adopted by this process: each may be taken only once.
static ADOPTED: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Takes ownership of descriptor `fd`, which must be an open `SOCK_SEQPACKET` socket
/// inherited from the parent, and marks it close-on-exec. A number can be adopted once
/// per process (a second attempt is an error, never a second owner); the returned
/// `OwnedFd` closes it when dropped.
pub fn adopt_inherited_socket(fd: i32) -> std::io::Result<OwnedFd> {
    if fd < 3 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("descriptor {fd} is a standard stream, not an inherited socket"),
        ));
    }
    let mut adopted = ADOPTED.lock().unwrap_or_else(|p| p.into_inner());
    if adopted.contains(&fd) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("descriptor {fd} was already adopted"),
        ));
    }
    // SAFETY: `fd` is only borrowed for the duration of these checks; `fcntl(F_GETFD)`
    // fails with EBADF if the number is not open, in which case we return before keeping
    // it, and nothing else in this process closes it meanwhile.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    rustix::io::fcntl_getfd(borrowed)?;
    if rustix::net::sockopt::socket_type(borrowed)? != SocketType::SEQPACKET {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("descriptor {fd} is not a SOCK_SEQPACKET socket"),
        ));
    }
    rustix::io::fcntl_setfd(borrowed, rustix::io::FdFlags::CLOEXEC)?;
    adopted.push(fd);
    // SAFETY: the number is open (checked above) and is a socket the parent handed us for
    // exactly this purpose; `ADOPTED` guarantees it is taken once, so this is its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
