//! `herd boot` and `herd halt`: start a node in one command and stop it cleanly.
//!
//! Boot runs the kernel and the auth server (its superuser identity published as the
//! special port `auth`), starts `herd tmpfs` as the root file system through fshelp (as
//! `settrans -a` would), publishes its root directory as the kernel's special port `root`
//! (where every command and the FUSE bridge find it), and lays down a small skeleton:
//! `/dev` with `null`, `zero` and `random` as passive translators (started on first use),
//! `/tmp` (sticky, world-writable), `/etc`, `/hurd` and `/servers`. It then waits for
//! SIGINT, SIGTERM or `herd halt` (a message on the special port `boot`), tells the root
//! file system to go away, and stops the kernel. `--detach` starts the same node in the
//! background and returns once it is ready.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use herd_auth::{AuthServer, Ids};
use herd_fshelp::{Launcher, Running};
use herd_hurd::Namespace;
use herd_interfaces::fsys;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::open::{O_CREAT, O_NOTRANS, O_READ};
use herd_interfaces::types::consts::trans::FS_TRANS_SET;
use herd_kernel::KernelHandle;
use herd_runtime::{OutMessage, PortArg, SendRight, Task};

/// The message id `herd halt` sends to the boot task.
const HALT: u32 = 0x6861_6c74;
/// How long `--detach` and `herd halt` wait for the node.
const WAIT: Duration = Duration::from_secs(30);

/// Where the node lives.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// The kernel socket (default: kernel.sock in the runtime directory).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// The runtime directory (default: $HERD_RUNTIME, $XDG_RUNTIME_DIR/herd or /tmp/herd-UID).
    #[arg(long)]
    runtime: Option<PathBuf>,
}

impl NodeArgs {
    fn socket(&self) -> PathBuf {
        crate::paths::chosen_socket(self.socket.as_deref(), self.runtime.as_deref())
    }
}

/// Arguments of `herd boot`.
#[derive(Args, Debug)]
pub struct BootArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// The root file system's size limit in bytes (tmpfs `--size`).
    #[arg(long, default_value_t = 256 << 20)]
    size: u64,
    /// Start the node in the background and return once it is ready.
    #[arg(long)]
    detach: bool,
}

/// Arguments of `herd halt`.
#[derive(Args, Debug)]
pub struct HaltArgs {
    #[command(flatten)]
    node: NodeArgs,
}

/// Boots a node (in the foreground, or detached).
pub fn boot(args: BootArgs) -> Result<()> {
    let socket = args.node.socket();
    if herd_channel::Channel::connect(&socket).is_ok() {
        bail!("a node is already running at {}", socket.display());
    }
    if args.detach {
        return detach(&args, &socket);
    }
    let dir = socket.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the runtime directory {}", dir.display()))?;
    let kernel = KernelHandle::start(&socket)
        .with_context(|| format!("starting the kernel at {}", socket.display()))?;
    let node = Node::start(&socket, args.size)?;
    println!("herd: node up: kernel at {}", socket.display());
    println!("herd: auth server up, published as `auth`");
    println!(
        "herd: root file system: tmpfs ({} bytes), published as `root`",
        args.size
    );
    println!(
        "herd: try `herd ls --socket {} /dev`; stop with `herd halt` or Ctrl-C",
        socket.display()
    );
    let why = node.wait()?;
    println!("herd: {why}: halting");
    node.halt();
    drop(kernel);
    println!("herd: node stopped");
    Ok(())
}

/// The running node's servers, as boot holds them.
struct Node {
    task: Task,
    auth: AuthServer,
    root_fs: Running,
    halt_port: herd_runtime::ReceiveRight,
}

impl Node {
    fn start(socket: &Path, size: u64) -> Result<Node> {
        let task = Task::attach(socket, "boot").context("attaching to the new kernel")?;
        let auth = AuthServer::new(&task).map_err(|e| anyhow::anyhow!("auth server: {e}"))?;
        let serving = auth.clone();
        std::thread::Builder::new()
            .name("auth".into())
            .spawn(move || serving.serve(herd_runtime::ServeOptions::default()))?;
        let superuser = auth
            .handle(Ids::root())
            .map_err(|e| anyhow::anyhow!("auth server: {e}"))?;
        task.set_special_port("auth", &superuser)
            .context("publishing the auth server")?;
        let launcher = Launcher::current_exe().context("finding the herd binary")?;
        let root_fs = launcher
            .start(
                &task,
                &["/hurd/tmpfs".to_string(), format!("--size={size}")],
                PortArg::Null,
            )
            .context("starting the root file system (herd tmpfs)")?;
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        let (_, _, root) = fsys::fsys_getroot(
            &task,
            &root_fs.control,
            PortArg::Null,
            &[uid],
            &[gid],
            O_READ,
        )
        .map_err(|e| anyhow::anyhow!("the root file system gave no root: {e}"))?;
        let root = root
            .into_send()
            .context("the root file system gave no root port")?;
        task.set_special_port("root", &root)
            .context("publishing the root directory")?;
        skeleton(&task, root).context("laying down the root skeleton")?;
        let halt_port = task.allocate_port()?;
        task.publish_port("boot", &halt_port)
            .context("publishing the boot port")?;
        Ok(Node {
            task,
            auth,
            root_fs,
            halt_port,
        })
    }

