//! The core of herd's `tmpfs`: a complete in-memory POSIX file system as a library, with no
//! IPC and no I/O. The `tmpfs` server (netfs plus the io and fs interfaces) is a thin layer
//! over [`Fs`]: it turns each RPC into one call here, replies with [`Error::errno`], and
//! turns [`Fs::take_changes`] into change notifications.
//!
//! What it holds: regular files (sparse: holes cost nothing), directories (listings resume
//! by stable cookies), symlinks, fifo/socket/device nodes as metadata, a passive
//! translator record per node, POSIX record locks and `flock` locks. What it enforces: the
//! size and inode [`Limits`], and Linux's permission rules for the caller's [`Identity`]
//! (mode bits, sticky and setgid directories, who may chmod, chown, set times and set
//! translators). Nodes stay alive while open ([`Fs::hold`]) after their last name goes.
//!
//! Times come from a [`Clock`] given at creation, so tests are deterministic.
//!
//! ```
//! use herd_tmpfs::{Fs, Identity, Ino, Limits, ManualClock};
//!
//! let mut fs = Fs::new(Limits::UNLIMITED, ManualClock::default());
//! let me = Identity::user(1000, &[1000]);
//! let home = fs.mkdir(&Identity::root(), Ino::ROOT, b"home", 0o755).unwrap();
//! fs.chown(&Identity::root(), home, Some(1000), Some(1000)).unwrap();
//! let (file, _) = fs.create(&me, home, b"notes", 0o644, true).unwrap();
//! fs.write(&me, file, 0, b"hello").unwrap();
//! assert_eq!(fs.read(file, 0, 100).unwrap(), b"hello");
//! assert_eq!(fs.lookup(&me, home, b"notes"), Ok(file));
//! ```
#![forbid(unsafe_code)]

mod attr;
mod change;
mod create;
mod dir;
mod error;
mod file;
mod fs;
mod io;
mod lock;
mod name;
mod node;
mod remove;
mod rename;
mod types;

pub use attr::{SetTime, TRANSLATOR_MAX};
pub use change::{Change, CHANGE_LOG_MAX};
pub use create::SYMLINK_MAX;
pub use dir::{DirEntry, DIRENT_SIZE};
pub use error::{errno, Error, Result};
pub use file::{CHUNK_SIZE, MAX_FILE_SIZE};
pub use fs::{Fs, StatFs};
pub use io::MAX_READ;
pub use lock::{FlockOp, LockKind, RecordLock, MAX_RECORD_LOCKS};
pub use name::NAME_MAX;
pub use node::{Kind, Special, Stat};
pub use rename::RenameMode;
pub use types::{mode, Access, Clock, Identity, Ino, Limits, ManualClock, SystemClock, Timestamp};
