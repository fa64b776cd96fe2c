//! The numbers the io, fs and fsys interfaces carry, with the Hurd's values (glibc's
//! `bits/fcntl.h` for the Hurd, `hurd_types.h`), so a reader of Hurd code recognises them.

/// Open flags (`dir_lookup`'s `flags`, `fsys_getroot`'s `flags`, `io_get_openmodes`).
pub mod open {
    /// Open for reading.
    pub const O_READ: u32 = 0x0001;
    /// Open for writing.
    pub const O_WRITE: u32 = 0x0002;
    /// Open for executing.
    pub const O_EXEC: u32 = 0x0004;
    /// Reading and writing.
    pub const O_RDWR: u32 = O_READ | O_WRITE;
    /// Do not block.
    pub const O_NONBLOCK: u32 = 0x0008;
    /// Create the file if it does not exist.
    pub const O_CREAT: u32 = 0x0010;
    /// With `O_CREAT`: fail if it exists.
    pub const O_EXCL: u32 = 0x0020;
    /// Do not count the open as a link (no access-time update).
    pub const O_NOLINK: u32 = 0x0040;
    /// Open the node itself, not the translator on it.
    pub const O_NOTRANS: u32 = 0x0080;
    /// Every write appends.
    pub const O_APPEND: u32 = 0x0100;
    /// Send SIGIO when input is ready.
    pub const O_ASYNC: u32 = 0x0200;
    /// Writes are synchronous.
    pub const O_FSYNC: u32 = 0x0400;
    /// Do not update the access time.
    pub const O_NOATIME: u32 = 0x0800;
    /// Truncate to zero length.
    pub const O_TRUNC: u32 = 0x0001_0000;
    /// Take a shared lock at open.
    pub const O_SHLOCK: u32 = 0x0002_0000;
    /// Take an exclusive lock at open.
    pub const O_EXLOCK: u32 = 0x0004_0000;
    /// Do not follow a final symlink (nor a translator other than a root's).
    pub const O_NOFOLLOW: u32 = 0x0010_0000;
    /// Fail unless the node is a directory.
    pub const O_DIRECTORY: u32 = 0x0020_0000;
    /// The modes `io_set_all_openmodes` and friends may change.
    pub const CHANGEABLE: u32 = O_APPEND | O_ASYNC | O_FSYNC | O_NONBLOCK | O_NOATIME;
}

/// `dir_lookup`'s and `fsys_getroot`'s `do_retry` answer.
pub mod retry {
    /// Normal: with an empty `retry_name` the result is the node; otherwise look
    /// `retry_name` up at the result.
    pub const FS_RETRY_NORMAL: u32 = 1;
    /// Reauthenticate the result (`io_reauthenticate`) and retry, even with an empty name.
    pub const FS_RETRY_REAUTH: u32 = 2;
    /// The client interprets `retry_name` itself (`/...` from its root, `fd/N`, `tty`...).
    pub const FS_RETRY_MAGICAL: u32 = 3;
}

/// File type and permission bits of [`Stat::mode`](super::Stat).
pub mod mode {
    /// The file type bits.
    pub const S_IFMT: u32 = 0o170_000;
    /// A socket.
    pub const S_IFSOCK: u32 = 0o140_000;
    /// A symbolic link.
    pub const S_IFLNK: u32 = 0o120_000;
    /// A regular file.
    pub const S_IFREG: u32 = 0o100_000;
    /// A block device.
    pub const S_IFBLK: u32 = 0o060_000;
    /// A directory.
    pub const S_IFDIR: u32 = 0o040_000;
    /// A character device.
    pub const S_IFCHR: u32 = 0o020_000;
    /// A fifo.
    pub const S_IFIFO: u32 = 0o010_000;
    /// Set-user-id.
    pub const S_ISUID: u32 = 0o4000;
    /// Set-group-id.
    pub const S_ISGID: u32 = 0o2000;
    /// Sticky.
    pub const S_ISVTX: u32 = 0o1000;
    /// Every bit `file_chmod` may set (permissions and the three special bits).
    pub const S_IALLUGO: u32 = 0o7777;
}

