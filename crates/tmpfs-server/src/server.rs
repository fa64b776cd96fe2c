//! The server's state: the file system, its bucket and classes, the control port, the
//! opens (peropens) and the ports made for them (protids), the translators on its nodes,
//! and the conversions between the core's values and the interfaces'.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use herd_fshelp::{Launcher, TransBox};
use herd_interfaces::types::consts::fstype::FSTYPE_MEMFS;
use herd_interfaces::types::consts::mode::S_IFLNK;
use herd_interfaces::types::consts::open::{O_EXEC, O_READ, O_WRITE};
use herd_interfaces::types::{Stat, Timespec};
use herd_iohelp::User;
use herd_ports::{Bucket, Class, PortRef};
use herd_runtime::{Errno, PortName, SendRight, Task};
use herd_tmpfs::{Access, Fs, Identity, Ino, Kind, Timestamp};

/// The first word of a passive record that makes a node a symlink (the Hurd's
/// `_HURD_SYMLINK`).
pub(crate) const SYMLINK_TRANSLATOR: &str = "/hurd/symlink";

/// The names `dir_mkfile` gives its nodes until `dir_link` names them (hidden from
/// `dir_readdir`).
pub(crate) const HIDDEN_PREFIX: &str = ".herd-mkfile.";

/// The object behind the control port.
pub(crate) struct Control;

/// Where `..` leads out of this server: from the node `at` (the root, or the node a
/// `file_reparent` port was made for) to `port`.
pub(crate) struct Parent {
    pub(crate) at: Ino,
    pub(crate) port: SendRight,
}

/// One open of a node: the node, the open modes, the file pointer, where `..` from the
/// root leads (the translator's parent directory, from `fsys_getroot`), shared by every
/// port of the open. Its node is held in the core while it lives.
pub(crate) struct Peropen {
    pub(crate) ino: Ino,
    pub(crate) modes: AtomicU32,
    pub(crate) pointer: Mutex<u64>,
    pub(crate) dotdot: Option<Arc<Parent>>,
    /// The `flock` owner: one per open.
    pub(crate) id: u64,
    /// A node made by `dir_mkfile`: its hidden name until `dir_link` names it.
    pub(crate) hidden: Mutex<Option<(Ino, Vec<u8>)>>,
    fs: Arc<Mutex<Fs>>,
}

impl Peropen {
    pub(crate) fn modes(&self) -> u32 {
        self.modes.load(Ordering::Acquire)
    }

    /// Runs `f` on the file pointer.
    pub(crate) fn with_pointer<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.pointer.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Drop for Peropen {
    fn drop(&mut self) {
        let mut fs = self.fs.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = fs.flock(self.ino, self.id, herd_tmpfs::FlockOp::Unlock);
        let hidden = self
            .hidden
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((dir, name)) = hidden {
            let _ = fs.unlink(&Identity::root(), dir, &name);
        }
        let _ = fs.release(self.ino);
    }
}

/// The object behind a node port: who opened it, and the open.
pub(crate) struct Protid {
    pub(crate) user: User,
    pub(crate) po: Arc<Peropen>,
}

/// What every thread of the server shares.
pub(crate) struct Inner {
    pub(crate) task: Task,
    pub(crate) fs: Arc<Mutex<Fs>>,
    pub(crate) bucket: Bucket,
    pub(crate) protids: Class<Protid>,
    pub(crate) control: PortRef<Control>,
    pub(crate) launcher: Launcher,
    /// Translator boxes of nodes that have had an active translator.
    pub(crate) boxes: Mutex<HashMap<Ino, Arc<TransBox>>>,
    /// The node this file system sits on, if it was started as a translator.
    pub(crate) realnode: Option<SendRight>,
    /// `io_identity`'s ports: one per node asked about, and the file system's.
    pub(crate) idports: Mutex<HashMap<Ino, PortRef<Control>>>,
    pub(crate) fsidport: PortRef<Control>,
    /// Notification ports, by node.
    pub(crate) watchers: Mutex<crate::notify::Watchers>,
    next_open: AtomicU64,
}

/// The core's identity for a port's user.
pub(crate) fn identity(user: &User) -> Identity {
    Identity {
        uids: user.uids().to_vec(),
        gids: user.gids().to_vec(),
    }
}

/// The core's error as the errno to answer.
pub(crate) fn errno(e: herd_tmpfs::Error) -> Errno {
    e.errno()
}

fn timespec(t: Timestamp) -> Timespec {
    Timespec {
        sec: t.sec,
        nsec: t.nsec,
    }
}

/// The core's access bits for `O_READ|O_WRITE|O_EXEC` flags.
pub(crate) fn access_of(flags: u32) -> Access {
    let mut a = Access::NONE;
    if flags & O_READ != 0 {
        a = a | Access::READ;
    }
    if flags & O_WRITE != 0 {
        a = a | Access::WRITE;
    }
    if flags & O_EXEC != 0 {
        a = a | Access::EXEC;
    }
    a
}

/// The target of a symlink record (`/hurd/symlink TARGET`), if `record` is one.
pub(crate) fn symlink_record(record: &[u8]) -> Option<Vec<u8>> {
    let mut words = record.split(|b| *b == 0);
    if words.next()? != SYMLINK_TRANSLATOR.as_bytes() {
        return None;
    }
    words.next().filter(|t| !t.is_empty()).map(<[u8]>::to_vec)
}

impl Inner {
    pub(crate) fn new(
        task: &Task,
        fs: Fs,
        launcher: Launcher,
        realnode: Option<SendRight>,
        bucket: Bucket,
        control: PortRef<Control>,
        fsidport: PortRef<Control>,
    ) -> Inner {
        Inner {
            task: task.clone(),
            fs: Arc::new(Mutex::new(fs)),
            bucket,
            protids: Class::new("tmpfs-protid"),
            control,
            launcher,
            boxes: Mutex::new(HashMap::new()),
            realnode,
            idports: Mutex::default(),
            fsidport,
            watchers: Mutex::default(),
            next_open: AtomicU64::new(1),
        }
    }

