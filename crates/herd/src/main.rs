//! `herd`: one binary with a subcommand per server and tool.
#![forbid(unsafe_code)]

mod bench;
mod boot;
mod fs_cmds;
mod kernel_cmd;
mod paths;
mod portinfo;
mod rpctrace;
mod translators;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// herd: a multi-server operating system in the design of the GNU Hurd, hosted on Linux.
#[derive(Parser, Debug)]
#[command(name = "herd", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Boot a node: kernel, root file system (tmpfs) and a small skeleton, in one command.
    Boot(boot::BootArgs),
    /// Stop a node started by `herd boot`.
    Halt(boot::HaltArgs),
    /// Run a node kernel (the broker that plays Mach) in the foreground.
    Kernel(kernel_cmd::KernelArgs),
    /// Run a benchmark and print its figures beside the baselines it measures.
    Bench(bench::BenchArgs),
    /// Internal: a peer process the benchmarks start (echo server, relay, herd server).
    #[command(hide = true)]
    BenchPeer(bench::peer::PeerArgs),
    /// Print every message a task sends and receives, decoded (the kernel traces it).
    Rpctrace(rpctrace::RpctraceArgs),
    /// List a task's port names: rights, references, receivers, queues.
    Portinfo(portinfo::PortinfoArgs),
    /// Internal: test-interface clients and servers, for trying rpctrace and its tests.
    #[command(hide = true)]
    RpctracePeer(rpctrace::peer::PeerArgs),
    /// Translator: a null device (reads end at once, writes vanish; --full: ENOSPC).
    Null(translators::null::NullArgs),
    /// Translator: a zero device (reads give zeros, writes vanish).
    Zero(translators::zero::ZeroArgs),
    /// Translator: a random device (every read gives new random bytes).
    Random(translators::random::RandomArgs),
    /// Translator: a file that shows a different saying on each open.
    Fortune(translators::fortune::FortuneArgs),
    /// Translator: an in-memory POSIX file system (--size: a size limit).
    Tmpfs(translators::tmpfs::TmpfsArgs),
    /// Translator: a symbolic link to TARGET (lookups are sent on to it).
    Symlink(translators::symlink::SymlinkArgs),
    /// Translator: a link to TARGET looked up in the translator's own namespace.
    Firmlink(translators::firmlink::FirmlinkArgs),
    /// Translator: a host directory served into the namespace (--read-only: no changes).
    Hostfs(translators::hostfs::HostfsArgs),
    /// Translator: a directory of host names, a translator from TEMPLATE started for each.
    Hostmux(translators::hostmux::HostmuxArgs),
    /// Translator: a directory of user names, a translator from TEMPLATE started for each.
    Usermux(translators::usermux::UsermuxArgs),
    #[command(flatten)]
    Fs(fs_cmds::FsCommand),
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HERD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("herd: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Boot(a) => boot::boot(a),
        Command::Halt(a) => boot::halt(a),
        Command::Kernel(a) => kernel_cmd::run(a),
        Command::Bench(a) => bench::run(a),
        Command::BenchPeer(a) => bench::peer::run(a),
        Command::Rpctrace(a) => rpctrace::run(a),
        Command::Portinfo(a) => portinfo::run(a),
        Command::RpctracePeer(a) => rpctrace::peer::run(a),
        Command::Null(a) => translators::null::run(a),
        Command::Zero(a) => translators::zero::run(a),
        Command::Random(a) => translators::random::run(a),
        Command::Fortune(a) => translators::fortune::run(a),
        Command::Tmpfs(a) => translators::tmpfs::run(a),
        Command::Symlink(a) => translators::symlink::run(a),
        Command::Firmlink(a) => translators::firmlink::run(a),
        Command::Hostfs(a) => translators::hostfs::run(a),
        Command::Hostmux(a) => translators::hostmux::run(a),
        Command::Usermux(a) => translators::usermux::run(a),
        Command::Fs(c) => fs_cmds::run(c),
    }
}
