//! Return codes: the kernel's (`KernError`, Mach's numbers) and the servers' (`Errno`, Linux's).
//!
//! Both are fixed numbers on the wire. A value this build does not know is carried as a
//! number, never transmuted or dropped.

use std::fmt;

macro_rules! kern_errors {
    ($( $(#[$doc:meta])* $variant:ident = $value:expr, $text:expr; )*) => {
        /// A kernel call or message operation that failed, with Mach's return-code numbers.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
        pub enum KernError {
            $( $(#[$doc])* #[error($text)] $variant, )*
            /// A code this build does not know.
            #[error("unknown kernel return code {0:#x}")]
            Unknown(u32),
        }

        impl KernError {
            /// The wire value.
            pub fn code(self) -> u32 {
                match self {
                    $( Self::$variant => $value, )*
                    Self::Unknown(v) => v,
                }
            }

            /// Parses a wire value; `0` (success) is `None`.
            pub fn from_code(code: u32) -> Option<Self> {
                match code {
                    0 => None,
                    $( $value => Some(Self::$variant), )*
                    other => Some(Self::Unknown(other)),
                }
            }

            /// Mach's symbolic name for this code, as tools print it.
            pub fn symbol(self) -> &'static str {
                match self {
                    $( Self::$variant => stringify!($variant), )*
                    Self::Unknown(_) => "Unknown",
                }
            }
        }
    };
}

kern_errors! {
    /// An argument was out of range or malformed.
    InvalidArgument = 4, "invalid argument";
    /// The kernel ran out of a resource (names, memory, queue slots).
    ResourceShortage = 6, "resource shortage";
    /// The name already denotes a right.
    NameExists = 13, "name exists";
    /// The name does not denote a right in the caller's space.
    InvalidName = 15, "invalid name";
    /// The name denotes a right of the wrong kind.
    InvalidRight = 17, "invalid right";
    /// A value (count, limit, delta) is not allowed.
    InvalidValue = 18, "invalid value";
    /// The user-reference count would overflow.
    UrefsOverflow = 19, "user references overflow";
    /// The caller may not do this (wrong owner, not permitted).
    InvalidCapability = 20, "invalid capability";
    /// The caller is not permitted to do this.
    NotPermitted = 24, "operation not permitted";
    /// No such task.
    InvalidTask = 25, "invalid task";
    /// The frame could not be parsed or broke a size limit.
    SendInvalidData = 0x1000_0002, "send: invalid data";
    /// The destination is not a send or send-once right, or its port is dead.
    SendInvalidDest = 0x1000_0003, "send: invalid destination";
    /// The destination queue stayed full for the whole send timeout.
    SendTimedOut = 0x1000_0004, "send: timed out";
    /// The reply right is not a valid right for its disposition.
    SendInvalidReply = 0x1000_0009, "send: invalid reply port";
    /// A right carried in the body is not held or has the wrong kind.
    SendInvalidRight = 0x1000_000a, "send: invalid right in body";
    /// A disposition value is not one of Mach's.
    SendInvalidType = 0x1000_000f, "send: invalid disposition";
    /// The header is malformed.
    SendInvalidHeader = 0x1000_0010, "send: invalid header";
    /// The message is larger than the kernel accepts.
    SendTooLarge = 0x1000_0011, "send: message too large";
    /// The receive name is not a receive right or port set.
    RcvInvalidName = 0x1000_4002, "receive: invalid name";
    /// Nothing arrived before the receive timeout.
    RcvTimedOut = 0x1000_4003, "receive: timed out";
    /// The port was moved into a port set while the caller waited on it.
    RcvPortChanged = 0x1000_4006, "receive: port changed (moved into a set)";
    /// The receive right was destroyed or moved while the caller waited on it.
    RcvPortDied = 0x1000_4009, "receive: port died";
    /// The port is a member of a port set; receive from the set instead.
    RcvInSet = 0x1000_400a, "receive: port is in a set";
    /// The caller broke the framing protocol.
    ProtocolViolation = 0x1000_8001, "protocol violation";
}

/// A POSIX error number as servers return it (Linux values), carried as a number so an
/// unknown value from a peer survives.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(1);
    /// No such file or directory.
    pub const ENOENT: Errno = Errno(2);
    /// Interrupted.
    pub const EINTR: Errno = Errno(4);
    /// Input/output error.
    pub const EIO: Errno = Errno(5);
    /// Bad file descriptor / port.
    pub const EBADF: Errno = Errno(9);
    /// Try again.
    pub const EAGAIN: Errno = Errno(11);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(12);
    /// Permission denied.
    pub const EACCES: Errno = Errno(13);
    /// Busy.
    pub const EBUSY: Errno = Errno(16);
    /// Exists.
    pub const EEXIST: Errno = Errno(17);
    /// Not a directory.
    pub const ENOTDIR: Errno = Errno(20);
    /// Is a directory.
    pub const EISDIR: Errno = Errno(21);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(22);
    /// No such device or address.
    pub const ENXIO: Errno = Errno(6);
    /// Cross-device link.
    pub const EXDEV: Errno = Errno(18);
    /// File too large.
    pub const EFBIG: Errno = Errno(27);
    /// Illegal seek.
    pub const ESPIPE: Errno = Errno(29);
    /// Read-only file system.
    pub const EROFS: Errno = Errno(30);
    /// Too many links.
    pub const EMLINK: Errno = Errno(31);
    /// File name too long.
    pub const ENAMETOOLONG: Errno = Errno(36);
    /// No record locks available.
    pub const ENOLCK: Errno = Errno(37);
    /// Directory not empty.
    pub const ENOTEMPTY: Errno = Errno(39);
    /// Too many levels of symbolic links.
    pub const ELOOP: Errno = Errno(40);
    /// Value too large for the data type.
    pub const EOVERFLOW: Errno = Errno(75);
    /// Stale file handle.
    pub const ESTALE: Errno = Errno(116);
    /// No space left.
    pub const ENOSPC: Errno = Errno(28);
    /// Function not implemented.
    pub const ENOSYS: Errno = Errno(38);
    /// Operation not supported.
    pub const EOPNOTSUPP: Errno = Errno(95);
    /// Timed out.
    pub const ETIMEDOUT: Errno = Errno(110);
    /// Bad message (the reply or request could not be decoded).
    pub const EBADMSG: Errno = Errno(74);
    /// The server died or its port is gone (the Hurd's `EMACH_SEND_INVALID_DEST`).
    pub const EDIED: Errno = Errno(0x1000_0003);
    /// The server does not implement this routine (MIG's `MIG_BAD_ID`).
    pub const MIG_BAD_ID: Errno = Errno(-303);
    /// The request's arguments did not decode (MIG's `MIG_BAD_ARGUMENTS`).
    pub const MIG_BAD_ARGUMENTS: Errno = Errno(-304);
    /// The reply did not decode (MIG's `MIG_TYPE_ERROR`).
    pub const MIG_TYPE_ERROR: Errno = Errno(-300);

    /// The symbolic name, if known.
    pub fn symbol(self) -> Option<&'static str> {
        Some(match self {
            Self::EPERM => "EPERM",
            Self::ENOENT => "ENOENT",
            Self::EINTR => "EINTR",
            Self::EIO => "EIO",
            Self::EBADF => "EBADF",
            Self::EAGAIN => "EAGAIN",
            Self::ENOMEM => "ENOMEM",
            Self::EACCES => "EACCES",
            Self::EBUSY => "EBUSY",
            Self::EEXIST => "EEXIST",
            Self::ENOTDIR => "ENOTDIR",
            Self::EISDIR => "EISDIR",
            Self::EINVAL => "EINVAL",
            Self::ENXIO => "ENXIO",
            Self::EXDEV => "EXDEV",
            Self::EFBIG => "EFBIG",
            Self::ESPIPE => "ESPIPE",
            Self::EROFS => "EROFS",
            Self::EMLINK => "EMLINK",
            Self::ENAMETOOLONG => "ENAMETOOLONG",
            Self::ENOLCK => "ENOLCK",
            Self::ENOTEMPTY => "ENOTEMPTY",
            Self::ELOOP => "ELOOP",
            Self::EOVERFLOW => "EOVERFLOW",
            Self::ESTALE => "ESTALE",
            Self::ENOSPC => "ENOSPC",
            Self::ENOSYS => "ENOSYS",
            Self::EOPNOTSUPP => "EOPNOTSUPP",
            Self::ETIMEDOUT => "ETIMEDOUT",
            Self::EBADMSG => "EBADMSG",
            Self::EDIED => "EDIED",
            Self::MIG_BAD_ID => "MIG_BAD_ID",
            Self::MIG_BAD_ARGUMENTS => "MIG_BAD_ARGUMENTS",
            Self::MIG_TYPE_ERROR => "MIG_TYPE_ERROR",
            _ => return None,
        })
    }
}

impl From<KernError> for Errno {
    fn from(e: KernError) -> Errno {
        Errno(e.code() as i32)
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.symbol() {
            Some(s) => f.write_str(s),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for Errno {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_values_survive() {
        for code in [4u32, 15, 0x1000_0003, 0x1000_4003, 0xdead] {
            let e = KernError::from_code(code).unwrap();
            assert_eq!(e.code(), code);
        }
        assert_eq!(KernError::from_code(0), None);
        assert_eq!(
            KernError::from_code(0xdead),
            Some(KernError::Unknown(0xdead))
        );
        assert_eq!(format!("{:?}", Errno(9999)), "errno 9999");
        assert_eq!(format!("{}", Errno::ENOENT), "ENOENT");
    }
}
