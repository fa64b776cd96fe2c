//! `herd rpctrace`: every message a task sends and receives, decoded through the IDL.
//!
//! The kernel does the tracing (`docs/rpctrace.md`): rpctrace asks it to copy a record of
//! each message of the traced task onto a port of rpctrace's own, then reads and prints
//! the records. The traced task's messages take their usual path; no proxy sits between
//! it and its peers, so a blocked RPC blocks only the task, never the trace. When rpctrace
//! cannot keep up, the kernel drops records and says how many; the task never waits.

mod decode;
pub(crate) mod filter;
pub(crate) mod output;
pub mod peer;
pub mod session;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use herd_runtime::{KernError, Task};
use herd_wire::trace::{record_id, TaskRef, TraceEvent, TraceRecord};

use filter::Filter;
use output::Printer;

/// The most records the kernel queues for rpctrace before it drops (the kernel's limit).
const QUEUE: u32 = 1024;
/// Under a steady stream of records, the trace is written out at least this often (in
/// records), so little is lost if rpctrace is killed.
const FLUSH_EVERY: u32 = 256;

/// Arguments of `herd rpctrace`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  herd rpctrace -p 4242\n  herd rpctrace -f -e test,!notify -- herd some-program ARGS\n\nOnly a task's owner or root may trace it."
)]
pub struct RpctraceArgs {
    /// Write the trace to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also trace the tasks the traced tasks spawn.
    #[arg(short = 'f', long)]
    follow: bool,
    /// Show only these interfaces or routines, comma separated (`test`, `test.echo`,
    /// `unknown`); `!NAME` hides one.
    #[arg(
        short = 'e',
        long = "filter",
        value_name = "FILTER",
        value_delimiter = ','
    )]
    filter: Vec<String>,
    /// Prefix each line with the seconds since the trace began, and end each reply with
    /// the call's duration in `<seconds>`.
    #[arg(short = 't', long)]
    timestamps: bool,
    /// Trace the herd task (or tasks) of this Linux process.
    #[arg(short = 'p', long, value_name = "PID")]
    pid: Option<u32>,
    /// The kernel socket (default: $HERD_KERNEL, else kernel.sock in the runtime
    /// directory).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// A program to start as a task traced from its first message, and its arguments.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

/// Runs a trace until every traced task has exited.
pub fn run(args: RpctraceArgs) -> Result<()> {
    let filter = Filter::parse(&args.filter)?;
    match (&args.pid, args.command.is_empty()) {
        (Some(_), false) => bail!("give either -p PID or -- CMD, not both"),
        (None, true) => bail!("nothing to trace: give -p PID or -- CMD [ARGS...]"),
        _ => {}
    }
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let socket = args.socket.unwrap_or_else(crate::paths::kernel_socket);
    let task = Task::attach(&socket, "rpctrace")
        .with_context(|| format!("connecting to the kernel at {}", socket.display()))?;
    let port = task.allocate_port().context("allocating the trace port")?;
    port.set_qlimit(QUEUE)
        .context("setting the trace port's queue limit")?;
    let roots = match args.pid {
        Some(pid) => session::attach(&task, &port, pid, args.follow, &socket)?,
        None => vec![session::spawn(&task, &port, &args.command, args.follow)?],
    };
    for t in &roots {
        // One write, so a reader never sees half the line.
        let line = format!(
            "rpctrace: tracing {}({}) [task {}]\n",
            t.label, t.pid, t.task
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    let mut printer = Printer::new(out, filter, args.timestamps);
    let live: HashSet<u64> = roots.iter().map(|t| t.task).collect();
    let result = match trace_loop(&task, port.name(), &mut printer, live) {
        // The reader went away (`| head`): a normal end.
        Err(e) if is_broken_pipe(&e) => return Ok(()),
        other => other,
    };
    match printer.finish() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other.context("writing the trace")?,
    }
    if printer.dropped > 0 {
        eprintln!(
            "rpctrace: {} records dropped in all (the tracer fell behind; the traced tasks were not slowed)",
            printer.dropped
        );
    }
    result
}

/// Prints records until no traced task is left.
fn trace_loop<W: Write>(
    task: &Task,
    port: herd_runtime::PortName,
    printer: &mut Printer<W>,
    mut live: HashSet<u64>,
) -> Result<()> {
    let mut foreign = 0u64;
    let mut unflushed = 0u32;
    while !live.is_empty() {
        if unflushed >= FLUSH_EVERY {
            printer.flush().context("writing the trace")?;
            unflushed = 0;
        }
        unflushed += 1;
        let msg = match task.receive(port, Some(Duration::ZERO)) {
            Ok(m) => m,
            Err(KernError::RcvTimedOut) => {
                // Nothing queued: show what we have, then wait.
                printer.flush().context("writing the trace")?;
                unflushed = 0;
                task.receive(port, None)
                    .map_err(|e| anyhow::anyhow!("lost the kernel: {e}"))?
            }
            Err(e) => bail!("lost the kernel: {e}"),
        };
        if !record_id::is_record(msg.id) || !msg.ports.is_empty() {
            // Someone else sent to our port; it is not the kernel's.
            foreign += 1;
            continue;
        }
        let record = match TraceRecord::decode(msg.id, &msg.data) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("rpctrace: a record did not parse ({e}); skipped");
                continue;
            }
        };
        follow(&mut live, &record);
        printer.record(&record).context("writing the trace")?;
    }
    if foreign > 0 {
        eprintln!("rpctrace: ignored {foreign} messages that were not trace records");
    }
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Keeps the set of traced tasks: children join, the dead leave.
fn follow(live: &mut HashSet<u64>, r: &TraceRecord) {
    match &r.event {
        TraceEvent::Exit => {
            live.remove(&r.task.task);
        }
        TraceEvent::Spawned {
            child: TaskRef { task, .. },
            followed: true,
        } => {
            live.insert(*task);
        }
        _ => {
            live.insert(r.task.task);
        }
    }
}
