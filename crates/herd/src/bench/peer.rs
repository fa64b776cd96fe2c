//! The benchmark's peer processes: a plain echo server and a relay (the baselines), and
//! herd's side (a kernel and a server task).
//!
//! Baseline frames: first byte says what to do: [`PING`] answer, [`ONEWAY`] no answer,
//! [`SYNC`] answer (sent after a stream of one-way frames), [`OOL`] read the passed memfd
//! whole, then answer. herd's server uses the same numbers as message ids.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use herd_channel::{memfd, Channel, Frame};
use herd_runtime::{OutMessage, PortArg, Received, ServeOptions, Task};

/// Answer this request.
pub const PING: u8 = 1;
/// Do not answer.
pub const ONEWAY: u8 = 2;
/// Answer (ends a one-way stream).
pub const SYNC: u8 = 3;
/// Read the region, then answer.
pub const OOL: u8 = 4;

/// Arguments of `herd bench-peer`.
#[derive(Args, Debug)]
pub struct PeerArgs {
    #[command(subcommand)]
    kind: PeerKind,
}

#[derive(Subcommand, Debug)]
enum PeerKind {
    /// Echo server on inherited seqpacket descriptors, one thread each.
    Echo {
        /// Descriptor numbers, comma separated.
        #[arg(long, value_delimiter = ',')]
        fds: Vec<i32>,
    },
    /// Single-threaded relay between pairs of inherited descriptors `client:server`.
    Relay {
        /// Pairs, comma separated.
        #[arg(long, value_delimiter = ',')]
        pairs: Vec<String>,
    },
    /// A node kernel at a socket.
    Kernel {
        /// Where to listen.
        #[arg(long)]
        socket: PathBuf,
    },
    /// herd's benchmark server (started by the kernel with a bootstrap right).
    HerdServer,
    /// A herd client that makes `count` RPCs with routine `id` to its first initial port
    /// (0 = forever), then exits.
    RpcLoop {
        /// The routine id.
        #[arg(long)]
        id: u32,
        /// How many calls (0 = until killed).
        #[arg(long, default_value_t = 0)]
        count: u64,
    },
}

/// Runs a peer until its peers go away.
pub fn run(args: PeerArgs) -> Result<()> {
    match args.kind {
        PeerKind::Echo { fds } => echo(fds),
        PeerKind::Relay { pairs } => relay(pairs),
        PeerKind::Kernel { socket } => Ok(herd_kernel::serve(&socket)?),
        PeerKind::HerdServer => herd_server(),
        PeerKind::RpcLoop { id, count } => rpc_loop(id, count),
    }
}

fn inherited(fd: i32) -> Result<OwnedFd> {
    herd_channel::adopt_inherited_socket(fd).with_context(|| format!("taking descriptor {fd}"))
}

fn echo(fds: Vec<i32>) -> Result<()> {
    let threads: Vec<_> = fds
        .into_iter()
        .map(|fd| {
            let ch = Channel::from_fd(inherited(fd)?);
            Ok(std::thread::spawn(move || echo_loop(&ch)))
        })
        .collect::<Result<_>>()?;
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

fn echo_loop(ch: &Channel) {
    let mut frame = Frame::default();
    while let Ok(true) = ch.recv(&mut frame, 64 * 1024) {
        let kind = frame.bytes.first().copied().unwrap_or(0);
        if kind == OOL {
            let Some(fd) = frame.fds.first() else { return };
            let len = rustix::fs::fstat(fd).map(|s| s.st_size as u64).unwrap_or(0);
            if memfd::read_all(fd, len).is_err() {
                return;
            }
        }
        if kind != ONEWAY && ch.send(&frame.bytes[..1], &[]).is_err() {
            return;
        }
    }
}

fn relay(pairs: Vec<String>) -> Result<()> {
    use rustix::event::epoll;
    let mut chans: Vec<Channel> = Vec::new();
    for p in &pairs {
        let (a, b) = p.split_once(':').context("relay pairs are CLIENT:SERVER")?;
        chans.push(Channel::from_fd(inherited(a.parse()?)?));
        chans.push(Channel::from_fd(inherited(b.parse()?)?));
    }
    let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
    for (i, c) in chans.iter().enumerate() {
        epoll::add(
            &ep,
            c,
            epoll::EventData::new_u64(i as u64),
            epoll::EventFlags::IN,
        )?;
    }
    let mut events: Vec<epoll::Event> = Vec::with_capacity(16);
    let mut frame = Frame::default();
    loop {
        events.clear();
        epoll::wait(&ep, rustix::buffer::spare_capacity(&mut events), None)?;
        for ev in events.iter() {
            let i = ev.data.u64() as usize;
            // Each endpoint's partner is its pair neighbour.
            let other = i ^ 1;
            match chans[i].recv(&mut frame, 64 * 1024) {
                Ok(true) => {
                    use std::os::fd::AsFd;
                    let fds: Vec<_> = frame.fds.iter().map(|f| f.as_fd()).collect();
                    chans[other].send(&frame.bytes, &fds)?;
                }
                _ => return Ok(()),
            }
        }
    }
}

fn herd_server() -> Result<()> {
    let task = Task::from_env("bench-server")?;
    let boot = *task
        .initial_ports()
        .first()
        .context("no bootstrap port given")?;
    let port = task.allocate_port()?;
    port.set_qlimit(1024)?;
    let mut hello = OutMessage::new(
        PortArg::MoveSend(herd_runtime::SendRight::from_name(&task, boot)),
        0,
    );
    hello.ports.push(PortArg::MakeSend(port.name()));
    task.send(hello, None)?;
    let opts = ServeOptions {
        max_threads: 8,
        ..ServeOptions::default()
    };
    // The benchmark ends by stopping the kernel: a lost connection is the normal end.
    if let Err(e) = herd_runtime::serve(&task, port.name(), handle, opts) {
        tracing::debug!(error = %e, "benchmark server ends");
    }
    Ok(())
}

fn handle(msg: Received) -> Option<OutMessage> {
    let kind = msg.id as u8;
    if kind == OOL {
        let region = msg.ool.first()?;
        region.read().ok()?;
    }
    if kind == ONEWAY {
        return None;
    }
    Some(OutMessage::new(
        PortArg::Null,
        herd_runtime::reply_id(msg.id),
    ))
}

fn rpc_loop(id: u32, count: u64) -> Result<()> {
    let task = Task::from_env("rpc-loop")?;
    let server = *task
        .initial_ports()
        .first()
        .context("no server port given")?;
    let mut done = 0u64;
    while count == 0 || done < count {
        task.rpc(OutMessage::new(PortArg::CopySend(server), id), None)?;
        done += 1;
    }
    Ok(())
}
