//! Turns trace records into lines, pairing each reply with its request.
//!
//! A request (a message with a reply right, of a routine that has a reply) is printed when
//! it is sent or received and its line is left open; when the reply comes next, it is
//! appended to the same line (` = (back=b"hi")`). If anything else comes first, the open
//! line ends with ` ...#N` and the reply, when it comes, gets its own line starting with
//! `#N...`, as the Hurd's rpctrace does. A request never answered stays visible as
//! pending. Replies are paired by port: a client's request with the next message on its
//! reply port, a server's received request with the next message it sends to that
//! request's reply port.
//!
//! ```text
//! client(4242) -> test-server(4240)[259] test.echo(data=b"hi") = (back=b"hi")
//! test-server(4240)[515] <- client(4242) test.add(a=2, b=3) = (sum=5)
//! client(4242) -> test-server(4240)[259] test.poke(n=7);
//! ```

use std::collections::HashMap;
use std::io::{self, Write};

use herd_wire::trace::{MessageRecord, TaskRef, TraceEvent, TraceRecord};
use herd_wire::KernError;

use super::decode::{self, describe, Routine};
use super::filter::Filter;

/// A request waiting for its reply: (traced task, reply port id).
type Key = (u64, u64);

struct Pending {
    /// The number it got when its line was interrupted.
    number: Option<u64>,
    /// `test.echo`, or the unknown id.
    head: String,
    /// The routine whose reply is expected.
    routine: Option<Routine>,
    /// When it was sent or received.
    time_ns: u64,
    /// Whether the filter let it through (its reply is shown only if so).
    shown: bool,
    /// Who sent or received it.
    task: TaskRef,
}

/// Writes the trace.
pub struct Printer<W: Write> {
    out: W,
    filter: Filter,
    timestamps: bool,
    start_ns: Option<u64>,
    open: Option<Key>,
    pending: HashMap<Key, Pending>,
    next_number: u64,
    /// Records the kernel dropped, in all.
    pub dropped: u64,
}

impl<W: Write> Printer<W> {
    /// A printer writing to `out`.
    pub fn new(out: W, filter: Filter, timestamps: bool) -> Self {
        Printer {
            out,
            filter,
            timestamps,
            start_ns: None,
            open: None,
            pending: HashMap::new(),
            next_number: 1,
            dropped: 0,
        }
    }

