//! The server's state: the node, its bucket and classes, the control and identity ports,
//! the opens (peropens) and the ports made for them (protids), and the node's status.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use herd_interfaces::types::consts::{mode::S_IALLUGO, IO_MAX};
use herd_interfaces::types::{Stat, Timespec};
use herd_interfaces::{fs, fsys, io};
use herd_iohelp::User;
use herd_ports::{Bucket, Class, Demuxer, PortRef};
use herd_runtime::server::ServeError;
use herd_runtime::{Errno, PortName, SendRight, ServeOptions, Task};
use thiserror::Error;

use crate::Node;

/// Why a trivfs server could not start.
#[derive(Debug, Error)]
pub enum TrivfsError {
    /// The task has no bootstrap port (it was not started as a translator).
    #[error("no bootstrap port: start this translator with settrans (or as a kernel task with one initial port)")]
    NoBootstrap,
    /// The parent refused or failed the `fsys_startup` handshake.
    #[error("fsys_startup failed: {0}")]
    Startup(Errno),
    /// The kernel refused to make a port.
    #[error("cannot make the server's ports: {0}")]
    Ports(Errno),
}

/// The owner, group and permission bits of a node with no underlying node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    /// The owner.
    pub uid: u32,
    /// The group.
    pub gid: u32,
    /// Permission bits (`0o7777`).
    pub mode: u32,
}

/// Where the node's owner, group, permission bits and times live.
pub(crate) enum Underlying {
    /// The node the translator sits on: its status is asked for, and changes go there.
    Realnode(SendRight),
    /// Kept here.
    Local(Mutex<Stat>),
}

/// The object behind the control port and the identity ports.
pub(crate) struct Control;

/// One open: the node's per-open state, the open modes and the file pointer, shared by
/// every port of the open.
pub(crate) struct Peropen<O> {
    pub(crate) open: O,
    pub(crate) modes: AtomicU32,
    pub(crate) pointer: Mutex<u64>,
}

impl<O> Peropen<O> {
    pub(crate) fn modes(&self) -> u32 {
        self.modes.load(Ordering::Acquire)
    }

