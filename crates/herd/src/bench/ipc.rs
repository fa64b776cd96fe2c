//! `herd bench ipc`: the kernel's IPC cost against two baselines measured in the same run:
//! a direct seqpacket ping-pong between two processes, and a minimal relay process
//! (client -> relay -> server -> relay -> client) that does no work. herd's path has the
//! same shape as the relay's (client -> kernel -> server -> kernel -> client), so the
//! relay is the floor a broker design can reach.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use herd_channel::{memfd::Region, Channel, Frame};
use herd_runtime::{OutMessage, PortArg, PortCall, SendRight, Task};

use super::peer::{ONEWAY, OOL, PING, SYNC};
use super::report::{Better, Figure, Report};
use super::spawn::{rss_bytes, Peer};
use super::stats::{rate, Samples};
use super::BenchArgs;

const THREADS: [usize; 3] = [1, 2, 4];
const OOL_BYTES: usize = 1 << 20;

/// One transport under test: how to make a client endpoint per thread and do one call.
trait Transport: Sync {
    /// One round trip of `kind` (with a 1 MiB region for [`OOL`]).
    fn call(&self, thread: usize, kind: u8, region: Option<Region>) -> Result<()>;
    /// One message with no answer.
    fn oneway(&self, thread: usize) -> Result<()>;
}

/// Plain sockets: per thread a channel to the echo server (directly or through the relay).
struct Sockets {
    chans: Vec<Channel>,
}

impl Transport for Sockets {
    fn call(&self, thread: usize, kind: u8, region: Option<Region>) -> Result<()> {
        use std::os::fd::AsFd;
        let ch = &self.chans[thread];
        match &region {
            Some(r) => ch.send(&[kind], &[r.as_fd()])?,
            None => ch.send(&[kind], &[])?,
        }
        let mut f = Frame::default();
        if !ch.recv(&mut f, 64)? {
            bail!("echo server went away");
        }
        Ok(())
    }
    fn oneway(&self, thread: usize) -> Result<()> {
        Ok(self.chans[thread].send(&[ONEWAY], &[])?)
    }
}

/// herd: RPCs through the kernel to the benchmark server task.
struct Herd {
    task: Task,
    server: SendRight,
}

impl Transport for Herd {
    fn call(&self, _thread: usize, kind: u8, region: Option<Region>) -> Result<()> {
        let mut m = OutMessage::new(PortArg::CopySend(self.server.name()), kind as u32);
        m.ool.extend(region);
        self.task.rpc(m, Some(Duration::from_secs(10)))?;
        Ok(())
    }
    fn oneway(&self, _thread: usize) -> Result<()> {
        let m = OutMessage::new(PortArg::CopySend(self.server.name()), ONEWAY as u32);
        self.task.send(m, None)?;
        Ok(())
    }
}

/// Figures of one transport.
#[derive(Default, Debug)]
struct Measured {
    p50_us: f64,
    p99_us: f64,
    calls_per_s: Vec<f64>,
    oneway_per_s: f64,
    ool_mib_per_s: f64,
}

