//! Out-of-line regions: anonymous memory files (`memfd`) that travel by descriptor, so the
//! kernel forwards them without touching their pages.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{self, MemfdFlags, SealFlags};

/// A memfd holding an out-of-line region.
#[derive(Debug)]
pub struct Region {
    fd: OwnedFd,
    len: u64,
}

impl Region {
    /// A sealed region holding a copy of `bytes` (the receiver cannot change what the sender
    /// sent, nor can the sender change it after sending).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> std::io::Result<Self> {
        let fd = fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
        write_all_at(&fd, bytes)?;
        fs::fcntl_add_seals(
            &fd,
            SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
        )?;
        Ok(Region {
            fd,
            len: bytes.len() as u64,
        })
    }

    /// Wraps a received descriptor that should hold `len` bytes.
    pub fn from_fd(fd: OwnedFd, len: u64) -> Self {
        Region { fd, len }
    }

    /// The region's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads the whole region.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        read_all(&self.fd, self.len)
    }

    /// Reads at most `n` bytes from the start (for previews).
    pub fn read_prefix(&self, n: usize) -> std::io::Result<Vec<u8>> {
        read_all(&self.fd, self.len.min(n as u64))
    }

    /// Gives up the descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for Region {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn write_all_at(fd: &OwnedFd, mut bytes: &[u8]) -> std::io::Result<()> {
    let mut off = 0u64;
    while !bytes.is_empty() {
        let n = rustix::io::pwrite(fd, bytes, off)?;
        bytes = &bytes[n..];
        off += n as u64;
    }
    Ok(())
}

/// Reads exactly `len` bytes from the start of `fd`; a region shorter than it claims is an
/// error (the sender lied about its size), never zeros.
pub fn read_all(fd: &impl AsFd, len: u64) -> std::io::Result<Vec<u8>> {
    let len = usize::try_from(len)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "region too large"))?;
    let mut buf = vec![0u8; len];
    let mut off = 0usize;
    while off < len {
        let n = rustix::io::pread(fd, &mut buf[off..], off as u64)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "out-of-line region shorter than its stated size",
            ));
        }
        off += n;
    }
    Ok(buf)
}

/// Whether `fd` is a memfd sealed against writing and shrinking, holding at least `len`
/// bytes: only such a region is safe to hand to another task.
pub fn is_sealed_region(fd: &impl AsFd, len: u64) -> bool {
    let Ok(seals) = fs::fcntl_get_seals(fd) else {
        return false;
    };
    if !seals.contains(SealFlags::WRITE | SealFlags::SHRINK) {
        return false;
    }
    fs::fstat(fd).is_ok_and(|st| st.st_size as u64 >= len)
}
