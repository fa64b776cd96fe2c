//! `herd portinfo`: a task's port names, as the Hurd's portinfo shows them: each name with
//! its rights, user references, the port's receiver (task and pid) and queue length; with
//! `--translate`, which names of one task denote ports another task also has names for.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use herd_runtime::{CallValue, PortCall, RightKind, Task};
use herd_wire::frame::{NameInfo, TaskInfo};

use crate::rpctrace::session;

/// Arguments of `herd portinfo`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  herd portinfo 4242\n  herd portinfo --translate 4242 4240   (names in 4242 that 4240 also has, and its names for them)"
)]
pub struct PortinfoArgs {
    /// The Linux pid of the task to show.
    #[arg(value_name = "PID", required_unless_present = "translate")]
    pid: Option<u32>,
    /// Map the names of PID1's task to PID2's names for the same ports.
    #[arg(long, num_args = 2, value_names = ["PID1", "PID2"], conflicts_with = "pid")]
    translate: Option<Vec<u32>>,
    /// The kernel socket (default: $HERD_KERNEL, else kernel.sock in the runtime
    /// directory).
    #[arg(long)]
    socket: Option<PathBuf>,
}

/// Prints the listing.
pub fn run(args: PortinfoArgs) -> Result<()> {
    let socket = args.socket.unwrap_or_else(crate::paths::kernel_socket);
    let task = Task::attach(&socket, "portinfo")
        .with_context(|| format!("connecting to the kernel at {}", socket.display()))?;
    let labels: HashMap<u64, TaskInfo> = session::tasks(&task)?
        .into_iter()
        .map(|t| (t.task, t))
        .collect();
    let text = match (args.pid, args.translate.as_deref()) {
        (Some(pid), None) => {
            let mut out = String::new();
            for t in session::tasks_of_pid(&task, pid, &socket)? {
                let names = names(&task, &t, "inspect")?;
                out.push_str(&listing(&t, &names, &labels));
            }
            out
        }
        (None, Some(&[from, to])) => {
            let from_tasks = session::tasks_of_pid(&task, from, &socket)?;
            let to_tasks = session::tasks_of_pid(&task, to, &socket)?;
            let mut out = String::new();
            for a in &from_tasks {
                let an = names(&task, a, "inspect")?;
                for b in &to_tasks {
                    let bn = names(&task, b, "inspect")?;
                    out.push_str(&translate(a, &an, b, &bn));
                }
            }
            out
        }
        _ => bail!("give a PID, or --translate PID1 PID2"),
    };
    print!("{text}");
    Ok(())
}

/// The names of `t`, sorted.
fn names(task: &Task, t: &TaskInfo, what: &str) -> Result<Vec<NameInfo>> {
    match task.call(PortCall::TaskNamesOf(t.task)) {
        Ok(CallValue::NameInfos(mut v)) => {
            v.sort_by_key(|i| i.name);
            Ok(v)
        }
        Ok(other) => bail!("the kernel answered a name listing with {other:?}"),
        Err(e) => Err(session::refusal(e, t, what)),
    }
}

/// `3.0` for a port, `set 2.0` for a port set, `-` for none.
fn port_id(id: u64) -> String {
    if id == 0 {
        return "-".into();
    }
    let slot = id as u32;
    let generation = (id >> 32) as u32 & 0x3fff_ffff;
    if id & (1 << 63) != 0 {
        format!("set {slot}.{generation}")
    } else {
        format!("{slot}.{generation}")
    }
}

/// `receive+send`, as the kernel names right kinds, without the dead-name request bit.
fn rights(r: RightKind) -> String {
    let base = format!("{:?}", RightKind(r.0 & !RightKind::DNREQUEST.0));
    if r.contains(RightKind::DNREQUEST) {
        format!("{base} (dead-name request)")
    } else {
        base
    }
}

