//! Errors of tmpfs operations, each one errno value (Linux numbering, as herd's wire uses).

use herd_wire::Errno;
use thiserror::Error;

/// The errno values this crate returns beyond the common ones, by name (they are
/// `herd_wire::Errno`'s constants).
pub mod errno {
    pub use herd_wire::Errno;

    /// File too large.
    pub const EFBIG: Errno = Errno::EFBIG;
    /// Too many links.
    pub const EMLINK: Errno = Errno::EMLINK;
    /// File name too long.
    pub const ENAMETOOLONG: Errno = Errno::ENAMETOOLONG;
    /// Directory not empty.
    pub const ENOTEMPTY: Errno = Errno::ENOTEMPTY;
    /// No record locks available.
    pub const ENOLCK: Errno = Errno::ENOLCK;
    /// Value too large for the data type.
    pub const EOVERFLOW: Errno = Errno::EOVERFLOW;
    /// Stale file handle.
    pub const ESTALE: Errno = Errno::ESTALE;
}

/// Why a tmpfs operation failed. Every variant is one errno value ([`Error::errno`]), which
/// is what the server layer replies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum Error {
    /// `EPERM`: the caller lacks a privilege that no mode bit grants (not the owner,
    /// sticky directory, hard link to a directory, device node by a non-superuser).
    #[error("operation not permitted")]
    NotPermitted,
    /// `ENOENT`: no such entry, an empty name, or a directory that has been removed.
    #[error("no such file or directory")]
    NotFound,
    /// `EACCES`: the mode bits deny the access.
    #[error("permission denied")]
    AccessDenied,
    /// `EEXIST`: the name is taken.
    #[error("file exists")]
    Exists,
    /// `ENOTDIR`: a directory was needed.
    #[error("not a directory")]
    NotDirectory,
    /// `EISDIR`: a directory was not allowed here.
    #[error("is a directory")]
    IsDirectory,
    /// `EINVAL`: a bad argument (a name with `/` or NUL, moving a directory into itself,
    /// reading a node that has no data).
    #[error("invalid argument")]
    Invalid,
    /// `EFBIG`: an offset or size past the largest file size.
    #[error("file too large")]
    FileTooBig,
    /// `ENOSPC`: the size or inode limit is reached.
    #[error("no space left on device")]
    NoSpace,
    /// `EMLINK`: a node has the most links it may have.
    #[error("too many links")]
    TooManyLinks,
    /// `ENAMETOOLONG`: a name over 255 bytes, or a symlink target or translator record over
    /// its limit.
    #[error("file name too long")]
    NameTooLong,
    /// `ENOTEMPTY`: the directory has entries.
    #[error("directory not empty")]
    NotEmpty,
    /// `EBUSY`: renaming `.` or `..`.
    #[error("device or resource busy")]
    Busy,
    /// `EAGAIN`: a lock is held by another owner (the caller decides whether to wait).
    #[error("resource temporarily unavailable")]
    WouldBlock,
    /// `ENOLCK`: a node holds the most record locks it may.
    #[error("no locks available")]
    NoLocks,
    /// `EOVERFLOW`: a lock range does not fit in a file offset.
    #[error("value too large")]
    Overflow,
    /// `ESTALE`: the inode number names no live node (it was freed, or never existed).
    #[error("stale inode")]
    Stale,
}

impl Error {
    /// The errno value to reply with.
    pub fn errno(self) -> Errno {
        match self {
            Error::NotPermitted => Errno::EPERM,
            Error::NotFound => Errno::ENOENT,
            Error::AccessDenied => Errno::EACCES,
            Error::Exists => Errno::EEXIST,
            Error::NotDirectory => Errno::ENOTDIR,
            Error::IsDirectory => Errno::EISDIR,
            Error::Invalid => Errno::EINVAL,
            Error::FileTooBig => errno::EFBIG,
            Error::NoSpace => Errno::ENOSPC,
            Error::TooManyLinks => errno::EMLINK,
            Error::NameTooLong => errno::ENAMETOOLONG,
            Error::NotEmpty => errno::ENOTEMPTY,
            Error::Busy => Errno::EBUSY,
            Error::WouldBlock => Errno::EAGAIN,
            Error::NoLocks => errno::ENOLCK,
            Error::Overflow => errno::EOVERFLOW,
            Error::Stale => errno::ESTALE,
        }
    }
}

impl From<Error> for Errno {
    fn from(e: Error) -> Errno {
        e.errno()
    }
}

/// The result of a tmpfs operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_values_are_linux_numbers() {
        assert_eq!(Error::NotEmpty.errno(), Errno(39));
        assert_eq!(Error::NameTooLong.errno(), Errno(36));
        assert_eq!(Error::FileTooBig.errno(), Errno(27));
        assert_eq!(Errno::from(Error::WouldBlock), Errno::EAGAIN);
        assert_eq!(Error::Stale.errno(), Errno(116));
    }
}