    /// Runs `f` on the file pointer.
    pub(crate) fn with_pointer<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.pointer.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The object behind a node port: who opened it, and the open.
pub(crate) struct Protid<O> {
    pub(crate) user: User,
    pub(crate) po: Arc<Peropen<O>>,
}

/// What every thread of the server shares.
pub(crate) struct Inner<N: Node> {
    pub(crate) task: Task,
    pub(crate) node: N,
    pub(crate) bucket: Bucket,
    pub(crate) protids: Class<Protid<N::Open>>,
    pub(crate) control: PortRef<Control>,
    /// `io_identity`'s ports: the node's and the file system's.
    pub(crate) idport: PortRef<Control>,
    pub(crate) fsidport: PortRef<Control>,
    pub(crate) underlying: Underlying,
}

/// A one-node server. Cloning gives another handle to the same server.
pub struct Trivfs<N: Node> {
    inner: Arc<Inner<N>>,
}

impl<N: Node> Clone for Trivfs<N> {
    fn clone(&self) -> Self {
        Trivfs {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// The ports a server starts with, made before its status is known.
struct Ports {
    bucket: Bucket,
    control: PortRef<Control>,
    idport: PortRef<Control>,
    fsidport: PortRef<Control>,
}

impl Ports {
    fn new(task: &Task) -> Result<Ports, TrivfsError> {
        let bucket = Bucket::new(task).map_err(TrivfsError::Ports)?;
        let controls = Class::new("trivfs-control");
        let port = |what| {
            bucket
                .create_port(&controls, what)
                .map_err(TrivfsError::Ports)
        };
        let (control, idport, fsidport) = (port(Control)?, port(Control)?, port(Control)?);
        Ok(Ports {
            bucket,
            control,
            idport,
            fsidport,
        })
    }
}

impl Underlying {
    fn new(task: &Task, realnode: Option<SendRight>, attrs: Attrs) -> Underlying {
        let Some(realnode) = realnode else {
            let now = Timespec::now();
            return Underlying::Local(Mutex::new(Stat {
                fsid: task.id(),
                ino: 1,
                uid: attrs.uid,
                gid: attrs.gid,
                author: attrs.uid,
                mode: attrs.mode & S_IALLUGO,
                nlink: 1,
                atime: now,
                mtime: now,
                ctime: now,
                ..Stat::default()
            }));
        };
        Underlying::Realnode(realnode)
    }
}

impl<N: Node> Trivfs<N> {
    /// A server for `node` of `task`'s, not attached anywhere: its status comes from
    /// `realnode` if given, else from `attrs`. Get its control port with
    /// [`Trivfs::control`] and serve it with [`Trivfs::serve`].
    pub fn new(
        task: &Task,
        node: N,
        realnode: Option<SendRight>,
        attrs: Attrs,
    ) -> Result<Trivfs<N>, TrivfsError> {
        let ports = Ports::new(task)?;
        Ok(Self::assemble(
            task,
            node,
            ports,
            Underlying::new(task, realnode, attrs),
        ))
    }

    /// Starts as a translator: makes the control port and sends it to the bootstrap port
    /// (`task`'s first initial port) with `fsys_startup`, as `docs/namespace.md` says; the
    /// answer's realnode, if any, gives the node's status, else `attrs` do.
    pub fn startup(task: &Task, node: N, attrs: Attrs) -> Result<Trivfs<N>, TrivfsError> {
        let bootstrap = *task
            .initial_ports()
            .first()
            .ok_or(TrivfsError::NoBootstrap)?;
        Self::startup_with(task, node, SendRight::from_name(task, bootstrap), attrs)
    }

    /// [`Trivfs::startup`] with an explicit bootstrap port.
    pub fn startup_with(
        task: &Task,
        node: N,
        bootstrap: SendRight,
        attrs: Attrs,
    ) -> Result<Trivfs<N>, TrivfsError> {
        let ports = Ports::new(task)?;
        let control = ports.control.make_send().map_err(TrivfsError::Ports)?;
        let realnode =
            crate::bootstrap::startup(task, &bootstrap, control).map_err(TrivfsError::Startup)?;
        let underlying = Underlying::new(task, realnode, attrs);
        Ok(Self::assemble(task, node, ports, underlying))
    }

    fn assemble(task: &Task, node: N, ports: Ports, underlying: Underlying) -> Trivfs<N> {
        Trivfs {
            inner: Arc::new(Inner {
                task: task.clone(),
                node,
                bucket: ports.bucket,
                protids: Class::new("trivfs-protid"),
                control: ports.control,
                idport: ports.idport,
                fsidport: ports.fsidport,
                underlying,
            }),
        }
    }

    /// A new send right to the control port.
    pub fn control(&self) -> Result<SendRight, Errno> {
        self.inner.control.make_send()
    }

    /// The node.
    pub fn node(&self) -> &N {
        &self.inner.node
    }

    /// How many opens (protid ports) are alive.
    pub fn open_count(&self) -> usize {
        self.inner.protids.count()
    }

    /// Serves the io, fs and fsys interfaces on the calling thread and a pool, until
    /// `fsys_goaway` succeeds, [`Trivfs::shutdown`] or the task's end.
    pub fn serve(&self, opts: ServeOptions) -> Result<(), ServeError> {
        let (a, b, c) = (
            Arc::clone(&self.inner),
            Arc::clone(&self.inner),
            Arc::clone(&self.inner),
        );
        let demux = Demuxer::new()
            .with(move |m| io::try_dispatch(&*a, m))
            .with(move |m| fs::try_dispatch(&*b, m))
            .with(move |m| fsys::try_dispatch(&*c, m));
        self.inner.bucket.serve(demux, opts)
    }

    /// Stops serving and destroys every port with senders (clients see `EDIED`).
    pub fn shutdown(&self) {
        self.inner.bucket.shutdown();
    }
}

impl<N: Node> Inner<N> {
    /// The protid a request came on (`EOPNOTSUPP` for another port: the control port).
    pub(crate) fn protid(&self, dest: PortName) -> Result<PortRef<Protid<N::Open>>, Errno> {
        self.bucket.lookup(dest).ok_or(Errno::EOPNOTSUPP)
    }

    /// Checks that a request came on the control port.
    pub(crate) fn check_control(&self, dest: PortName) -> Result<(), Errno> {
        if dest == self.control.name() {
            Ok(())
        } else {
            Err(Errno::EOPNOTSUPP)
        }
    }

    /// The underlying status: owner, group, permissions, times.
    pub(crate) fn base_stat(&self) -> Result<Stat, Errno> {
        match &self.underlying {
            Underlying::Realnode(r) => io::io_stat(&self.task, r),
            Underlying::Local(st) => Ok(*st.lock().unwrap_or_else(PoisonError::into_inner)),
        }
    }

    /// Changes the local status with `f` (and its ctime), or, over a realnode, runs
    /// `forward` on it instead.
    pub(crate) fn change(
        &self,
        f: impl FnOnce(&mut Stat),
        forward: impl FnOnce(&Task, &SendRight) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        match &self.underlying {
            Underlying::Realnode(r) => forward(&self.task, r),
            Underlying::Local(st) => {
                let mut st = st.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut st);
                st.ctime = Timespec::now();
                Ok(())
            }
        }
    }

    /// The status an open sees.
    pub(crate) fn stat(&self, open: &N::Open) -> Result<Stat, Errno> {
        let mut st = self.base_stat()?;
        st.fstype = self.node.fstype();
        st.mode = (st.mode & S_IALLUGO) | self.node.file_type();
        st.size = self.node.size(open);
        st.blksize = IO_MAX as u32;
        st.blocks = 0;
        st.rdev = 0;
        self.node.modify_stat(open, &mut st);
        Ok(st)
    }

    /// A new open of the node by `user` with `flags`, after the permission check; its
    /// first port.
    pub(crate) fn open(&self, user: User, flags: u32) -> Result<SendRight, Errno> {
        let base = self.base_stat()?;
        user.check_open(&base, flags)?;
        let open = self.node.open(&user, flags)?;
        if flags & herd_interfaces::types::consts::open::O_TRUNC != 0 {
            self.node.set_size(&open, 0)?;
        }
        let po = Arc::new(Peropen {
            open,
            modes: AtomicU32::new(flags),
            pointer: Mutex::new(0),
        });
        self.new_protid(user, po)
    }

    /// A new port for an existing open.
    pub(crate) fn new_protid(
        &self,
        user: User,
        po: Arc<Peropen<N::Open>>,
    ) -> Result<SendRight, Errno> {
        self.bucket
            .create_port(&self.protids, Protid { user, po })?
            .make_send()
    }
}
