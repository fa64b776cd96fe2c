//! A fake file server for the lookup tests: a small tree of nodes, each behind its own
//! port, served by the generated fs and io dispatchers from a pool of threads. Its
//! `dir_lookup` walks the tree as a real server does and answers the retries a real one
//! would: a mount point crossed (`FS_RETRY_NORMAL` into another port), a symlink (relative:
//! `FS_RETRY_NORMAL` at the parent with the target spliced in; absolute:
//! `FS_RETRY_MAGICAL` `/target/rest`), a reauthentication point (`FS_RETRY_REAUTH`), a
//! node that answers a magic word.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use herd_interfaces::support::error_reply;
use herd_interfaces::types::consts::mode::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG};
use herd_interfaces::types::consts::open::{O_NOFOLLOW, O_NOLINK};
use herd_interfaces::types::consts::retry::{FS_RETRY_MAGICAL, FS_RETRY_NORMAL, FS_RETRY_REAUTH};
use herd_interfaces::types::consts::IO_MAX;
use herd_interfaces::types::dirent::{self, Dirent};
use herd_interfaces::types::Stat;
use herd_interfaces::{fs, io, Request};
use herd_kernel::KernelHandle;
use herd_runtime::{
    Disposition, Errno, PortArg, PortCall, PortDescriptor, PortName, PortSet, ReceiveRight,
    SendRight, ServeOptions, Task,
};

/// What a node is.
#[derive(Debug)]
pub enum Kind {
    /// A directory: names to node indices.
    Dir(BTreeMap<String, usize>),
    /// A file: its data and the file pointer of its (one, shared) open.
    File { data: Vec<u8>, pos: usize },
    /// A symlink to this target.
    Symlink(String),
    /// A translator's root is this port (of the same server task).
    Mount(PortName),
    /// Like a mount, but the answer asks for reauthentication.
    Reauth(PortName),
    /// Answers `FS_RETRY_MAGICAL` with this word (and the rest of the path).
    Magic(String),
    /// A device whose server does not do `dir_lookup` at all (`MIG_BAD_ID`).
    Device,
}

struct Node {
    kind: Kind,
    parent: usize,
    port: ReceiveRight,
}

/// A fake file system.
pub struct FakeFs {
    task: Task,
    set: PortSet,
    nodes: Mutex<Vec<Node>>,
    by_port: Mutex<HashMap<PortName, usize>>,
    /// io_write calls served.
    pub writes: AtomicUsize,
}

impl FakeFs {
    /// An empty tree (a root directory) in `task`.
    pub fn new(task: &Task) -> Arc<FakeFs> {
        let fs = FakeFs {
            task: task.clone(),
            set: task.allocate_port_set().unwrap(),
            nodes: Mutex::new(Vec::new()),
            by_port: Mutex::new(HashMap::new()),
            writes: AtomicUsize::new(0),
        };
        fs.push(0, Kind::Dir(BTreeMap::new()));
        Arc::new(fs)
    }

    fn push(&self, parent: usize, kind: Kind) -> usize {
        let port = self.task.allocate_port().unwrap();
        self.set.insert(&port).unwrap();
        let mut nodes = self.nodes.lock().unwrap();
        let index = nodes.len();
        self.by_port.lock().unwrap().insert(port.name(), index);
        nodes.push(Node { kind, parent, port });
        index
    }

    /// Adds `name` under the directory `parent`.
    pub fn add(&self, parent: usize, name: &str, kind: Kind) -> usize {
        let index = self.push(parent, kind);
        let mut nodes = self.nodes.lock().unwrap();
        let Kind::Dir(entries) = &mut nodes[parent].kind else {
            panic!("not a directory")
        };
        entries.insert(name.to_string(), index);
        index
    }

    /// The port of node `index` (0 is the root), a name in the server task.
    pub fn port(&self, index: usize) -> PortName {
        self.nodes.lock().unwrap()[index].port.name()
    }