/// [`Stat::fstype`](super::Stat) values (the Hurd's `FSTYPE_*`).
pub mod fstype {
    /// A device (null, zero, random...).
    pub const FSTYPE_DEV: u32 = 15;
    /// Anything else.
    pub const FSTYPE_MISC: u32 = 22;
    /// A memory file system (tmpfs).
    pub const FSTYPE_MEMFS: u32 = 25;
}

/// `file_set_translator`'s flags.
pub mod trans {
    /// Do not short-circuit the translator (start it even if the server knows it).
    pub const FS_TRANS_FORCE: u32 = 1;
    /// Fail if there is already a translator.
    pub const FS_TRANS_EXCL: u32 = 2;
    /// Set (or, with an empty command, clear) the translator.
    pub const FS_TRANS_SET: u32 = 4;
    /// Leave the old active translator running, detached.
    pub const FS_TRANS_ORPHAN: u32 = 8;
}

/// `fsys_goaway`'s flags.
pub mod goaway {
    /// Do not wait for the translator to finish.
    pub const FSYS_GOAWAY_NOWAIT: u32 = 1;
    /// Do not sync first.
    pub const FSYS_GOAWAY_NOSYNC: u32 = 2;
    /// Go away even with users.
    pub const FSYS_GOAWAY_FORCE: u32 = 4;
    /// The node is being unlinked.
    pub const FSYS_GOAWAY_UNLINK: u32 = 8;
    /// Ask the translator's own children to go away too.
    pub const FSYS_GOAWAY_RECURSE: u32 = 16;
}

/// `file_lock`'s flags and `file_lock_stat`'s answers (BSD `flock`).
pub mod lock {
    /// A shared lock.
    pub const LOCK_SH: u32 = 1;
    /// An exclusive lock.
    pub const LOCK_EX: u32 = 2;
    /// Do not wait (fail with `EWOULDBLOCK`).
    pub const LOCK_NB: u32 = 4;
    /// Unlock.
    pub const LOCK_UN: u32 = 8;
}

/// `io_seek`'s `whence`.
pub mod seek {
    /// From the start.
    pub const SEEK_SET: u32 = 0;
    /// From the file pointer.
    pub const SEEK_CUR: u32 = 1;
    /// From the end.
    pub const SEEK_END: u32 = 2;
}

/// `fs_notify.dir_changed`'s `change`.
pub mod dir_change {
    /// The notification was just requested (tick 0).
    pub const DIR_CHANGED_NULL: u32 = 0;
    /// A name was added.
    pub const DIR_CHANGED_NEW: u32 = 1;
    /// A name was removed.
    pub const DIR_CHANGED_UNLINK: u32 = 2;
    /// A name now names another node.
    pub const DIR_CHANGED_RENUMBER: u32 = 3;
}

/// `fs_notify.file_changed`'s `change`.
pub mod file_change {
    /// The notification was just requested (tick 0).
    pub const FILE_CHANGED_NULL: u32 = 0;
    /// Bytes `start..end` were written.
    pub const FILE_CHANGED_WRITE: u32 = 1;
    /// The file grew to `end`.
    pub const FILE_CHANGED_EXTEND: u32 = 2;
    /// The file shrank to `start`.
    pub const FILE_CHANGED_TRUNCATE: u32 = 3;
    /// The status (mode, owner, times) changed.
    pub const FILE_CHANGED_META: u32 = 4;
}

/// `Timespec::nsec` in `file_utimes`: set that time to the server's current time.
pub const UTIME_NOW: u32 = (1 << 30) - 1;
/// `Timespec::nsec` in `file_utimes`: leave that time alone.
pub const UTIME_OMIT: u32 = (1 << 30) - 2;

/// The most bytes one `io_read` answers and one `io_write` should carry: the data
/// travels inline, and a message's inline part is at most 64 KiB. A larger read is
/// answered short, as POSIX allows.
pub const IO_MAX: u64 = 32 * 1024;

/// The longest name a `dir_lookup` path component may have.
pub const NAME_MAX: usize = 255;
