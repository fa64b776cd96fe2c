//! `herd rpctrace-peer`: small programs that speak the `test` interface, for trying
//! rpctrace and for its tests. A client starts its own server as a kernel-spawned task
//! (there is no name service yet), then calls it: once through a short script of every
//! kind of call, N null RPCs, forever from several threads (load), or one call to a
//! server that never answers (a client blocked for good).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use herd_interfaces::test::{self, TestServer};
use herd_runtime::{
    notify_id, CallValue, OutMessage, PortArg, PortCall, ReceiveRight, Region, SendRight,
    ServeOptions, Task,
};
use herd_wire::{Disposition, Errno, PortDescriptor};

/// Arguments of `herd rpctrace-peer`.
#[derive(Args, Debug)]
pub struct PeerArgs {
    #[command(subcommand)]
    kind: PeerKind,
}

#[derive(Subcommand, Debug)]
enum PeerKind {
    /// Serves `test` (started by a client with a bootstrap right).
    Server {
        /// Take requests and never answer them.
        #[arg(long)]
        blackhole: bool,
    },
    /// Starts a server, then calls it.
    Client {
        /// The kernel socket, when not started by the kernel.
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Make this many null RPCs (`test.ping`) instead of the script.
        #[arg(long)]
        pings: Option<u64>,
        /// Run the script forever, from this many threads.
        #[arg(long)]
        forever: Option<usize>,
        /// The server never answers: the first call blocks for good.
        #[arg(long)]
        blackhole: bool,
        /// Print `server-pid PID` once the server is up.
        #[arg(long)]
        print_server_pid: bool,
    },
}

/// Runs a peer.
pub fn run(args: PeerArgs) -> Result<()> {
    match args.kind {
        PeerKind::Server { blackhole } => server(blackhole),
        PeerKind::Client {
            socket,
            pings,
            forever,
            blackhole,
            print_server_pid,
        } => {
            let task = match socket {
                Some(s) => Task::attach(&s, "test-client")?,
                None if std::env::var_os("HERD_TASK_FD").is_some() => {
                    Task::from_env("test-client")?
                }
                None => Task::attach(&crate::paths::kernel_socket(), "test-client")?,
            };
            let server = start_server(&task, blackhole, print_server_pid)?;
            if blackhole {
                test::ping(&task, &server).context("the blocked call")?;
                bail!("the server answered a call it never should");
            }
            match (pings, forever) {
                (Some(n), _) => {
                    for _ in 0..n {
                        test::ping(&task, &server).context("test.ping")?;
                    }
                }
                (None, Some(threads)) => std::thread::scope(|s| {
                    for _ in 0..threads.max(1) {
                        s.spawn(|| loop {
                            if script(&task, &server).is_err() {
                                return;
                            }
                        });
                    }
                }),
                (None, None) => script(&task, &server)?,
            }
            Ok(())
        }
    }
}

/// Spawns `herd rpctrace-peer server` with a bootstrap right and waits for its port.
fn start_server(task: &Task, blackhole: bool, print_pid: bool) -> Result<SendRight> {
    let boot = task.allocate_port()?;
    let exe = std::env::current_exe().context("finding the herd binary")?;
    let mut args = vec![
        if blackhole {
            "blackhole"
        } else {
            "test-server"
        }
        .to_string(),
        "rpctrace-peer".into(),
        "server".into(),
    ];
    if blackhole {
        args.push("--blackhole".into());
    }
    let spawned = task
        .call(PortCall::Spawn {
            program: exe.display().to_string(),
            args,
            env: vec!["HERD_LOG=off".into()],
            rights: vec![PortDescriptor::send(boot.name(), Disposition::MakeSend)],
        })
        .context("starting the test server")?;
    if let (true, CallValue::Spawned { pid, .. }) = (print_pid, &spawned) {
        println!("server-pid {pid}");
        use std::io::Write;
        std::io::stdout().flush()?;
    }
    let hello = task
        .receive(boot.name(), Some(Duration::from_secs(30)))
        .context("waiting for the test server")?;
    hello
        .ports
        .into_iter()
        .next()
        .and_then(|r| r.into_send())
        .context("the test server sent no port")
}