    /// Serves the tree from a pool of threads until the port set goes.
    pub fn serve(self: &Arc<Self>) {
        let (fs, task, set) = (self.clone(), self.task.clone(), self.set.name());
        std::thread::spawn(move || {
            let handler = move |msg| match fs::try_dispatch(&*fs, msg) {
                Ok(reply) => reply,
                Err(msg) => match io::try_dispatch(&*fs, msg) {
                    Ok(reply) => reply,
                    Err(msg) => error_reply(msg, Errno::MIG_BAD_ID),
                },
            };
            let _ = herd_runtime::serve(&task, set, handler, ServeOptions::default());
        });
    }

    fn node_of(&self, req: &Request) -> Result<usize, Errno> {
        self.by_port
            .lock()
            .unwrap()
            .get(&req.dest)
            .copied()
            .ok_or(Errno::EOPNOTSUPP)
    }
}

/// `first/rest` or `first` alone.
fn join(first: &str, rest: &str) -> String {
    if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first}/{rest}")
    }
}

impl fs::FsServer for FakeFs {
    fn dir_lookup(
        &self,
        req: &Request,
        file_name: String,
        flags: u32,
        _mode: u32,
    ) -> Result<(u32, String, PortArg), Errno> {
        let mut at = self.node_of(req)?;
        let mut nodes = self.nodes.lock().unwrap();
        if matches!(nodes[at].kind, Kind::Device) {
            return Err(Errno::MIG_BAD_ID);
        }
        let components: Vec<&str> = file_name.split('/').collect();
        for (i, name) in components.iter().enumerate() {
            let rest = components[i + 1..].join("/");
            let dir = at;
            at = match (*name, &nodes[at].kind) {
                ("" | ".", _) => at,
                ("..", _) => nodes[at].parent,
                (name, Kind::Dir(entries)) => *entries.get(name).ok_or(Errno::ENOENT)?,
                _ => return Err(Errno::ENOTDIR),
            };
            let last = rest.is_empty();
            let send = |n: usize| PortArg::MakeSend(nodes[n].port.name());
            match &nodes[at].kind {
                Kind::Symlink(_) if last && flags & (O_NOFOLLOW | O_NOLINK) != 0 => {}
                Kind::Symlink(target) if target.starts_with('/') => {
                    return Ok((FS_RETRY_MAGICAL, join(target, &rest), PortArg::Null))
                }
                Kind::Symlink(target) => {
                    return Ok((FS_RETRY_NORMAL, join(target, &rest), send(dir)))
                }
                Kind::Mount(root) => return Ok((FS_RETRY_NORMAL, rest, PortArg::MakeSend(*root))),
                Kind::Reauth(root) => return Ok((FS_RETRY_REAUTH, rest, PortArg::MakeSend(*root))),
                Kind::Magic(word) => return Ok((FS_RETRY_MAGICAL, join(word, &rest), send(dir))),
                _ => {}
            }
        }
        // A new open: its file pointer starts at 0.
        if let Kind::File { pos, .. } = &mut nodes[at].kind {
            *pos = 0;
        }
        Ok((
            FS_RETRY_NORMAL,
            String::new(),
            PortArg::MakeSend(nodes[at].port.name()),
        ))
    }

    fn dir_readdir(
        &self,
        req: &Request,
        entry: i32,
        _nentries: i32,
        _bufsiz: u64,
    ) -> Result<(Vec<u8>, i32), Errno> {
        let at = self.node_of(req)?;
        let nodes = self.nodes.lock().unwrap();
        let Kind::Dir(entries) = &nodes[at].kind else {
            return Err(Errno::ENOTDIR);
        };
        // Two at a time, so clients must page.
        let batch: Vec<Dirent> = entries
            .iter()
            .skip(usize::try_from(entry).map_err(|_| Errno::EINVAL)?)
            .take(2)
            .map(|(name, n)| Dirent {
                ino: *n as u64,
                kind: dirent::Dirent::kind_of_mode(mode_of(&nodes[*n].kind)),
                name: name.clone(),
            })
            .collect();
        Ok((dirent::encode(&batch), batch.len() as i32))
    }

