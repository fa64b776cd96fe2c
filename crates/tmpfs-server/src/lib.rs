//! herd's tmpfs server: the in-memory POSIX file system of `herd-tmpfs` served through
//! the io, fs and fsys interfaces on `herd-ports`, so it runs as a translator (`herd
//! tmpfs`) or inside another program (tests, a boot fixture publishing the root).
//!
//! - Every port to a node is one *protid*: a user (the ids `fsys_getroot` was given) and
//!   an *open* (node, open modes, file pointer, and where `..` from the root leads),
//!   shared by the ports `io_duplicate` and `io_restrict_auth` make. The node is held in
//!   the core while an open lives, so an unlinked file stays readable.
//! - `dir_lookup` follows the Hurd: multi-component paths inside the server, relative
//!   symlinks followed here and absolute ones handed back (`FS_RETRY_MAGICAL`), `..` from
//!   the root of a translator handed back to the parent (`FS_RETRY_REAUTH`), and nodes
//!   with translators crossed through `herd-fshelp` (the passive one started on the first
//!   lookup that needs it). The flags `O_CREAT`, `O_EXCL`, `O_TRUNC`, `O_DIRECTORY`,
//!   `O_NOLINK`, `O_NOFOLLOW` (`Errno::ELOOP` on a final symlink) and `O_NOTRANS` apply.
//! - Symlinks are made the Hurd's way: `dir_mkfile`, `file_set_translator` with the
//!   passive record `/hurd/symlink TARGET`, then `dir_link`; a record like that on any
//!   regular file makes it a symlink too, and `file_get_translator` of a symlink answers
//!   that record.
//! - `file_reparent` gives an open whose `..` (from that node) leads to the port given,
//!   as `..` from a translator's root does (what `firmlink` asks of its target).
//! - Changes are reported to the ports given to `dir_notice_changes` and
//!   `file_notice_changes` (`fs_notify` messages, sent without waiting).
//! - The control port answers `fsys_getroot`, `fsys_goaway` (refused while ports are
//!   open unless forced; translators on its nodes are sent away first),
//!   `fsys_get_options`/`fsys_set_options` (`--size=N`, with `k`, `M`, `G`).
#![forbid(unsafe_code)]

mod fs;
mod fsys;
mod io;
mod lookup;
mod notify;
mod server;

use std::sync::Arc;

use herd_fshelp::Launcher;
use herd_interfaces::{fs as fsi, fsys as fsysi, io as ioi};
use herd_iohelp::User;
use herd_ports::{Bucket, Class, Demuxer};
use herd_runtime::server::ServeError;
use herd_runtime::{Errno, PortArg, SendRight, ServeOptions, Task};
use herd_tmpfs::{Fs, Identity, Ino, Limits, SystemClock};
use thiserror::Error;

pub use fsys::parse_size;
pub use lookup::{MAX_SYMLINKS, PATH_MAX};

use server::{Control, Inner};

/// Why a tmpfs server could not start.
#[derive(Debug, Error)]
pub enum TmpfsError {
    /// The task has no bootstrap port (it was not started as a translator).
    #[error("no bootstrap port: start this translator with settrans (or as a kernel task with one initial port)")]
    NoBootstrap,
    /// The parent refused or failed the `fsys_startup` handshake.
    #[error("fsys_startup failed: {0}")]
    Startup(Errno),
    /// The kernel refused to make a port.
    #[error("cannot make the server's ports: {0}")]
    Ports(Errno),
    /// The node it sits on could not be asked for its status.
    #[error("cannot stat the underlying node: {0}")]
    Realnode(Errno),
    /// Options it does not take.
    #[error("bad options: {0:?}")]
    Options(Vec<String>),
}

/// How a tmpfs starts.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The size limit in bytes (`None`: memory is the limit).
    pub size: Option<u64>,
    /// The root's permission bits when it sits on no node (default `0o1777`).
    pub mode: Option<u32>,
    /// The root's owner and group when it sits on no node (default root's).
    pub owner: Option<(u32, u32)>,
}

/// A tmpfs server. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct Tmpfs {
    inner: Arc<Inner>,
}

impl Tmpfs {
    /// A server of `task`'s, not attached anywhere: its root takes its owner, group and
    /// permission bits from `realnode` if given, else from `options`. Translators on its
    /// nodes are started by `launcher`.
    pub fn new(
        task: &Task,
        options: &Options,
        launcher: Launcher,
        realnode: Option<SendRight>,
    ) -> Result<Tmpfs, TmpfsError> {
        let bucket = Bucket::new(task).map_err(TmpfsError::Ports)?;
        let control = bucket
            .create_port(&Class::new("tmpfs-control"), Control)
            .map_err(TmpfsError::Ports)?;
        Self::assemble(task, options, launcher, realnode, bucket, control)
    }

