//! What the tmpfs tests share: a kernel in this process, `herd tmpfs` started through
//! fshelp's launcher as settrans would, roots for given users, and a small client lookup
//! that follows retries (as the runtime's will).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use herd_fshelp::{Launcher, Running};
use herd_interfaces::types::consts::retry::{FS_RETRY_MAGICAL, FS_RETRY_NORMAL, FS_RETRY_REAUTH};
use herd_interfaces::types::dirent;
use herd_interfaces::{fs, fsys, io};
use herd_kernel::KernelHandle;
use herd_runtime::{Errno, PortArg, SendRight, Task};

/// A deadline for anything that should happen at once.
pub const LONG: Duration = Duration::from_secs(20);

/// The uid and gid of the owner in permission tests, and of someone else.
pub const OWNER: u32 = 1000;
/// Someone else.
pub const OTHER: u32 = 2000;

/// A kernel in this process and a task attached to it.
pub fn kernel(label: &str) -> (KernelHandle, Task) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path: PathBuf = std::env::temp_dir().join(format!(
        "herd-tmpfs-{}-{}-{label}.sock",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let kernel = KernelHandle::start(&path).expect("kernel starts");
    let task = Task::attach(&path, label).expect("task attaches");
    (kernel, task)
}

/// The launcher the tests start translators with: this build's herd, quiet.
pub fn launcher() -> Launcher {
    Launcher::with_program(env!("CARGO_BIN_EXE_herd")).env(vec!["HERD_LOG=off".into()])
}

/// A tmpfs translator started by a test.
pub struct Tmpfs {
    pub task: Task,
    pub control: SendRight,
    pub pid: u32,
    pub kernel: KernelHandle,
}

/// Starts `herd tmpfs ARGS...` on no node.
pub fn start_tmpfs(label: &str, args: &[&str]) -> Tmpfs {
    let (kernel, task) = kernel(label);
    let mut argv = vec!["/hurd/tmpfs".to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let Running { control, pid, .. } = launcher()
        .start(&task, &argv, PortArg::Null)
        .expect("tmpfs starts");
    Tmpfs {
        task,
        control,
        pid,
        kernel,
    }
}

impl Tmpfs {
    /// The root for the user `uid` (group `uid`), opened with `flags`.
    pub fn root(&self, uid: u32, flags: u32) -> Result<SendRight, Errno> {
        root_of(&self.task, &self.control, uid, flags)
    }
}

/// `fsys_getroot` for the user `uid` (group `uid`).
pub fn root_of(task: &Task, control: &SendRight, uid: u32, flags: u32) -> Result<SendRight, Errno> {
    let (retry, name, port) =
        fsys::fsys_getroot(task, control, PortArg::Null, &[uid], &[uid], flags)?;
    assert_eq!((retry, name.as_str()), (FS_RETRY_NORMAL, ""));
    port.into_send().ok_or(Errno::EIO)
}

/// Looks `path` up from `start`, following retries as a client does (at most 32; an
/// absolute symlink restarts at `root`); REAUTH goes on at the port given (no auth yet).
pub fn resolve(
    task: &Task,
    root: &SendRight,
    start: &SendRight,
    path: &str,
    flags: u32,
    mode: u32,
) -> Result<SendRight, Errno> {
    let mut at = start.try_clone().map_err(Errno::from)?;
    let mut name = path.to_string();
    for _ in 0..32 {
        let (retry, rest, result) = fs::dir_lookup(task, &at, &name, flags, mode)?;
        match retry {
            FS_RETRY_NORMAL | FS_RETRY_REAUTH => {
                let next = result.into_send().ok_or(Errno::EIO)?;
                if retry == FS_RETRY_NORMAL && rest.is_empty() {
                    return Ok(next);
                }
                at = next;
                name = rest;
            }
            FS_RETRY_MAGICAL if rest.starts_with('/') => {
                at = root.try_clone().map_err(Errno::from)?;
                name = rest.trim_start_matches('/').to_string();
            }
            other => panic!("unexpected retry {other} {rest:?}"),
        }
    }
    Err(Errno::ELOOP)
}

/// The names in a directory, `.` and `..` left out, in order.
pub fn names(task: &Task, dir: &SendRight) -> Vec<String> {
    let mut out = Vec::new();
    let mut entry = 0;
    loop {
        let (data, n) = fs::dir_readdir(task, dir, entry, -1, 0).expect("readdir");
        if n == 0 {
            return out;
        }
        for d in dirent::decode(&data).expect("dirents") {
            if d.name != "." && d.name != ".." {
                out.push(d.name);
            }
        }
        entry += n;
    }
}

/// Reads a whole file from offset 0.
pub fn read_all(task: &Task, file: &SendRight) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let chunk = io::io_read(task, file, out.len() as i64, 1 << 20).expect("read");
        if chunk.is_empty() {
            return out;
        }
        out.extend(chunk);
    }
}

/// Linux pids of this process's children whose command line has `word` (translators
/// the in-process kernel spawned).
pub fn children_running(word: &str) -> Vec<u32> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().collect())
            .unwrap_or_default();
        if fields.first() == Some(&"Z") || fields.get(1) != Some(&me.as_str()) {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmd.split(|b| *b == 0).any(|w| w == word.as_bytes()) {
            out.push(pid);
        }
    }
    out
}

/// Kills a process and waits until it is gone (or a zombie).
pub fn kill_and_wait(pid: u32) {
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).expect("a pid"),
        rustix::process::Signal::KILL,
    )
    .expect("kill");
    let deadline = Instant::now() + LONG;
    let stat = format!("/proc/{pid}/stat");
    loop {
        match std::fs::read_to_string(&stat) {
            Err(_) => return,
            Ok(s)
                if s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z')) =>
            {
                return
            }
            Ok(_) => {}
        }
        assert!(Instant::now() < deadline, "{pid} did not die");
        std::thread::sleep(Duration::from_millis(2));
    }
}