    fn dir_mkdir(&self, req: &Request, name: String, _mode: u32) -> Result<(), Errno> {
        let at = self.node_of(req)?;
        if let Kind::Dir(entries) = &self.nodes.lock().unwrap()[at].kind {
            if entries.contains_key(&name) {
                return Err(Errno::EEXIST);
            }
        }
        self.add(at, &name, Kind::Dir(BTreeMap::new()));
        Ok(())
    }

    fn dir_unlink(&self, req: &Request, name: String) -> Result<(), Errno> {
        let at = self.node_of(req)?;
        let mut nodes = self.nodes.lock().unwrap();
        let Kind::Dir(entries) = &mut nodes[at].kind else {
            return Err(Errno::ENOTDIR);
        };
        entries.remove(&name).map(drop).ok_or(Errno::ENOENT)
    }
}

fn mode_of(kind: &Kind) -> u32 {
    match kind {
        Kind::Dir(_) | Kind::Mount(_) | Kind::Reauth(_) | Kind::Magic(_) => S_IFDIR | 0o755,
        Kind::File { .. } => S_IFREG | 0o644,
        Kind::Symlink(_) => S_IFLNK | 0o777,
        Kind::Device => S_IFCHR | 0o666,
    }
}

impl io::IoServer for FakeFs {
    fn io_stat(&self, req: &Request) -> Result<Stat, Errno> {
        let at = self.node_of(req)?;
        let nodes = self.nodes.lock().unwrap();
        let size = match &nodes[at].kind {
            Kind::File { data, .. } => data.len() as u64,
            _ => 0,
        };
        Ok(Stat {
            ino: at as u64,
            mode: mode_of(&nodes[at].kind),
            size,
            ..Stat::default()
        })
    }

    fn io_read(&self, req: &Request, offset: i64, amount: u64) -> Result<Vec<u8>, Errno> {
        let at = self.node_of(req)?;
        let mut nodes = self.nodes.lock().unwrap();
        let Kind::File { data, pos } = &mut nodes[at].kind else {
            return Err(Errno::EISDIR);
        };
        let start = if offset < 0 { *pos } else { offset as usize }.min(data.len());
        let end = start + (amount.min(IO_MAX) as usize).min(data.len() - start);
        if offset < 0 {
            *pos = end;
        }
        Ok(data[start..end].to_vec())
    }

    fn io_write(&self, req: &Request, data: Vec<u8>, _offset: i64) -> Result<u64, Errno> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        if data.len() as u64 > IO_MAX {
            return Err(Errno(90)); // EMSGSIZE: the client must chunk
        }
        let at = self.node_of(req)?;
        let mut nodes = self.nodes.lock().unwrap();
        let Kind::File { data: contents, .. } = &mut nodes[at].kind else {
            return Err(Errno::EISDIR);
        };
        // Short writes: at most 1000 bytes at a time, so clients must continue.
        let n = data.len().min(1000);
        contents.extend_from_slice(&data[..n]);
        Ok(n as u64)
    }
}

/// A kernel in this process, a server task and a client task.
pub struct World {
    pub server: Task,
    pub client: Task,
    _kernel: KernelHandle,
}

impl World {
    /// Starts the kernel and attaches both tasks.
    pub fn new(label: &str) -> World {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path: PathBuf = std::env::temp_dir().join(format!(
            "herd-hurd-{}-{}-{label}.sock",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let kernel = KernelHandle::start(&path).expect("kernel starts");
        let server = Task::attach(&path, "fake-server").expect("server attaches");
        let client = Task::attach(&path, "client").expect("client attaches");
        World {
            server,
            client,
            _kernel: kernel,
        }
    }

    /// A send right in the client task to the server's port `port`, passed through the
    /// kernel's special-port registry.
    pub fn give(&self, name: &str, port: PortName) -> SendRight {
        self.server
            .call(PortCall::SetSpecialPort {
                name: name.into(),
                right: PortDescriptor::send(port, Disposition::MakeSend),
            })
            .unwrap();
        self.client.special_port(name).unwrap()
    }
}