    /// Flushes what was written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Gives back the writer.
    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
    }

    fn stamp(&mut self, time_ns: u64) -> String {
        if !self.timestamps {
            return String::new();
        }
        let start = *self.start_ns.get_or_insert(time_ns);
        format!("{:>11.6} ", time_ns.saturating_sub(start) as f64 / 1e9)
    }

    fn duration(&self, from_ns: u64, to_ns: u64) -> String {
        if self.timestamps {
            format!(" <{:.6}>", to_ns.saturating_sub(from_ns) as f64 / 1e9)
        } else {
            String::new()
        }
    }

    /// Ends the open line, if any, marking its request so its reply can refer to it.
    fn close_open(&mut self) -> io::Result<()> {
        let Some(key) = self.open.take() else {
            return Ok(());
        };
        let n = self.next_number;
        self.next_number += 1;
        if let Some(p) = self.pending.get_mut(&key) {
            p.number = Some(n);
        }
        writeln!(self.out, " ...#{n}")
    }

    /// A whole line.
    fn line(&mut self, time_ns: u64, text: &str) -> io::Result<()> {
        self.close_open()?;
        let ts = self.stamp(time_ns);
        writeln!(self.out, "{ts}{text}")
    }

    /// Prints one record.
    pub fn record(&mut self, r: &TraceRecord) -> io::Result<()> {
        if r.dropped > 0 {
            self.dropped += r.dropped;
            let who = decode::task(&r.task);
            self.line(
                r.time_ns,
                &format!(
                    "--- {who}: {} records dropped (the tracer fell behind) ---",
                    r.dropped
                ),
            )?;
        }
        match &r.event {
            TraceEvent::Send(m) => self.sent(r, m),
            TraceEvent::Receive(m) => self.received(r, m),
            TraceEvent::Exit => self.exited(r),
            TraceEvent::Spawned { child, followed } => {
                let what = if *followed { "traced" } else { "not traced" };
                let text = format!(
                    "{} spawned {} [task {}, {what}]",
                    decode::task(&r.task),
                    decode::task(child),
                    child.task
                );
                self.line(r.time_ns, &text)
            }
            TraceEvent::Waiting {
                sending,
                id,
                port,
                in_call,
            } => {
                let me = decode::task(&r.task);
                if *sending {
                    let what = Routine::of(*id).map_or_else(|| format!("msg {id}"), |r| r.head());
                    let dest = format!("{}[{}]", decode::holder(&port.receiver), port.name);
                    let text = format!(
                        "{me} -> {dest} {what} [queue full: waiting, since before the trace]"
                    );
                    return self.line(r.time_ns, &text);
                }
                if !in_call {
                    let text = format!("{me} is waiting for messages on {}", port.name);
                    return self.line(r.time_ns, &text);
                }
                // A call in progress: whatever comes on its reply port answers it.
                let key = (r.task.task, port.port_id);
                self.pending.insert(
                    key,
                    Pending {
                        number: None,
                        head: format!("<call made before the trace, waiting on {}>", port.name),
                        routine: None,
                        time_ns: r.time_ns,
                        shown: true,
                        task: r.task.clone(),
                    },
                );
                self.close_open()?;
                let ts = self.stamp(r.time_ns);
                write!(
                    self.out,
                    "{ts}{me} <call made before the trace, waiting on {}>",
                    port.name
                )?;
                self.open = Some(key);
                Ok(())
            }
        }
    }

    fn sent(&mut self, r: &TraceRecord, m: &MessageRecord) -> io::Result<()> {
        let me = decode::task(&r.task);
        let d = describe(m, true);
        let dest = format!("{}[{}]", decode::holder(&m.dest.receiver), m.dest.name);
        let key = (r.task.task, m.dest.port_id);
        if m.status != 0 {
            let e = KernError::from_code(m.status).map_or("?", |e| e.symbol());
            if self.filter.shows(d.routine) {
                let text = format!("{me} -> {dest} {} = send failed: {e}", d.text);
                self.line(r.time_ns, &text)?;
            }
            return Ok(());
        }
        if m.dest.port_id != 0 && self.pending.contains_key(&key) {
            // A server answering a request it received.
            return self.answer(key, r.time_ns, &d);
        }
        let blocked = if m.flags & herd_wire::trace::record_flags::BLOCKED != 0 {
            " [queue full: waiting]"
        } else {
            ""
        };
        let text = format!("{me} -> {dest} {}{blocked}", d.text);
        self.request_or_oneway(r, m, d.routine, text)
    }

    fn received(&mut self, r: &TraceRecord, m: &MessageRecord) -> io::Result<()> {
        let me = decode::task(&r.task);
        let d = describe(m, false);
        let key = (r.task.task, m.dest.port_id);
        if self.pending.contains_key(&key) {
            // A client's reply (or whatever came on the reply port instead).
            return self.answer(key, r.time_ns, &d);
        }
        let asker = if m.reply.port_id != 0 {
            format!(" <- {}", decode::holder(&m.reply.receiver))
        } else {
            " <-".to_string()
        };
        let text = format!("{me}[{}]{asker} {}", m.dest.name, d.text);
        self.request_or_oneway(r, m, d.routine, text)
    }

    /// Prints a message that is not an answer: a request (line left open) or one-way.
    fn request_or_oneway(
        &mut self,
        r: &TraceRecord,
        m: &MessageRecord,
        routine: Option<Routine>,
        text: String,
    ) -> io::Result<()> {
        let expects_reply =
            m.reply.port_id != 0 && routine.is_none_or(|r| !r.is_reply && !r.routine.simple);
        let shown = self.filter.shows(routine);
        if !expects_reply {
            return if shown {
                self.line(r.time_ns, &format!("{text};"))
            } else {
                Ok(())
            };
        }
        let key = (r.task.task, m.reply.port_id);
        self.pending.insert(
            key,
            Pending {
                number: None,
                head: routine.map_or_else(|| format!("msg {}", m.id), |r| r.head()),
                routine,
                time_ns: r.time_ns,
                shown,
                task: r.task.clone(),
            },
        );
        if shown {
            self.close_open()?;
            let ts = self.stamp(r.time_ns);
            write!(self.out, "{ts}{text}")?;
            self.open = Some(key);
        }
        Ok(())
    }

    /// The message `d` answers the request pending under `key`.
    fn answer(&mut self, key: Key, time_ns: u64, d: &decode::Described) -> io::Result<()> {
        let Some(p) = self.pending.remove(&key) else {
            return Ok(());
        };
        if !p.shown {
            return Ok(());
        }
        let expected = match (p.routine, d.routine) {
            (Some(want), Some(got)) => got.is_reply && std::ptr::eq(want.routine, got.routine),
            (None, _) => true,
            _ => false,
        };
        let result = if p.routine.is_none() {
            // The request was not seen (or no interface knows it): say what came.
            d.text.clone()
        } else if expected {
            d.result.clone()
        } else {
            // Not the reply: a send-once notification (the request was dropped), or
            // something else sent to the reply port.
            let what = d.routine.map_or_else(|| d.text.clone(), |r| r.head());
            format!("<no reply: {what} came instead>")
        };
        let took = self.duration(p.time_ns, time_ns);
        if self.open == Some(key) {
            self.open = None;
            return writeln!(self.out, " = {result}{took}");
        }
        let who = decode::task(&p.task);
        let n = p.number.map_or_else(String::new, |n| format!("#{n}... "));
        self.line(time_ns, &format!("{who} {n}{} = {result}{took}", p.head))
    }

    fn exited(&mut self, r: &TraceRecord) -> io::Result<()> {
        let mine: Vec<Key> = {
            let mut v: Vec<(Option<u64>, Key)> = self
                .pending
                .iter()
                .filter(|(k, _)| k.0 == r.task.task)
                .map(|(k, p)| (p.number, *k))
                .collect();
            v.sort();
            v.into_iter().map(|(_, k)| k).collect()
        };
        for key in mine {
            let Some(p) = self.pending.remove(&key) else {
                continue;
            };
            if !p.shown {
                continue;
            }
            if self.open == Some(key) {
                self.open = None;
                writeln!(self.out, " = <unanswered: task exited>")?;
            } else {
                let n = p.number.map_or_else(String::new, |n| format!("#{n}... "));
                let who = decode::task(&p.task);
                self.line(
                    r.time_ns,
                    &format!("{who} {n}{} = <unanswered: task exited>", p.head),
                )?;
            }
        }
        self.line(r.time_ns, &format!("{} exited", decode::task(&r.task)))
    }

    /// Ends the trace: the open line is closed as still pending.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.open.take().is_some() {
            writeln!(self.out, " ... <pending>")?;
        }
        self.out.flush()
    }
}
