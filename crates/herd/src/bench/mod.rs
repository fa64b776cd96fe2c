//! `herd bench NAME`: benchmarks that measure their baselines in the same run and print
//! both and the ratio, as a table for people or as one JSON object with `--json`.

mod fs;
mod ipc;
pub mod peer;
mod report;
mod spawn;
mod stats;
mod traced;

use anyhow::Result;
use clap::{Args, ValueEnum};

/// Which benchmark.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BenchName {
    /// Kernel IPC: null RPC latency and rate, one-way messages, out-of-line transfer, and
    /// the kernel's memory per port.
    Ipc,
    /// The namespace: path lookup across three translators, create+stat+unlink of many
    /// files, 1 MiB write and read, each against the host's /dev/shm.
    Fs,
}

/// Arguments of `herd bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The benchmark to run.
    pub name: BenchName,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Round trips per client thread for the null RPC.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(100..))]
    pub calls: u32,
    /// Ports one task holds for the memory figure.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1000..=8_000_000))]
    pub ports: u32,
    /// Fewer iterations everywhere (for smoke tests; figures are noisier).
    #[arg(long)]
    pub quick: bool,
    /// Also measure the null RPC of a task traced by an rpctrace-like reader, against the
    /// same calls untraced, interleaved in the same run.
    #[arg(long)]
    pub traced: bool,
}

/// Runs a benchmark and prints its report.
pub fn run(args: BenchArgs) -> Result<()> {
    let report = match args.name {
        BenchName::Ipc => ipc::run(&args)?,
        BenchName::Fs => fs::run(&args)?,
    };
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}
