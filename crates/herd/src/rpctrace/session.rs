//! Starting a trace: finding the tasks of a pid and asking the kernel to trace them, or
//! starting a command as a task traced from its first message.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use herd_runtime::{CallValue, KernError, PortCall, ReceiveRight, Task};
use herd_wire::frame::{TaskInfo, MAX_ARGS, MAX_STRING};
use herd_wire::trace::TaskRef;

/// The kernel's tasks.
pub fn tasks(task: &Task) -> Result<Vec<TaskInfo>> {
    match task
        .call(PortCall::Tasks)
        .context("listing the kernel's tasks")?
    {
        CallValue::Tasks(v) => Ok(v),
        other => bail!("the kernel answered a task listing with {other:?}"),
    }
}

/// The tasks of Linux process `pid`, or an error that says why there are none.
pub fn tasks_of_pid(task: &Task, pid: u32, socket: &Path) -> Result<Vec<TaskInfo>> {
    let found: Vec<TaskInfo> = tasks(task)?.into_iter().filter(|t| t.pid == pid).collect();
    if found.is_empty() {
        if Path::new(&format!("/proc/{pid}")).exists() {
            bail!(
                "process {pid} is not a herd task (the kernel at {} has no task with that pid)",
                socket.display()
            );
        }
        bail!("no process {pid}");
    }
    Ok(found)
}

/// `label(pid) [task N]`.
pub fn name(t: &TaskInfo) -> String {
    format!("{}({}) [task {}]", t.label, t.pid, t.task)
}

fn my_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Why the kernel refused to let us look at or trace `t`, in words.
pub fn refusal(e: KernError, t: &TaskInfo, what: &str) -> anyhow::Error {
    match e {
        KernError::NotPermitted => anyhow!(
            "not permitted to {what} {}: it belongs to uid {} and you are uid {} (only a \
             task's owner or root may)",
            name(t),
            t.uid,
            my_uid()
        ),
        KernError::InvalidTask => anyhow!("{} is gone (it exited)", name(t)),
        KernError::NameExists => anyhow!("{} is already being traced", name(t)),
        KernError::InvalidArgument if what == "trace" => anyhow!(
            "cannot trace {}: a task is never traced to a port it receives itself (is it this \
             rpctrace?)",
            name(t)
        ),
        other => anyhow!("cannot {what} {}: {other}", name(t)),
    }
}

/// Traces every task of `pid` to `port`; returns those now traced.
pub fn attach(
    task: &Task,
    port: &ReceiveRight,
    pid: u32,
    follow: bool,
    socket: &Path,
) -> Result<Vec<TaskRef>> {
    let found = tasks_of_pid(task, pid, socket)?;
    let mut traced = Vec::new();
    let mut first_error = None;
    for t in &found {
        let call = PortCall::Trace {
            task: t.task,
            tracer: port.name(),
            follow,
        };
        match task.call(call) {
            Ok(_) => traced.push(TaskRef {
                task: t.task,
                pid: t.pid,
                label: t.label.clone(),
            }),
            Err(e) => {
                let err = refusal(e, t, "trace");
                if found.len() > 1 {
                    eprintln!("rpctrace: {err}");
                }
                first_error.get_or_insert(err);
            }
        }
    }
    match (traced.is_empty(), first_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(traced),
    }
}

/// Where `program` is: as given if it has a slash (made absolute: the kernel starts it
/// from its own directory), else the first match on `$PATH`.
fn resolve(program: &str) -> Result<PathBuf> {
    if program.contains('/') {
        let p = Path::new(program);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()?.join(p)
        };
        if !abs.is_file() {
            bail!("{program}: no such file");
        }
        return Ok(abs);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|c| c.is_file())
        .ok_or_else(|| anyhow!("{program}: not found on $PATH"))
}

/// The environment handed to a traced command: ours, minus what the kernel sets for each
/// task, within the protocol's limits.
fn environment() -> Vec<String> {
    const BUDGET: usize = 48 * 1024;
    let mut used = 0;
    let mut env = Vec::new();
    for (k, v) in std::env::vars_os() {
        let (Some(k), Some(v)) = (k.to_str(), v.to_str()) else {
            continue;
        };
        if k.starts_with("HERD_TASK_") || k == "HERD_PORTS" {
            continue;
        }
        let entry = format!("{k}={v}");
        if entry.len() > MAX_STRING || env.len() >= MAX_ARGS || used + entry.len() > BUDGET {
            continue;
        }
        used += entry.len() + 4;
        env.push(entry);
    }
    env
}

/// Starts `command` as a new task traced to `port` before it runs.
pub fn spawn(
    task: &Task,
    port: &ReceiveRight,
    command: &[String],
    follow: bool,
) -> Result<TaskRef> {
    let (program, _) = command.split_first().context("no command given")?;
    let path = resolve(program)?;
    let label = path
        .file_name()
        .map_or_else(|| program.clone(), |n| n.to_string_lossy().into_owned());
    let call = PortCall::SpawnTraced {
        program: path.display().to_string(),
        args: command.to_vec(),
        env: environment(),
        rights: Vec::new(),
        tracer: port.name(),
        follow,
    };
    match task.call(call) {
        Ok(CallValue::Spawned { task, pid }) => Ok(TaskRef { task, pid, label }),
        Ok(other) => bail!("the kernel answered a spawn with {other:?}"),
        Err(KernError::NotPermitted) => bail!(
            "the kernel starts programs only for its own user or root; you are uid {}",
            my_uid()
        ),
        Err(e) => Err(anyhow!("starting {}: {e}", path.display())),
    }
}