fn measure(t: &dyn Transport, calls: u32, quick: bool) -> Result<Measured> {
    let mut m = Measured::default();
    // Warm up, then the single-thread latency distribution.
    for _ in 0..calls / 10 {
        t.call(0, PING, None)?;
    }
    let mut s = Samples::with_capacity(calls as usize);
    for _ in 0..calls {
        let start = Instant::now();
        t.call(0, PING, None)?;
        s.push(start.elapsed());
    }
    m.p50_us = s.quantile_us(0.5);
    m.p99_us = s.quantile_us(0.99);
    for &n in &THREADS {
        let barrier = Barrier::new(n);
        let start = Instant::now();
        std::thread::scope(|scope| -> Result<()> {
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let barrier = &barrier;
                    scope.spawn(move || -> Result<()> {
                        barrier.wait();
                        for _ in 0..calls {
                            t.call(i, PING, None)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join()
                    .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
            }
            Ok(())
        })?;
        m.calls_per_s
            .push(rate(calls as u64 * n as u64, start.elapsed()));
    }
    let oneway = calls * 5;
    let start = Instant::now();
    for _ in 0..oneway {
        t.oneway(0)?;
    }
    t.call(0, SYNC, None)?;
    m.oneway_per_s = rate(oneway as u64, start.elapsed());
    let transfers = if quick { 20 } else { 200 };
    let payload = vec![0x5au8; OOL_BYTES];
    let start = Instant::now();
    for _ in 0..transfers {
        let region = Region::from_bytes("bench", &payload)?;
        t.call(0, OOL, Some(region))?;
    }
    m.ool_mib_per_s = rate(transfers, start.elapsed());
    Ok(m)
}

/// Socket pairs: our ends and the peer's ends.
fn pairs(n: usize) -> Result<(Vec<Channel>, Vec<OwnedFd>)> {
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..n {
        let (a, b) = Channel::pair()?;
        ours.push(a);
        theirs.push(b.into_fd());
    }
    Ok((ours, theirs))
}

fn fd_list(n: usize, offset: usize) -> String {
    (0..n)
        .map(|i| format!("{{fd{}}}", i + offset))
        .collect::<Vec<_>>()
        .join(",")
}

fn direct(calls: u32, quick: bool) -> Result<Measured> {
    let n = *THREADS.iter().max().unwrap_or(&1);
    let (chans, theirs) = pairs(n)?;
    let _echo = Peer::start(&["echo".into(), "--fds".into(), fd_list(n, 0)], &theirs)?;
    drop(theirs);
    measure(&Sockets { chans }, calls, quick)
}

fn relayed(calls: u32, quick: bool) -> Result<Measured> {
    let n = *THREADS.iter().max().unwrap_or(&1);
    let (chans, client_side) = pairs(n)?;
    let (server_side_relay, server_side_echo) = {
        let mut r = Vec::new();
        let mut e = Vec::new();
        for _ in 0..n {
            let (a, b) = Channel::pair()?;
            r.push(a.into_fd());
            e.push(b.into_fd());
        }
        (r, e)
    };
    let _echo = Peer::start(
        &["echo".into(), "--fds".into(), fd_list(n, 0)],
        &server_side_echo,
    )?;
    drop(server_side_echo);
    let pairs_arg = (0..n)
        .map(|i| format!("{{fd{}}}:{{fd{}}}", i, i + n))
        .collect::<Vec<_>>()
        .join(",");
    let mut relay_fds = client_side;
    relay_fds.extend(server_side_relay);
    let _relay = Peer::start(&["relay".into(), "--pairs".into(), pairs_arg], &relay_fds)?;
    drop(relay_fds);
    measure(&Sockets { chans }, calls, quick)
}

fn wait_for_kernel(socket: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if Channel::connect(socket).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    bail!("the kernel did not come up at {}", socket.display())
}

fn scratch_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("herd-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// herd's figures and the kernel's bytes per port.
fn herd(calls: u32, ports: u32, quick: bool) -> Result<(Measured, f64)> {
    let dir = scratch_dir()?;
    let socket = dir.join("kernel.sock");
    let kernel = Peer::start(
        &[
            "kernel".into(),
            "--socket".into(),
            socket.display().to_string(),
        ],
        &[],
    )?;
    wait_for_kernel(&socket)?;
    let task = Task::attach(&socket, "bench")?;
    let boot = task.allocate_port()?;
    let exe = std::env::current_exe()?;
    task.call(PortCall::Spawn {
        program: exe.display().to_string(),
        args: vec!["herd".into(), "bench-peer".into(), "herd-server".into()],
        env: vec!["HERD_LOG=off".into()],
        rights: vec![herd_wire::PortDescriptor::send(
            boot.name(),
            herd_wire::Disposition::MakeSend,
        )],
    })
    .context("starting the benchmark server task")?;
    let hello = task
        .receive(boot.name(), Some(Duration::from_secs(10)))
        .context("waiting for the benchmark server")?;
    let server = hello
        .ports
        .into_iter()
        .next()
        .and_then(|r| r.into_send())
        .context("the server sent no send right")?;
    let h = Herd {
        task: task.clone(),
        server,
    };
    let measured = measure(&h, calls, quick)?;
    let before = rss_bytes(kernel.pid())?;
    let holder = Task::attach(&socket, "bench-ports")?;
    for _ in 0..ports {
        holder.call(PortCall::Allocate(herd_wire::frame::AllocateKind::Receive))?;
    }
    let after = rss_bytes(kernel.pid())?;
    let per_port = after.saturating_sub(before) as f64 / ports as f64;
    // Leave before the kernel goes, so nobody reports a lost connection.
    drop((holder, h, boot, task));
    drop(kernel);
    let _ = std::fs::remove_dir_all(&dir);
    Ok((measured, per_port))
}

/// Runs the whole benchmark.
pub fn run(args: &BenchArgs) -> Result<Report> {
    let calls = if args.quick {
        args.calls.min(2000)
    } else {
        args.calls
    };
    let ports = if args.quick {
        args.ports.min(100_000)
    } else {
        args.ports
    };
    let direct = direct(calls, args.quick).context("direct baseline")?;
    let relay = relayed(calls, args.quick).context("relay baseline")?;
    let (herd, per_port) = herd(calls, ports, args.quick).context("herd")?;
    let mut r = Report {
        name: "ipc".into(),
        ..Default::default()
    };
    let mut fig = |key: String, unit, value, baseline, base, better| {
        r.figures.push(Figure {
            key,
            unit,
            value,
            baseline,
            baseline_value: Some(base),
            better,
        })
    };
    for (name, b) in [("relay", &relay), ("direct", &direct)] {
        fig(
            format!("rpc_p50_us_vs_{name}"),
            "us",
            herd.p50_us,
            name,
            b.p50_us,
            Better::Lower,
        );
        fig(
            format!("rpc_p99_us_vs_{name}"),
            "us",
            herd.p99_us,
            name,
            b.p99_us,
            Better::Lower,
        );
        for (i, n) in THREADS.iter().enumerate() {
            fig(
                format!("rpc_calls_per_s_{n}t_vs_{name}"),
                "calls/s",
                herd.calls_per_s[i],
                name,
                b.calls_per_s[i],
                Better::Higher,
            );
        }
    }
    fig(
        "oneway_msgs_per_s".into(),
        "msgs/s",
        herd.oneway_per_s,
        "direct",
        direct.oneway_per_s,
        Better::Higher,
    );
    fig(
        "ool_1mib_mib_per_s".into(),
        "MiB/s",
        herd.ool_mib_per_s,
        "direct",
        direct.ool_mib_per_s,
        Better::Higher,
    );
    r.figures.push(Figure {
        key: "kernel_bytes_per_port".into(),
        unit: "bytes",
        value: per_port,
        baseline: "target",
        baseline_value: Some(160.0),
        better: Better::Lower,
    });
    r.headline.push((
        "rpc_p50_ratio_relay".into(),
        herd.p50_us / relay.p50_us.max(1e-9),
    ));
    r.notes.push(format!(
        "{calls} round trips per thread; {ports} ports held by one task for the memory figure (kernel RSS growth / ports)"
    ));
    Ok(r)
}
