//! `herd bench ipc --traced`: the null RPC of a traced task against the same calls made
//! untraced, interleaved round by round in one run. A second client task is traced by the
//! kernel; a reader thread takes the records and formats them as `herd rpctrace` does
//! (into nothing), so the tracer competes for the machine as a real one would. The
//! untraced task's figures are the untraced kernel path with tracing compiled in.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use herd_runtime::{KernError, PortCall, Task};
use herd_wire::trace::TraceRecord;

use super::ipc::{measure_rpc, Herd, HerdNode, Measured, Transport, Work, THREADS};
use super::report::{Better, Figure, Report};
use crate::rpctrace::filter::Filter;
use crate::rpctrace::output::Printer;

/// The figures of the traced pass.
pub struct TracedFigures {
    untraced: Measured,
    traced: Measured,
    records: u64,
    dropped: u64,
}

/// Reads records until told to stop; counts them and the drops they report.
struct Reader {
    stop: Arc<AtomicBool>,
    records: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Reader {
    fn start(tracer: Task, port: herd_runtime::ReceiveRight) -> Reader {
        let stop = Arc::new(AtomicBool::new(false));
        let records = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let (s, r, d) = (stop.clone(), records.clone(), dropped.clone());
        let thread = std::thread::spawn(move || {
            let mut printer = Printer::new(std::io::sink(), Filter::default(), true);
            while !s.load(Ordering::Relaxed) {
                match tracer.receive(port.name(), Some(Duration::from_millis(20))) {
                    Ok(m) => {
                        if let Ok(rec) = TraceRecord::decode(m.id, &m.data) {
                            r.fetch_add(1, Ordering::Relaxed);
                            d.fetch_add(rec.dropped, Ordering::Relaxed);
                            let _ = printer.record(&rec);
                        }
                    }
                    Err(KernError::RcvTimedOut) => {}
                    Err(_) => return,
                }
            }
        });
        Reader {
            stop,
            records,
            dropped,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        (
            self.records.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
        )
    }
}

/// Measures the node's client untraced against a second client traced, interleaved.
pub fn measure(node: &HerdNode, work: &Work, rounds: u32) -> Result<TracedFigures> {
    let socket = &node.socket;
    // A second client with its own server: tracing is per task.
    let traced = Herd::start(socket, "bench-traced")?;
    let client = traced.task.clone();
    let tracer = Task::attach(socket, "bench-tracer")?;
    let port = tracer.allocate_port()?;
    port.set_qlimit(1024)?;
    tracer
        .call(PortCall::Trace {
            task: client.id(),
            tracer: port.name(),
            follow: false,
        })
        .context("tracing the second client")?;
    let reader = Reader::start(tracer.clone(), port);
    let pair: [&dyn Transport; 2] = [&node.herd, &traced];
    let measured = measure_rpc(&pair, work, rounds);
    let _ = tracer.call(PortCall::Untrace(client.id()));
    let (records, dropped) = reader.finish();
    let mut m = measured?.into_iter();
    let (untraced, traced) = (m.next().unwrap_or_default(), m.next().unwrap_or_default());
    Ok(TracedFigures {
        untraced,
        traced,
        records,
        dropped,
    })
}

impl TracedFigures {
    /// Adds the traced figures, each beside its untraced twin.
    pub fn report(&self, r: &mut Report) {
        let mut fig = |key: String, unit, value, base, better| {
            r.figures.push(Figure {
                key,
                unit,
                value,
                baseline: "untraced",
                baseline_value: Some(base),
                better,
            })
        };
        fig(
            "traced_rpc_p50_us".into(),
            "us",
            self.traced.p50_us,
            self.untraced.p50_us,
            Better::Lower,
        );
        for (i, n) in THREADS.iter().enumerate() {
            fig(
                format!("traced_rpc_calls_per_s_{n}t"),
                "calls/s",
                self.traced.calls_per_s.get(i).copied().unwrap_or(0.0),
                self.untraced.calls_per_s.get(i).copied().unwrap_or(0.0),
                Better::Higher,
            );
        }
        let ratio = |m: &Measured| m.calls_per_s.first().copied().unwrap_or(0.0);
        r.headline.push((
            "traced_rate_ratio_1t".into(),
            ratio(&self.traced) / ratio(&self.untraced).max(1e-9),
        ));
        r.notes.push(format!(
            "traced: a second client task traced by the kernel, records read and formatted by a reader thread as herd rpctrace does; {} records read, {} dropped by the kernel (tracer queue full)",
            self.records, self.dropped
        ));
    }
}