    /// Waits for a signal or `herd halt`; says which.
    fn wait(&self) -> Result<String> {
        let (tx, rx) = mpsc::channel::<String>();
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ])?;
        let on_signal = tx.clone();
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let _ = on_signal.send(format!("signal {sig}"));
            }
        });
        let task = self.task.clone();
        let name = self.halt_port.name();
        std::thread::spawn(move || loop {
            match task.receive(name, None) {
                Ok(m) if m.id == HALT => {
                    let _ = tx.send("herd halt".to_string());
                    return;
                }
                Ok(_) => continue,
                Err(_) => return,
            }
        });
        Ok(rx.recv().unwrap_or_else(|_| "lost the kernel".to_string()))
    }

    /// Unpublishes the node and tells the root file system to go away: politely first
    /// (it syncs and sends its own translators away), then, if clients still hold it
    /// open, by force.
    fn halt(self) {
        let _ = self.task.clear_special_port("root");
        let _ = self.task.clear_special_port("boot");
        let control = &self.root_fs.control;
        let gone = fsys::fsys_goaway(&self.task, control, 0)
            .or_else(|_| fsys::fsys_goaway(&self.task, control, FSYS_GOAWAY_FORCE));
        if let Err(e) = gone {
            eprintln!("herd: the root file system did not go away: {e}");
        }
        let _ = self.task.clear_special_port("auth");
        self.auth.shutdown();
    }
}

/// The skeleton every node starts with.
fn skeleton(task: &Task, root: SendRight) -> Result<()> {
    let ns = Namespace::new(task.clone(), root).map_err(|e| anyhow::anyhow!("{e}"))?;
    for (dir, mode) in [
        ("/dev", 0o755),
        ("/tmp", 0o1777),
        ("/etc", 0o755),
        ("/hurd", 0o755),
        ("/servers", 0o755),
    ] {
        ns.mkdir(dir.as_bytes(), mode)
            .map_err(|e| anyhow::anyhow!("{dir}: {e}"))?;
    }
    for (node, server) in [
        ("/dev/null", "/hurd/null"),
        ("/dev/zero", "/hurd/zero"),
        ("/dev/random", "/hurd/random"),
    ] {
        let file = ns
            .lookup(node.as_bytes(), O_NOTRANS | O_CREAT, 0o666)
            .map_err(|e| anyhow::anyhow!("{node}: {e}"))?;
        ns.set_translator(
            &file,
            FS_TRANS_SET,
            0,
            0,
            &argz::join(&[server.to_string()]),
            PortArg::Null,
        )
        .map_err(|e| anyhow::anyhow!("{node}: setting {server}: {e}"))?;
    }
    Ok(())
}

/// Starts `herd boot` without `--detach` in the background, logging to the runtime
/// directory, and returns once its root is published.
fn detach(args: &BootArgs, socket: &Path) -> Result<()> {
    let dir = socket.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the runtime directory {}", dir.display()))?;
    let log_path = dir.join("boot.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let exe = std::env::current_exe()?;
    let mut child = std::process::Command::new(exe)
        .args(["boot", "--socket"])
        .arg(socket)
        .arg("--size")
        .arg(args.size.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting the node in the background")?;
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(task) = Task::attach(socket, "boot-wait") {
            if task.special_port("boot").is_ok() {
                println!(
                    "herd: node up (pid {}): kernel at {}; log in {}",
                    child.id(),
                    socket.display(),
                    log_path.display()
                );
                return Ok(());
            }
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "the node exited during boot ({status}); see {}",
                log_path.display()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "the node was not ready within {WAIT:?}; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops a node started by `herd boot`, waiting until its kernel is gone.
pub fn halt(args: HaltArgs) -> Result<()> {
    let socket = args.node.socket();
    let task = Task::attach(&socket, "halt")
        .with_context(|| format!("no node answers at {}", socket.display()))?;
    let boot = task.special_port("boot").map_err(|e| {
        anyhow::anyhow!(
            "the node at {} was not started by herd boot ({e})",
            socket.display()
        )
    })?;
    task.send(OutMessage::new(PortArg::MoveSend(boot), HALT), Some(WAIT))
        .context("asking the node to halt")?;
    drop(task);
    let deadline = Instant::now() + WAIT;
    while herd_channel::Channel::connect(&socket).is_ok() {
        if Instant::now() > deadline {
            bail!(
                "the node at {} did not stop within {WAIT:?}",
                socket.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("herd: node at {} halted", socket.display());
    Ok(())
}
