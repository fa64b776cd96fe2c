//! A node for namespace tests: a kernel in this process with `herd tmpfs` started through
//! fshelp's launcher (as settrans would) and published as the node's root (the special
//! port `root`), as `herd boot` does.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use herd_fshelp::{Launcher, Running};
use herd_hurd::Namespace;
use herd_interfaces::fsys;
use herd_interfaces::types::consts::open::{O_CREAT, O_READ, O_WRITE};
use herd_kernel::KernelHandle;
use herd_runtime::{Errno, PortArg, SendRight, Task};

/// A kernel, and what it publishes.
pub struct Node {
    /// The kernel's socket.
    pub socket: PathBuf,
    /// The task that started the root file system.
    pub task: Task,
    /// The root directory, as published (`None` for a bare kernel).
    pub root: Option<SendRight>,
    // Dropped in this order: the root, the kernel, then the directory.
    _kernel: KernelHandle,
    dir: TempDir,
}

/// A host directory for a test, removed at the end.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The launcher tests start translators with: this build's herd, quiet.
pub fn launcher() -> Launcher {
    Launcher::with_program(env!("CARGO_BIN_EXE_herd")).env(vec!["HERD_LOG=off".into()])
}

/// Our uid and gid: the user the root is opened for.
pub fn own_ids() -> (u32, u32) {
    (
        rustix::process::getuid().as_raw(),
        rustix::process::getgid().as_raw(),
    )
}

impl Node {
    /// A kernel with nothing published, its socket in a new host directory.
    pub fn bare(label: &str) -> Node {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "herd-ns-{}-{}-{label}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("test directory");
        let socket = dir.join("kernel.sock");
        let kernel = KernelHandle::start(&socket).expect("kernel starts");
        let task = Task::attach(&socket, "boot").expect("attach");
        Node {
            socket,
            task,
            root: None,
            _kernel: kernel,
            dir: TempDir(dir),
        }
    }

    /// A kernel with `herd tmpfs` published as its root.
    pub fn boot(label: &str) -> Node {
        let mut node = Node::bare(label);
        let Running { control, .. } = launcher()
            .start(&node.task, &["/hurd/tmpfs".to_string()], PortArg::Null)
            .expect("tmpfs starts");
        let (uid, gid) = own_ids();
        let (_, _, root) =
            fsys::fsys_getroot(&node.task, &control, PortArg::Null, &[uid], &[gid], O_READ)
                .expect("tmpfs root");
        let root = root.into_send().expect("a root port");
        node.task
            .set_special_port("root", &root)
            .expect("publish root");
        node.root = Some(root);
        node
    }

    /// A path in this node's host directory.
    pub fn host(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }
}

/// A namespace on the node's published root.
pub fn namespace(node: &Node) -> Namespace {
    let root = node.root.as_ref().expect("a root").try_clone().unwrap();
    Namespace::new(node.task.clone(), root).unwrap()
}

/// Writes `data` to `path`, creating it.
pub fn write(ns: &Namespace, path: &str, data: &[u8]) {
    let f = ns
        .lookup(path.as_bytes(), O_WRITE | O_CREAT, 0o644)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    ns.write_all(&f, data).unwrap();
}

/// Reads `path` whole.
pub fn read(ns: &Namespace, path: &str) -> Result<Vec<u8>, Errno> {
    let f = ns.lookup(path.as_bytes(), O_READ, 0)?;
    ns.read_all(&f)
}

/// The names in the directory `path`, without `.` and `..`, sorted.
pub fn names(ns: &Namespace, path: &str) -> Vec<String> {
    let mut names: Vec<String> = ns
        .list(path.as_bytes())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    names
}