    /// The file system, locked. Never held across an RPC.
    pub(crate) fn fs(&self) -> MutexGuard<'_, Fs> {
        self.fs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The protid a request came on (`EOPNOTSUPP` for another port: the control port).
    pub(crate) fn protid(&self, dest: PortName) -> Result<PortRef<Protid>, Errno> {
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

    /// The node's translator box, if it has one.
    pub(crate) fn transbox(&self, ino: Ino) -> Option<Arc<TransBox>> {
        self.boxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&ino)
            .cloned()
    }

    /// The node's translator box, made if needed.
    pub(crate) fn transbox_or_new(&self, ino: Ino) -> Arc<TransBox> {
        self.boxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(ino)
            .or_default()
            .clone()
    }

    /// The status of a node in the interfaces' form.
    pub(crate) fn stat_of(&self, fs: &Fs, ino: Ino) -> Result<Stat, Errno> {
        let st = fs.stat(ino).map_err(errno)?;
        let mut mode = st.mode();
        let mut size = st.size;
        if st.kind == Kind::File && st.translated {
            if let Some(target) = fs.translator(ino).ok().and_then(symlink_record) {
                mode = S_IFLNK | st.perm;
                size = target.len() as u64;
            }
        }
        Ok(Stat {
            fstype: FSTYPE_MEMFS,
            fsid: self.task.id(),
            ino: st.ino.0,
            gen: 0,
            rdev: st.rdev,
            mode,
            nlink: u64::from(st.nlink),
            uid: st.uid,
            gid: st.gid,
            size,
            atime: timespec(st.atime),
            mtime: timespec(st.mtime),
            ctime: timespec(st.ctime),
            blksize: st.block_size,
            blocks: st.blocks,
            author: st.uid,
            flags: 0,
        })
    }

    /// A new open of `ino` (already checked) with `flags`, and its first port for `user`.
    /// Called without the file system locked (a failure drops the open, which locks it).
    pub(crate) fn new_open(
        &self,
        ino: Ino,
        user: User,
        flags: u32,
        dotdot: Option<Arc<Parent>>,
    ) -> Result<SendRight, Errno> {
        self.new_open_hidden(ino, user, flags, dotdot, None)
    }

    /// [`Inner::new_open`] of a node from `dir_mkfile`, whose hidden name goes with the open
    /// unless `dir_link` names it.
    fn new_open_hidden(
        &self,
        ino: Ino,
        user: User,
        flags: u32,
        dotdot: Option<Arc<Parent>>,
        hidden: Option<(Ino, Vec<u8>)>,
    ) -> Result<SendRight, Errno> {
        self.fs().hold(ino).map_err(errno)?;
        let po = Arc::new(Peropen {
            ino,
            modes: AtomicU32::new(flags),
            pointer: Mutex::new(0),
            dotdot,
            id: self.next_open.fetch_add(1, Ordering::Relaxed),
            hidden: Mutex::new(hidden),
            fs: Arc::clone(&self.fs),
        });
        self.new_protid(user, po)
    }

    /// `dir_mkfile`: a new regular file in `p`'s directory with no visible name, opened
    /// with `flags`.
    pub(crate) fn mkfile(&self, p: &Protid, flags: u32, mode: u32) -> Result<SendRight, Errno> {
        let name = format!(
            "{HIDDEN_PREFIX}{}",
            self.next_open.fetch_add(1, Ordering::Relaxed)
        );
        let dir = p.po.ino;
        let (ino, _) = self
            .fs()
            .create(
                &identity(&p.user),
                dir,
                name.as_bytes(),
                mode & 0o7777,
                true,
            )
            .map_err(errno)?;
        let modes = flags & (O_READ | O_WRITE | O_EXEC);
        let hidden = Some((dir, name.into_bytes()));
        self.new_open_hidden(ino, p.user.clone(), modes, p.po.dotdot.clone(), hidden)
    }

    /// `io_identity`'s port for a node (the same port every time).
    pub(crate) fn idport(&self, ino: Ino) -> Result<PortRef<Control>, Errno> {
        let mut ports = self.idports.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(port) = ports.get(&ino) {
            return Ok(port.clone());
        }
        let port = self
            .bucket
            .create_port(&Class::new("tmpfs-identity"), Control)?;
        ports.insert(ino, port.clone());
        Ok(port)
    }

    /// A new port for an existing open.
    pub(crate) fn new_protid(&self, user: User, po: Arc<Peropen>) -> Result<SendRight, Errno> {
        self.bucket
            .create_port(&self.protids, Protid { user, po })?
            .make_send()
    }
}