/// One of each kind of call.
fn script(task: &Task, server: &SendRight) -> Result<()> {
    test::echo(task, server, b"hi").context("test.echo")?;
    test::add(task, server, 2, 3).context("test.add")?;
    if test::fail(task, server, Errno::ENOENT.0) != Err(Errno::ENOENT) {
        bail!("test.fail did not fail with ENOENT");
    }
    test::poke(task, server, 7).context("test.poke")?;
    drop(test::make_port(task, server).context("test.make_port")?);
    let region = Region::from_bytes("rpctrace-peer", b"a region of bytes")?;
    test::echo_region(task, server, region).context("test.echo_region")?;
    test::ping(task, server).context("test.ping")?;
    Ok(())
}

/// The server's side of `test`.
struct Server {
    pokes: AtomicU32,
    task: Task,
    /// The port behind the last `make_port` answer (the one before it dies then).
    made: Mutex<Option<ReceiveRight>>,
}

impl TestServer for Server {
    fn ping(&self, _req: &herd_interfaces::Request) -> Result<(), Errno> {
        Ok(())
    }
    fn echo(&self, _req: &herd_interfaces::Request, data: Vec<u8>) -> Result<Vec<u8>, Errno> {
        Ok(data)
    }
    fn echo_region(&self, _req: &herd_interfaces::Request, data: Region) -> Result<Region, Errno> {
        let bytes = data.read().map_err(|_| Errno::EIO)?;
        Region::from_bytes("echo", &bytes).map_err(|_| Errno::ENOMEM)
    }
    fn add(&self, _req: &herd_interfaces::Request, a: i64, b: i64) -> Result<i64, Errno> {
        a.checked_add(b).ok_or(Errno::EINVAL)
    }
    fn make_port(&self, _req: &herd_interfaces::Request) -> Result<PortArg, Errno> {
        let port = self.task.allocate_port().map_err(Errno::from)?;
        let send = port.make_send().map_err(Errno::from)?;
        *self.made.lock().unwrap_or_else(PoisonError::into_inner) = Some(port);
        Ok(PortArg::MoveSend(send))
    }
    fn fail(&self, _req: &herd_interfaces::Request, errno: i32) -> Result<(), Errno> {
        match errno {
            0 => Ok(()),
            e => Err(Errno(e)),
        }
    }
    fn poke(&self, _req: &herd_interfaces::Request, n: u32) {
        self.pokes.fetch_add(n, Ordering::Relaxed);
    }
}

fn server(blackhole: bool) -> Result<()> {
    let task = Task::from_env("test-server")?;
    let boot = *task
        .initial_ports()
        .first()
        .context("no bootstrap port given")?;
    let port = task.allocate_port()?;
    port.set_qlimit(64)?;
    let mut hello = OutMessage::new(PortArg::MoveSend(SendRight::from_name(&task, boot)), 0);
    hello.ports.push(PortArg::MakeSend(port.name()));
    task.send(hello, None)?;
    // When the last client is gone, so is the server.
    drop(port.request_no_senders(1, &port)?);
    if blackhole {
        // Keep every request (and its reply right) and never answer.
        let mut kept = Vec::new();
        loop {
            let m = task.receive(port.name(), None)?;
            if m.id == notify_id::NO_SENDERS {
                return Ok(());
            }
            kept.push(m);
        }
    }
    let server = std::sync::Arc::new(Server {
        pokes: AtomicU32::new(0),
        task: task.clone(),
        made: Mutex::new(None),
    });
    let opts = ServeOptions {
        max_threads: 4,
        ..ServeOptions::default()
    };
    let handler = move |m: herd_runtime::Received| {
        if m.id == notify_id::NO_SENDERS {
            std::process::exit(0);
        }
        test::dispatch(&*server, m)
    };
    herd_runtime::serve(&task, port.name(), handler, opts)?;
    Ok(())
}
