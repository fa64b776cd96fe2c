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

/// Client threads the call rates are measured with.
pub(super) const THREADS: [usize; 3] = [1, 2, 4];
const OOL_BYTES: usize = 1 << 20;

/// One transport under test: how to make a client endpoint per thread and do one call.
pub(super) trait Transport: Sync {
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
pub(super) struct Herd {
    /// The client task.
    pub(super) task: Task,
    /// The server's port.
    pub(super) server: SendRight,
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
pub(super) struct Measured {
    pub(super) p50_us: f64,
    p99_us: f64,
    pub(super) calls_per_s: Vec<f64>,
    oneway_per_s: f64,
    ool_mib_per_s: f64,
}

/// How much work one round gives each transport.
pub(super) struct Work {
    calls: u32,
    oneway: u32,
    transfers: u32,
}

/// Runs `round` for each transport in turn, `rounds` times, adding up what each took, so
/// that a change in the machine's load falls on all transports alike.
fn interleaved(
    transports: &[&dyn Transport],
    rounds: u32,
    mut round: impl FnMut(usize, &dyn Transport) -> Result<Duration>,
) -> Result<Vec<Duration>> {
    let mut total = vec![Duration::ZERO; transports.len()];
    for _ in 0..rounds {
        for (i, t) in transports.iter().enumerate() {
            total[i] += round(i, *t)?;
        }
    }
    Ok(total)
}

fn calls_on_threads(t: &dyn Transport, threads: usize, calls: u32) -> Result<Duration> {
    let barrier = Barrier::new(threads);
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..threads)
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
    Ok(start.elapsed())
}

/// Null-RPC latency and call rates of every transport, interleaved round by round.
pub(super) fn measure_rpc(
    transports: &[&dyn Transport],
    work: &Work,
    rounds: u32,
) -> Result<Vec<Measured>> {
    let n = transports.len();
    let mut out: Vec<Measured> = (0..n).map(|_| Measured::default()).collect();
    for t in transports {
        for _ in 0..work.calls / 10 {
            t.call(0, PING, None)?;
        }
    }
    let mut samples: Vec<Samples> = (0..n)
        .map(|_| Samples::with_capacity((work.calls * rounds) as usize))
        .collect();
    interleaved(transports, rounds, |i, t| {
        let start = Instant::now();
        for _ in 0..work.calls {
            let one = Instant::now();
            t.call(0, PING, None)?;
            samples[i].push(one.elapsed());
        }
        Ok(start.elapsed())
    })?;
    for (m, s) in out.iter_mut().zip(samples.iter_mut()) {
        m.p50_us = s.quantile_us(0.5);
        m.p99_us = s.quantile_us(0.99);
    }
    for &threads in &THREADS {
        let took = interleaved(transports, rounds, |_, t| {
            calls_on_threads(t, threads, work.calls)
        })?;
        for (m, d) in out.iter_mut().zip(took) {
            let count = work.calls as u64 * threads as u64 * rounds as u64;
            m.calls_per_s.push(rate(count, d));
        }
    }
    Ok(out)
}

/// Measures every transport, interleaving them round by round.
fn measure(transports: &[&dyn Transport], work: &Work, rounds: u32) -> Result<Vec<Measured>> {
    let mut out = measure_rpc(transports, work, rounds)?;
    let took = interleaved(transports, rounds, |_, t| {
        let start = Instant::now();
        for _ in 0..work.oneway {
            t.oneway(0)?;
        }
        t.call(0, SYNC, None)?;
        Ok(start.elapsed())
    })?;
    for (m, d) in out.iter_mut().zip(took) {
        m.oneway_per_s = rate(work.oneway as u64 * rounds as u64, d);
    }
    let payload = vec![0x5au8; OOL_BYTES];
    let took = interleaved(transports, rounds, |_, t| {
        let start = Instant::now();
        for _ in 0..work.transfers {
            let region = Region::from_bytes("bench", &payload)?;
            t.call(0, OOL, Some(region))?;
        }
        Ok(start.elapsed())
    })?;
    for (m, d) in out.iter_mut().zip(took) {
        m.ool_mib_per_s = rate(work.transfers as u64 * rounds as u64, d);
    }
    Ok(out)
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

/// The direct baseline: an echo process, one socket pair per client thread.
fn direct() -> Result<(Sockets, Vec<Peer>)> {
    let n = *THREADS.iter().max().unwrap_or(&1);
    let (chans, theirs) = pairs(n)?;
    let echo = Peer::start(&["echo".into(), "--fds".into(), fd_list(n, 0)], &theirs)?;
    Ok((Sockets { chans }, vec![echo]))
}

/// The relay baseline: client -> relay -> echo -> relay -> client.
fn relayed() -> Result<(Sockets, Vec<Peer>)> {
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
    let echo = Peer::start(
        &["echo".into(), "--fds".into(), fd_list(n, 0)],
        &server_side_echo,
    )?;
    let pairs_arg = (0..n)
        .map(|i| format!("{{fd{}}}:{{fd{}}}", i, i + n))
        .collect::<Vec<_>>()
        .join(",");
    let mut relay_fds = client_side;
    relay_fds.extend(server_side_relay);
    let relay = Peer::start(&["relay".into(), "--pairs".into(), pairs_arg], &relay_fds)?;
    Ok((Sockets { chans }, vec![echo, relay]))
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

/// herd's side: a kernel process, this process as the client task, and a server task
/// the kernel starts.
pub(super) struct HerdNode {
    /// First, so the client task leaves before the kernel stops (fields drop in order).
    pub(super) herd: Herd,
    kernel: Peer,
    pub(super) socket: PathBuf,
    dir: PathBuf,
}

impl Herd {
    /// A client task `label` and a benchmark server task the kernel starts for it.
    pub(super) fn start(socket: &Path, label: &str) -> Result<Herd> {
        let task = Task::attach(socket, label)?;
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
        Ok(Herd { task, server })
    }
}

impl HerdNode {
    fn start() -> Result<HerdNode> {
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
        Ok(HerdNode {
            herd: Herd::start(&socket, "bench")?,
            kernel,
            socket,
            dir,
        })
    }

    /// The kernel's memory per port: its resident set growth while one task allocates
    /// `ports` receive rights.
    fn bytes_per_port(&self, ports: u32) -> Result<f64> {
        let before = rss_bytes(self.kernel.pid())?;
        let holder = Task::attach(&self.socket, "bench-ports")?;
        for _ in 0..ports {
            holder.call(PortCall::Allocate(herd_wire::frame::AllocateKind::Receive))?;
        }
        let after = rss_bytes(self.kernel.pid())?;
        Ok(after.saturating_sub(before) as f64 / ports as f64)
    }
}

impl Drop for HerdNode {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the whole benchmark.
pub fn run(args: &BenchArgs) -> Result<Report> {
    let rounds = 5;
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
    let work = Work {
        calls: (calls / rounds).max(1),
        oneway: (calls * 5 / rounds).max(1),
        transfers: if args.quick { 4 } else { 40 },
    };
    let (direct_t, _direct_peers) = direct().context("direct baseline")?;
    let (relay_t, _relay_peers) = relayed().context("relay baseline")?;
    let node = HerdNode::start().context("herd")?;
    let mut all = measure(&[&direct_t, &relay_t, &node.herd], &work, rounds)?.into_iter();
    let (direct, relay, herd) = match (all.next(), all.next(), all.next()) {
        (Some(d), Some(r), Some(h)) => (d, r, h),
        _ => bail!("missing measurements"),
    };
    let traced = if args.traced {
        Some(super::traced::measure(&node, &work, rounds).context("traced")?)
    } else {
        None
    };
    let per_port = node.bytes_per_port(ports)?;
    let mut r = Report {
        name: "ipc".into(),
        ..Default::default()
    };
    if let Some(t) = &traced {
        t.report(&mut r);
    }
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
        "{calls} round trips per thread in {rounds} rounds interleaving direct, relay and herd; {ports} ports held by one task for the memory figure (kernel RSS growth / ports)"
    ));
    Ok(r)
}
