//! herd's hostfs: a directory of the host served into the namespace, so real files are
//! reachable (`herd hostfs HOSTDIR [--read-only]`).
//!
//! - Every port to a node is a *protid*: a user (the ids `fsys_getroot` was given) and
//!   an *open* (the node's path inside the tree, open modes, file pointer, a host
//!   descriptor for a file opened to read or write, and where `..` from the root leads).
//! - The tree is only ever reached from the root directory's descriptor, one name at a
//!   time with `O_NOFOLLOW` (directories on the way with `O_PATH`): a host symlink is
//!   never followed by the host. `dir_lookup` resolves host symlinks the way tmpfs
//!   resolves its own: a relative target is spliced into the path and walked here (so its
//!   `..` climbs this tree, and out of its root to the parent in the namespace, never into
//!   the host directory above), an absolute one is handed back with `FS_RETRY_MAGICAL`
//!   (the looker-up's root, not the host's). `..` at the root is `FS_RETRY_REAUTH` to the
//!   directory the translator sits in, or the root itself when it sits on none.
//! - Permissions: the host checks the server's own uid (the server runs as its owner);
//!   on top of that each request is checked against the port's user and the host's
//!   owner, group and permission bits (search on every directory walked, the open's
//!   access, write permission on a directory to change it, ownership for `chmod`).
//! - `--read-only`: every change is `EROFS`.
//! - Not served: translators on its nodes, hard links, `dir_mkfile`, locks, change
//!   notifications (`EOPNOTSUPP`).
#![forbid(unsafe_code)]

mod fs;
mod fsys;
mod host;
mod io;
mod lookup;

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use herd_interfaces::{fs as fsi, fsys as fsysi, io as ioi};
use herd_iohelp::User;
use herd_ports::{Bucket, Class, Demuxer, PortRef};
use herd_runtime::server::ServeError;
use herd_runtime::{Errno, PortArg, PortName, SendRight, ServeOptions, Task};
use thiserror::Error;

use host::{Path, Tree};

/// Why a hostfs server could not start.
#[derive(Debug, Error)]
pub enum HostfsError {
    /// The task has no bootstrap port (it was not started as a translator).
    #[error("no bootstrap port: start this translator with settrans")]
    NoBootstrap,
    /// The parent refused or failed the `fsys_startup` handshake.
    #[error("fsys_startup failed: {0}")]
    Startup(Errno),
    /// The kernel refused to make a port.
    #[error("cannot make the server's ports: {0}")]
    Ports(Errno),
    /// The host directory cannot be opened.
    #[error("cannot open host directory {0}: {1}")]
    HostDir(PathBuf, rustix::io::Errno),
}

/// How a hostfs starts.
#[derive(Clone, Debug)]
pub struct Options {
    /// The host directory to serve.
    pub dir: PathBuf,
    /// Refuse every change (`EROFS`).
    pub read_only: bool,
}

/// The object behind the control port.
struct Control;

/// Where `..` leads out of the server: from the node `at` (the root, or the node a
/// `file_reparent` port was made for) to `port`.
struct Parent {
    at: Path,
    port: SendRight,
}

/// One open of a node, shared by the ports `io_duplicate` and `io_restrict_auth` make.
struct Peropen {
    path: Path,
    modes: AtomicU32,
    pointer: Mutex<u64>,
    /// The host file, for a regular file opened to read or write.
    file: Option<OwnedFd>,
    dotdot: Option<Arc<Parent>>,
}

impl Peropen {
    fn modes(&self) -> u32 {
        self.modes.load(Ordering::Acquire)
    }

    fn with_pointer<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.pointer.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The object behind a node port.
struct Protid {
    user: User,
    po: Arc<Peropen>,
}

/// What every thread of the server shares.
struct Inner {
    tree: Tree,
    options: Options,
    bucket: Bucket,
    protids: Class<Protid>,
    control: PortRef<Control>,
}

impl Inner {
    fn protid(&self, dest: PortName) -> Result<PortRef<Protid>, Errno> {
        self.bucket.lookup(dest).ok_or(Errno::EOPNOTSUPP)
    }

    fn check_control(&self, dest: PortName) -> Result<(), Errno> {
        if dest == self.control.name() {
            Ok(())
        } else {
            Err(Errno::EOPNOTSUPP)
        }
    }

    /// `EROFS` in a read-only server.
    fn check_writable(&self) -> Result<(), Errno> {
        if self.options.read_only {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    fn new_protid(&self, user: User, po: Arc<Peropen>) -> Result<SendRight, Errno> {
        self.bucket
            .create_port(&self.protids, Protid { user, po })?
            .make_send()
    }
}

/// A hostfs server. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct Hostfs {
    inner: Arc<Inner>,
}

impl Hostfs {
    /// Starts as a translator: opens the host directory, makes the control port and sends
    /// it to the bootstrap port (`task`'s first initial port) with `fsys_startup`.
    pub fn startup(task: &Task, options: Options) -> Result<Hostfs, HostfsError> {
        let tree =
            Tree::open(&options.dir).map_err(|e| HostfsError::HostDir(options.dir.clone(), e))?;
        let bootstrap = *task
            .initial_ports()
            .first()
            .ok_or(HostfsError::NoBootstrap)?;
        let bootstrap = SendRight::from_name(task, bootstrap);
        let bucket = Bucket::new(task).map_err(HostfsError::Ports)?;
        let control = bucket
            .create_port(&Class::new("hostfs-control"), Control)
            .map_err(HostfsError::Ports)?;
        let send = control.make_send().map_err(HostfsError::Ports)?;
        // The realnode is not needed: the host directory has its own owner and modes.
        let _realnode = herd_fshelp::bootstrap::startup(task, &bootstrap, send)
            .map_err(HostfsError::Startup)?;
        let inner = Inner {
            tree,
            options,
            bucket,
            protids: Class::new("hostfs-protid"),
            control,
        };
        Ok(Hostfs {
            inner: Arc::new(inner),
        })
    }

    /// How many ports to nodes are alive.
    pub fn open_count(&self) -> usize {
        self.inner.protids.count()
    }

    /// Serves io, fs and fsys on the calling thread and a pool, until `fsys_goaway`
    /// succeeds, [`Hostfs::shutdown`], or the task's end.
    pub fn serve(&self, opts: ServeOptions) -> Result<(), ServeError> {
        let (a, b, c) = (
            Arc::clone(&self.inner),
            Arc::clone(&self.inner),
            Arc::clone(&self.inner),
        );
        let demux = Demuxer::new()
            .with(move |m| ioi::try_dispatch(&*a, m))
            .with(move |m| fsi::try_dispatch(&*b, m))
            .with(move |m| fsysi::try_dispatch(&*c, m));
        self.inner.bucket.serve(demux, opts)
    }

    /// Stops serving and destroys every port with senders (clients see `EDIED`).
    pub fn shutdown(&self) {
        self.inner.bucket.shutdown();
    }
}

/// A port answered by value.
fn send(port: SendRight) -> PortArg {
    PortArg::MoveSend(port)
}
