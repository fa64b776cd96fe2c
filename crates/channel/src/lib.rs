//! Frames over a `SOCK_SEQPACKET` Unix socket, with file descriptors beside them.
//!
//! One frame is one packet, so boundaries are kept by the socket. A frame larger than a
//! packet may be (a long listing from the kernel) travels in a sealed memfd instead, marked
//! by a one-byte header; the receiver says how large a frame it accepts. Out-of-line
//! message regions are memfds too ([`memfd`]).
#![deny(unsafe_code)]

mod inherit;
pub mod memfd;

pub use inherit::adopt_inherited_socket;

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::net::{
    self, AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags,
    SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use thiserror::Error;

/// The most descriptors one frame carries (the kernel's `SCM_MAX_FD` is 253).
pub const MAX_FDS: usize = 64;
/// The largest frame sent inline in one packet; larger ones go through a memfd.
pub const MAX_PACKET: usize = 128 * 1024;
/// First byte of a packet that carries its frame in a memfd (no real frame starts with it).
const LARGE_FRAME_MARK: u8 = 0xff;

/// Why a frame could not be received.
#[derive(Debug, Error)]
pub enum RecvError {
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    /// The frame was larger than the receiver accepts.
    #[error("frame too large")]
    TooLarge,
    /// More descriptors came than a frame may carry (the extra ones were closed).
    #[error("too many file descriptors in one frame")]
    TooManyFds,
    /// A large-frame marker was malformed.
    #[error("malformed large frame")]
    BadLargeFrame,
    /// The call would block (non-blocking sockets only).
    #[error("would block")]
    WouldBlock,
}

/// One end of a task/kernel connection.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

/// A received frame: its bytes and the descriptors that came with it.
#[derive(Debug, Default)]
pub struct Frame {
    /// The frame's bytes.
    pub bytes: Vec<u8>,
    /// Descriptors, in the order they were sent.
    pub fds: Vec<OwnedFd>,
    /// Receive buffer, zeroed once and reused, so a small frame costs only its own bytes.
    scratch: Vec<u8>,
}

impl Channel {
    /// Wraps a connected `SOCK_SEQPACKET` socket.
    pub fn from_fd(fd: OwnedFd) -> Self {
        Channel { fd }
    }

    /// Connects to a kernel listening at `path`.
    pub fn connect(path: &Path) -> std::io::Result<Self> {
        let fd = net::socket_with(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC,
            None,
        )?;
        let addr = net::SocketAddrUnix::new(path)?;
        net::connect(&fd, &addr)?;
        Ok(Channel { fd })
    }

    /// Gives up the socket.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// A connected pair (the kernel keeps one end and gives the other to a task it spawns).
    pub fn pair() -> std::io::Result<(Self, Self)> {
        let (a, b) = net::socketpair(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC,
            None,
        )?;
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    /// Makes the socket non-blocking (for the kernel's event loop).
    pub fn set_nonblocking(&self) -> std::io::Result<()> {
        rustix::io::ioctl_fionbio(&self.fd, true)?;
        Ok(())
    }

    /// The Linux credentials of the peer, as the kernel saw them at connect time.
    pub fn peer_credentials(&self) -> std::io::Result<PeerCredentials> {
        let cred = net::sockopt::socket_peercred(&self.fd)?;
        Ok(PeerCredentials {
            pid: cred.pid.as_raw_nonzero().get() as u32,
            uid: cred.uid.as_raw(),
            gid: cred.gid.as_raw(),
        })
    }

    /// Sends one frame with `fds` beside it. Frames over [`MAX_PACKET`] go in a memfd.
    pub fn send(&self, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> std::io::Result<()> {
        if bytes.len() > MAX_PACKET || bytes.first() == Some(&LARGE_FRAME_MARK) {
            let region = memfd::Region::from_bytes("herd-frame", bytes)?;
            let mut head = [0u8; 9];
            head[0] = LARGE_FRAME_MARK;
            head[1..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
            let mut all: Vec<BorrowedFd<'_>> = Vec::with_capacity(fds.len() + 1);
            all.push(region.as_fd());
            all.extend_from_slice(fds);
            return self.send_packet(&head, &all);
        }
        self.send_packet(bytes, fds)
    }

    fn send_packet(&self, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> std::io::Result<()> {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS + 1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "too many file descriptors for one frame",
            ));
        }
        loop {
            match net::sendmsg(
                &self.fd,
                &[IoSlice::new(bytes)],
                &mut control,
                SendFlags::NOSIGNAL,
            ) {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Receives one frame into `frame` (whose buffers are reused). Returns `Ok(false)` at
    /// end of stream. Frames over `limit` bytes are refused with [`RecvError::TooLarge`]
    /// after being consumed, so the stream stays in step.
    pub fn recv(&self, frame: &mut Frame, limit: usize) -> Result<bool, RecvError> {
        frame.fds.clear();
        frame.bytes.clear();
        let want = MAX_PACKET.min(limit.max(16)) + 1;
        if frame.scratch.len() < want {
            frame.scratch.resize(want, 0);
        }
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS + 1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let got = loop {
            match net::recvmsg(
                &self.fd,
                &mut [IoSliceMut::new(&mut frame.scratch[..want])],
                &mut control,
                RecvFlags::CMSG_CLOEXEC,
            ) {
                Ok(r) => break r,
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => return Err(RecvError::WouldBlock),
                Err(e) => return Err(RecvError::Io(e.into())),
            }
        };
        for msg in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = msg {
                frame.fds.extend(fds);
            }
        }
        if got.bytes == 0 && frame.fds.is_empty() {
            return Ok(false);
        }
        if got.flags.contains(ReturnFlags::CTRUNC) || frame.fds.len() > MAX_FDS + 1 {
            frame.fds.clear();
            return Err(RecvError::TooManyFds);
        }
        if got.flags.contains(ReturnFlags::TRUNC) || got.bytes > limit {
            frame.fds.clear();
            return Err(RecvError::TooLarge);
        }
        frame.bytes.extend_from_slice(&frame.scratch[..got.bytes]);
        if frame.bytes.first() == Some(&LARGE_FRAME_MARK) {
            self.unpack_large(frame, limit)?;
        }
        Ok(true)
    }

    fn unpack_large(&self, frame: &mut Frame, limit: usize) -> Result<(), RecvError> {
        if frame.bytes.len() != 9 || frame.fds.is_empty() {
            frame.fds.clear();
            return Err(RecvError::BadLargeFrame);
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&frame.bytes[1..9]);
        let len = u64::from_le_bytes(len);
        if len > limit as u64 {
            frame.fds.clear();
            return Err(RecvError::TooLarge);
        }
        let region = frame.fds.remove(0);
        frame.bytes = memfd::read_all(&region, len).map_err(|_| RecvError::BadLargeFrame)?;
        Ok(())
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Who is on the other end of a connection, as Linux says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCredentials {
    /// Process id.
    pub pid: u32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// A listening socket the kernel accepts task connections on.
#[derive(Debug)]
pub struct Listener {
    fd: OwnedFd,
}

impl Listener {
    /// Binds and listens at `path` (which must not exist).
    pub fn bind(path: &Path) -> std::io::Result<Self> {
        let fd = net::socket_with(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        let addr = net::SocketAddrUnix::new(path)?;
        net::bind(&fd, &addr)?;
        net::listen(&fd, 128)?;
        Ok(Listener { fd })
    }

    /// Accepts one connection, or `None` if none is waiting.
    pub fn accept(&self) -> std::io::Result<Option<Channel>> {
        match net::accept_with(&self.fd, SocketFlags::CLOEXEC) {
            Ok(fd) => Ok(Some(Channel { fd })),
            Err(rustix::io::Errno::AGAIN) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_keep_boundaries_and_fds() {
        let (a, b) = Channel::pair().unwrap();
        let region = memfd::Region::from_bytes("t", b"hello").unwrap();
        a.send(b"one", &[region.as_fd()]).unwrap();
        a.send(b"two!", &[]).unwrap();
        let mut f = Frame::default();
        assert!(b.recv(&mut f, 1024).unwrap());
        assert_eq!(f.bytes, b"one");
        assert_eq!(f.fds.len(), 1);
        assert_eq!(memfd::read_all(&f.fds[0], 5).unwrap(), b"hello");
        assert!(b.recv(&mut f, 1024).unwrap());
        assert_eq!(f.bytes, b"two!");
        assert!(f.fds.is_empty());
        drop(a);
        assert!(!b.recv(&mut f, 1024).unwrap());
    }

    #[test]
    fn large_frames_travel_in_a_memfd_and_limits_hold() {
        let (a, b) = Channel::pair().unwrap();
        let big = vec![7u8; 3 * MAX_PACKET];
        a.send(&big, &[]).unwrap();
        let mut f = Frame::default();
        assert!(b.recv(&mut f, 4 * MAX_PACKET).unwrap());
        assert_eq!(f.bytes, big);
        a.send(&big, &[]).unwrap();
        assert!(matches!(b.recv(&mut f, 1024), Err(RecvError::TooLarge)));
        a.send(b"after", &[]).unwrap();
        assert!(b.recv(&mut f, 1024).unwrap());
        assert_eq!(f.bytes, b"after");
    }

    #[test]
    fn oversized_packets_are_refused_not_truncated_silently() {
        let (a, b) = Channel::pair().unwrap();
        a.send(&[1u8; 2000], &[]).unwrap();
        let mut f = Frame::default();
        assert!(matches!(b.recv(&mut f, 100), Err(RecvError::TooLarge)));
    }
}