fn receiver(i: &NameInfo, labels: &HashMap<u64, TaskInfo>) -> String {
    if i.port_id == 0 || i.rights.contains(RightKind::PORT_SET) {
        return "-".into();
    }
    if i.receiver_pid == 0 {
        return "(in transit)".into();
    }
    match labels.get(&i.receiver_task) {
        Some(t) => format!("{}({})", t.label, i.receiver_pid),
        None => format!("task {}({})", i.receiver_task, i.receiver_pid),
    }
}

/// The table of one task's names.
fn listing(t: &TaskInfo, names: &[NameInfo], labels: &HashMap<u64, TaskInfo>) -> String {
    let mut s = format!(
        "{}({}) [task {}, uid {}]: {} names\n",
        t.label,
        t.pid,
        t.task,
        t.uid,
        names.len()
    );
    let _ = writeln!(
        s,
        "{:>10}  {:<24} {:>6}  {:<10} {:<24} {:>6}",
        "name", "rights", "urefs", "port", "receiver", "queued"
    );
    for i in names {
        let _ = writeln!(
            s,
            "{:>10}  {:<24} {:>6}  {:<10} {:<24} {:>6}",
            i.name.to_string(),
            rights(i.rights),
            i.urefs,
            port_id(i.port_id),
            receiver(i, labels),
            i.queued
        );
    }
    s
}

/// Names in `a` whose port `b` also names, with `b`'s names.
fn translate(a: &TaskInfo, an: &[NameInfo], b: &TaskInfo, bn: &[NameInfo]) -> String {
    let theirs: HashMap<u64, &NameInfo> = bn
        .iter()
        .filter(|i| i.port_id != 0)
        .map(|i| (i.port_id, i))
        .collect();
    let mut s = format!("{}({}) -> {}({}):\n", a.label, a.pid, b.label, b.pid);
    let mut any = false;
    for i in an.iter().filter(|i| i.port_id != 0) {
        if let Some(j) = theirs.get(&i.port_id) {
            any = true;
            let _ = writeln!(
                s,
                "{:>10} [{}] -> {} [{}]",
                i.name.to_string(),
                rights(i.rights),
                j.name,
                rights(j.rights)
            );
        }
    }
    if !any {
        s.push_str("  (no port in common)\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use herd_wire::PortName;

    fn info(name: u32, rights: RightKind, port_id: u64) -> NameInfo {
        NameInfo {
            name: PortName(name),
            rights,
            urefs: 1,
            port_id,
            receiver_task: 1,
            receiver_pid: 42,
            queued: 0,
        }
    }

    fn task(id: u64, pid: u32, label: &str) -> TaskInfo {
        TaskInfo {
            task: id,
            pid,
            uid: 0,
            label: label.into(),
            names: 0,
            connections: 1,
        }
    }

    #[test]
    fn translate_pairs_names_by_port() {
        let p = (1 << 62) | 3;
        let q = (1 << 62) | 4;
        let a = [info(259, RightKind::SEND, p), info(515, RightKind::SEND, q)];
        let b = [info(771, RightKind::RECEIVE, p)];
        let text = translate(&task(0, 1, "client"), &a, &task(1, 2, "server"), &b);
        assert!(text.contains("259 [send] -> 771 [receive]"), "{text}");
        assert!(!text.contains("515"), "{text}");
        let none = translate(&task(0, 1, "client"), &a[1..], &task(1, 2, "server"), &b);
        assert!(none.contains("no port in common"));
    }

    #[test]
    fn ids_and_listing_read_well() {
        assert_eq!(port_id(0), "-");
        assert_eq!(port_id((1 << 62) | (2 << 32) | 7), "7.2");
        assert_eq!(port_id((1 << 63) | 5), "set 5.0");
        let mut labels = HashMap::new();
        labels.insert(1, task(1, 42, "server"));
        let text = listing(
            &task(0, 1, "client"),
            &[info(
                259,
                RightKind::SEND | RightKind::DNREQUEST,
                (1 << 62) | 3,
            )],
            &labels,
        );
        assert!(text.contains("server(42)"), "{text}");
        assert!(text.contains("send (dead-name request)"), "{text}");
    }
}