    /// Starts as a translator: makes the control port, sends it to the bootstrap port
    /// (`task`'s first initial port) with `fsys_startup`, and takes the root's owner,
    /// group and permissions from the realnode it is answered (else from `options`).
    pub fn startup(
        task: &Task,
        options: &Options,
        launcher: Launcher,
    ) -> Result<Tmpfs, TmpfsError> {
        let bootstrap = *task
            .initial_ports()
            .first()
            .ok_or(TmpfsError::NoBootstrap)?;
        let bootstrap = SendRight::from_name(task, bootstrap);
        let bucket = Bucket::new(task).map_err(TmpfsError::Ports)?;
        let control = bucket
            .create_port(&Class::new("tmpfs-control"), Control)
            .map_err(TmpfsError::Ports)?;
        let send = control.make_send().map_err(TmpfsError::Ports)?;
        let realnode =
            herd_fshelp::bootstrap::startup(task, &bootstrap, send).map_err(TmpfsError::Startup)?;
        Self::assemble(task, options, launcher, realnode, bucket, control)
    }

    fn assemble(
        task: &Task,
        options: &Options,
        launcher: Launcher,
        realnode: Option<SendRight>,
        bucket: Bucket,
        control: herd_ports::PortRef<Control>,
    ) -> Result<Tmpfs, TmpfsError> {
        let limits = Limits {
            max_bytes: options.size.unwrap_or(u64::MAX),
            ..Limits::UNLIMITED
        };
        let mut fs = Fs::new(limits, SystemClock);
        let (uid, gid, perm) = match &realnode {
            Some(r) => {
                let st = ioi::io_stat(task, r).map_err(TmpfsError::Realnode)?;
                let mut perm = st.mode & 0o7777;
                // A directory needs search bits where it may be read.
                perm |= (perm & 0o444) >> 2;
                (st.uid, st.gid, perm)
            }
            None => {
                let (uid, gid) = options.owner.unwrap_or((0, 0));
                (uid, gid, options.mode.unwrap_or(0o1777))
            }
        };
        let root = Identity::root();
        fs.chown(&root, Ino::ROOT, Some(uid), Some(gid))
            .and_then(|()| fs.chmod(&root, Ino::ROOT, perm))
            .map_err(|e| TmpfsError::Realnode(e.errno()))?;
        let fsidport = bucket
            .create_port(&Class::new("tmpfs-identity"), Control)
            .map_err(TmpfsError::Ports)?;
        let inner = Inner::new(task, fs, launcher, realnode, bucket, control, fsidport);
        Ok(Tmpfs {
            inner: Arc::new(inner),
        })
    }

    /// A new send right to the control port.
    pub fn control(&self) -> Result<SendRight, Errno> {
        self.inner.control.make_send()
    }

    /// The root directory opened with `flags` for `user` (what `fsys_getroot` gives, for a
    /// server in this process).
    pub fn root(&self, user: &User, flags: u32) -> Result<SendRight, Errno> {
        let (_, _, port) = self.inner.open_node(user, Ino::ROOT, flags, false, None)?;
        match port {
            PortArg::MoveSend(s) => Ok(s),
            _ => Err(Errno::EIO),
        }
    }

    /// How many ports to nodes are alive.
    pub fn open_count(&self) -> usize {
        self.inner.protids.count()
    }

    /// Bytes in use against the size limit.
    pub fn used_bytes(&self) -> u64 {
        self.inner.fs().used_bytes()
    }

    /// Serves io, fs and fsys on the calling thread and a pool, until `fsys_goaway`
    /// succeeds, [`Tmpfs::shutdown`], or the task's end.
    pub fn serve(&self, opts: ServeOptions) -> Result<(), ServeError> {
        let (a, b, c) = (
            Arc::clone(&self.inner),
            Arc::clone(&self.inner),
            Arc::clone(&self.inner),
        );
        let demux = Demuxer::new()
            .with(move |m| {
                let reply = ioi::try_dispatch(&*a, m);
                a.publish();
                reply
            })
            .with(move |m| {
                let reply = fsi::try_dispatch(&*b, m);
                b.publish();
                reply
            })
            .with(move |m| fsysi::try_dispatch(&*c, m));
        self.inner.bucket.serve(demux, opts)
    }

    /// Stops serving and destroys every port with senders (clients see `EDIED`).
    pub fn shutdown(&self) {
        self.inner.bucket.shutdown();
    }
}

/// Keeps the realnode field read (it is what the server sits on; `chmod` of the root is
/// local, as on the Hurd's tmpfs).
impl std::fmt::Debug for Tmpfs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tmpfs")
            .field("opens", &self.open_count())
            .field("on_node", &self.inner.realnode.is_some())
            .finish()
    }
}
