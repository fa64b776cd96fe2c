//! `herd bench fs`: the namespace through the runtime (no FUSE) against the host's
//! `/dev/shm` through Linux system calls, both measured in the same run.
//!
//! herd's side is a node set up in this process: a kernel ([`KernelHandle`]), `herd tmpfs`
//! as the root file system started through fshelp's [`Launcher`] (as `herd boot` does),
//! and three more `herd tmpfs` set as passive translators at three depths of one path,
//! started by the first lookup that crosses them. The client is this process, using
//! [`Namespace`] as every herd command does. The host's side is a directory under
//! `/dev/shm` with the same names, all plain directories.
//!
//! Work, interleaved round by round (the side that goes first alternates), so a change in
//! the machine's load falls on both sides alike:
//!
//! - **lookup**: open (and close) a 10-component path that crosses 3 translators on herd
//!   (`d1/d2/t1/d3/t2/d4/t3/d5/d6/file`, `t1`..`t3` each a tmpfs), and a 10-component path
//!   inside the root file system alone, to show what the crossings cost.
//! - **files**: create 10,000 files in one directory, stat each, unlink each (each phase
//!   timed; one file's create+stat+unlink is one op of the combined figure).
//! - **io**: write a 1 MiB file from the start in `IO_MAX` chunks, then read it back in
//!   `IO_MAX` chunks (the open is not timed; both sides use the same chunks).
//!
//! Everything is cleaned up at the end: the root file system is sent away (it sends its
//! translators away first), the kernel stops, any translator process still running is
//! killed by its pid, and the scratch directories are removed.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use herd_fshelp::Launcher;
use herd_hurd::errno::describe;
use herd_hurd::Namespace;
use herd_interfaces::fsys;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::open::{O_CREAT, O_NOTRANS, O_READ, O_TRUNC, O_WRITE};
use herd_interfaces::types::consts::trans::FS_TRANS_SET;
use herd_interfaces::types::consts::IO_MAX;
use herd_kernel::KernelHandle;
use herd_runtime::{Errno, PortArg, SendRight, Task};

use super::report::{Better, Figure, Report};
use super::stats::rate;
use super::BenchArgs;

/// The path crossing three translators: `t1`, `t2` and `t3` are tmpfs roots.
const DEEP: &str = "d1/d2/t1/d3/t2/d4/t3/d5/d6/file";
/// The directories of [`DEEP`] that get a translator.
const TRANSLATED: [&str; 3] = ["d1/d2/t1", "d1/d2/t1/d3/t2", "d1/d2/t1/d3/t2/d4/t3"];
/// A 10-component path inside one file system.
const PLAIN: &str = "p1/p2/p3/p4/p5/p6/p7/p8/p9/file";
/// The directory the files phase works in.
const FILES: &str = "files";
/// The file the io phase writes and reads.
const IO_FILE: &str = "io.bin";
/// Bytes written and read per transfer.
const IO_BYTES: usize = 1 << 20;
/// The chunk size of every read and write (herd-hurd's).
const CHUNK: usize = IO_MAX as usize;

/// How much work one round gives each side.
struct Work {
    rounds: u32,
    lookups: u32,
    files: u32,
    transfers: u32,
}

/// One side under test: the same operations on herd's namespace or on the host's.
trait Side {
    /// Opens `path` (relative to the side's root) for reading and closes it again.
    fn open_close(&self, path: &str) -> Result<()>;
    /// Creates the file `name` in the files directory (and closes it).
    fn create(&self, name: &str) -> Result<()>;
    /// The status of `name` in the files directory.
    fn stat(&self, name: &str) -> Result<()>;
    /// Removes `name` from the files directory.
    fn unlink(&self, name: &str) -> Result<()>;
    /// Writes `data` over the io file from the start; only the writes are timed.
    fn write(&self, data: &[u8]) -> Result<Duration>;
    /// Reads the io file whole; only the reads are timed.
    fn read(&self) -> Result<(Vec<u8>, Duration)>;
}

/// A host directory (or socket directory) removed, with everything in it, when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(parent: &Path) -> Result<Scratch> {
        let dir = parent.join(format!("herd-bench-fs-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing a stale {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The host's `/dev/shm`, through `std::fs`.
struct Host {
    dir: Scratch,
}

impl Host {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.0.join(rel)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.0.join(FILES).join(name)
    }

    /// `/dev/shm/herd-bench-fs-PID` with the same tree as herd's (plain directories).
    fn start() -> Result<Host> {
        let host = Host {
            dir: Scratch::new(Path::new("/dev/shm")).context("the /dev/shm baseline")?,
        };
        for path in [DEEP, PLAIN] {
            let p = host.path(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&p, b"herd").with_context(|| format!("writing {}", p.display()))?;
        }
        std::fs::create_dir(host.path(FILES)).context("creating the files directory")?;
        Ok(host)
    }
}

impl Side for Host {
    fn open_close(&self, path: &str) -> Result<()> {
        File::open(self.path(path)).with_context(|| format!("host: opening {path}"))?;
        Ok(())
    }
    fn create(&self, name: &str) -> Result<()> {
        File::create(self.file(name)).with_context(|| format!("host: creating {name}"))?;
        Ok(())
    }
    fn stat(&self, name: &str) -> Result<()> {
        std::fs::metadata(self.file(name)).with_context(|| format!("host: stat {name}"))?;
        Ok(())
    }
    fn unlink(&self, name: &str) -> Result<()> {
        std::fs::remove_file(self.file(name)).with_context(|| format!("host: unlink {name}"))
    }
    fn write(&self, data: &[u8]) -> Result<Duration> {
        let mut f = File::create(self.path(IO_FILE)).context("host: creating the io file")?;
        let start = Instant::now();
        for chunk in data.chunks(CHUNK) {
            f.write_all(chunk).context("host: writing the io file")?;
        }
        Ok(start.elapsed())
    }
    fn read(&self) -> Result<(Vec<u8>, Duration)> {
        let mut f = File::open(self.path(IO_FILE)).context("host: opening the io file")?;
        let mut buf = vec![0u8; CHUNK];
        let mut out = Vec::new();
        let start = Instant::now();
        loop {
            let n = f.read(&mut buf).context("host: reading the io file")?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        Ok((out, start.elapsed()))
    }
}

/// An errno from herd's namespace as an error naming what failed.
fn ns_err(what: impl std::fmt::Display) -> impl FnOnce(Errno) -> anyhow::Error {
    move |e| anyhow::anyhow!("herd: {what}: {}", describe(e))
}

/// herd's side: a kernel in this process, tmpfs as the root and three tmpfs translators
/// on the deep path, all through [`Namespace`].
struct Herd {
    /// The client's view of the tree (dropped before the node is halted).
    ns: Option<Namespace>,
    task: Task,
    /// The root file system's control port.
    control: Option<SendRight>,
    kernel: Option<KernelHandle>,
    /// The kernel socket's directory (removed last).
    _dir: Scratch,
}

impl Herd {
    fn ns(&self) -> Result<&Namespace> {
        self.ns.as_ref().context("the node was halted")
    }

    fn start() -> Result<Herd> {
        let dir = Scratch::new(&std::env::temp_dir()).context("the node's directory")?;
        let socket = dir.0.join("kernel.sock");
        let kernel = KernelHandle::start(&socket)
            .with_context(|| format!("starting a kernel at {}", socket.display()))?;
        let task = Task::attach(&socket, "bench-fs").context("attaching to the kernel")?;
        let mut herd = Herd {
            ns: None,
            task,
            control: None,
            kernel: Some(kernel),
            _dir: dir,
        };
        let launcher = Launcher::current_exe()
            .context("finding the herd binary")?
            .env(vec!["HERD_LOG=off".into()]);
        let running = launcher
            .start(&herd.task, &["/hurd/tmpfs".to_string()], PortArg::Null)
            .context("starting the root file system (herd tmpfs)")?;
        herd.control = Some(running.control);
        let control = herd.control.as_ref().context("no control port")?;
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        let (_, _, root) =
            fsys::fsys_getroot(&herd.task, control, PortArg::Null, &[uid], &[gid], O_READ)
                .map_err(ns_err("fsys_getroot on the root file system"))?;
        let root = root
            .into_send()
            .context("the root file system gave no root")?;
        herd.ns = Some(Namespace::new(herd.task.clone(), root).map_err(ns_err("the root"))?);
        herd.tree().context("setting up herd's tree")?;
        Ok(herd)
    }

    fn mkdir(&self, path: &str) -> Result<()> {
        self.ns()?
            .mkdir(abs(path).as_bytes(), 0o755)
            .map_err(ns_err(format!("mkdir {path}")))
    }

    /// The deep path with its three passive tmpfs translators (each started by the first
    /// lookup that crosses it), the plain path, and the files directory.
    fn tree(&self) -> Result<()> {
        let ns = self.ns()?;
        for dir in parents(DEEP) {
            self.mkdir(dir)?;
            if TRANSLATED.contains(&dir) {
                let node = ns
                    .lookup(abs(dir).as_bytes(), O_NOTRANS, 0)
                    .map_err(ns_err(format!("{dir} (the node)")))?;
                let cmd = argz::join(&["/hurd/tmpfs".to_string()]);
                ns.set_translator(&node, FS_TRANS_SET, 0, 0, &cmd, PortArg::Null)
                    .map_err(ns_err(format!("settrans {dir} /hurd/tmpfs")))?;
            }
        }
        for dir in parents(PLAIN) {
            self.mkdir(dir)?;
        }
        for path in [DEEP, PLAIN] {
            let f = ns
                .open(abs(path).as_bytes(), O_CREAT | O_WRITE, 0o644)
                .map_err(ns_err(format!("creating {path}")))?;
            ns.write_all(&f, b"herd")
                .map_err(ns_err(format!("writing {path}")))?;
        }
        self.mkdir(FILES)?;
        // Three translators are crossed: four file systems along the deep path.
        let mut fsids = vec![ns.stat(b"/").map_err(ns_err("stat /"))?.fsid];
        for t in TRANSLATED {
            fsids.push(ns.stat(abs(t).as_bytes()).map_err(ns_err(t))?.fsid);
        }
        fsids.sort_unstable();
        fsids.dedup();
        if fsids.len() != 4 {
            bail!("the deep path crosses {} file systems, not 4", fsids.len());
        }
        Ok(())
    }

    /// Sends the root file system away (its translators go first), stops the kernel and
    /// waits for (or kills) every translator process it started.
    fn halt(&mut self) -> Result<()> {
        self.ns = None;
        let mut outcome = Ok(());
        if let Some(control) = self.control.take() {
            let gone = fsys::fsys_goaway(&self.task, &control, 0)
                .or_else(|_| fsys::fsys_goaway(&self.task, &control, FSYS_GOAWAY_FORCE));
            if let Err(e) = gone {
                outcome = Err(anyhow::anyhow!(
                    "the root file system did not go away: {}",
                    describe(e)
                ));
            }
        }
        drop(self.kernel.take());
        reap_children(Duration::from_secs(5));
        outcome
    }
}

impl Drop for Herd {
    fn drop(&mut self) {
        if self.kernel.is_some() {
            let _ = self.halt();
        }
    }
}

/// The directories above `path`'s last component, outermost first (`a`, `a/b` for
/// `a/b/c`).
fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// `path` from the namespace's root.
fn abs(path: &str) -> String {
    format!("/{path}")
}

/// The io file's path on herd.
fn io_path() -> String {
    abs(IO_FILE)
}

impl Side for Herd {
    fn open_close(&self, path: &str) -> Result<()> {
        self.ns()?
            .open(abs(path).as_bytes(), O_READ, 0)
            .map_err(ns_err(format!("opening {path}")))?;
        Ok(())
    }
    fn create(&self, name: &str) -> Result<()> {
        self.ns()?
            .open(
                format!("/{FILES}/{name}").as_bytes(),
                O_CREAT | O_WRITE | O_TRUNC,
                0o644,
            )
            .map_err(ns_err(format!("creating {name}")))?;
        Ok(())
    }
    fn stat(&self, name: &str) -> Result<()> {
        self.ns()?
            .stat(format!("/{FILES}/{name}").as_bytes())
            .map_err(ns_err(format!("stat {name}")))?;
        Ok(())
    }
    fn unlink(&self, name: &str) -> Result<()> {
        self.ns()?
            .unlink(format!("/{FILES}/{name}").as_bytes())
            .map_err(ns_err(format!("unlink {name}")))
    }
    fn write(&self, data: &[u8]) -> Result<Duration> {
        let ns = self.ns()?;
        let f = ns
            .open(io_path().as_bytes(), O_CREAT | O_WRITE | O_TRUNC, 0o644)
            .map_err(ns_err("creating the io file"))?;
        let start = Instant::now();
        ns.write_all(&f, data)
            .map_err(ns_err("writing the io file"))?;
        Ok(start.elapsed())
    }
    fn read(&self) -> Result<(Vec<u8>, Duration)> {
        let ns = self.ns()?;
        let f = ns
            .open(io_path().as_bytes(), O_READ, 0)
            .map_err(ns_err("opening the io file"))?;
        let start = Instant::now();
        let data = ns.read_all(&f).map_err(ns_err("reading the io file"))?;
        Ok((data, start.elapsed()))
    }
}

/// The pids of this process's children (every thread's), from `/proc`.
fn children() -> Vec<i32> {
    let mut pids = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return pids;
    };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            pids.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    pids
}

/// Whether `pid` is still running (not gone, not a zombie).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next())
        })
        .flatten()
        .is_some_and(|state| state != 'Z' && state != 'X')
}

/// Waits up to `wait` for the translator processes the kernel started (our children) to
/// end after it stopped, then kills any that still run, by pid.
fn reap_children(wait: Duration) {
    let deadline = Instant::now() + wait;
    loop {
        let running: Vec<i32> = children().into_iter().filter(|p| alive(*p)).collect();
        if running.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            for pid in running {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Total time each side spent in each phase, over all rounds.
#[derive(Default, Clone, Copy)]
struct Totals {
    lookup_deep: Duration,
    lookup_plain: Duration,
    create: Duration,
    stat: Duration,
    unlink: Duration,
    write: Duration,
    read: Duration,
}

fn timed(mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

/// One round of every phase on one side, added to `t`.
fn round(
    side: &dyn Side,
    work: &Work,
    names: &[String],
    data: &[u8],
    t: &mut Totals,
) -> Result<()> {
    t.lookup_deep += timed(|| (0..work.lookups).try_for_each(|_| side.open_close(DEEP)))?;
    t.lookup_plain += timed(|| (0..work.lookups).try_for_each(|_| side.open_close(PLAIN)))?;
    t.create += timed(|| names.iter().try_for_each(|n| side.create(n)))?;
    t.stat += timed(|| names.iter().try_for_each(|n| side.stat(n)))?;
    t.unlink += timed(|| names.iter().try_for_each(|n| side.unlink(n)))?;
    for _ in 0..work.transfers {
        t.write += side.write(data)?;
        let (back, took) = side.read()?;
        if back.len() != data.len() || back[..64] != data[..64] {
            bail!(
                "read back {} bytes, not the {} written",
                back.len(),
                data.len()
            );
        }
        t.read += took;
    }
    Ok(())
}

/// Runs every round on both sides, alternating which goes first.
fn measure(sides: [&dyn Side; 2], work: &Work) -> Result<[Totals; 2]> {
    let names: Vec<String> = (0..work.files).map(|i| format!("f{i:05}")).collect();
    let data: Vec<u8> = (0..IO_BYTES).map(|i| (i * 7 % 251) as u8).collect();
    // Warm up: every path once, a few files, one transfer.
    let warm = Work {
        rounds: 1,
        lookups: 20,
        files: 20,
        transfers: 1,
    };
    for side in sides {
        round(
            side,
            &warm,
            &names[..names.len().min(20)],
            &data,
            &mut Totals::default(),
        )?;
    }
    let mut totals = [Totals::default(); 2];
    for r in 0..work.rounds {
        let order = if r % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            round(sides[i], work, &names, &data, &mut totals[i])
                .with_context(|| format!("round {}", r + 1))?;
        }
    }
    Ok(totals)
}

/// Runs the whole benchmark.
pub fn run(args: &BenchArgs) -> Result<Report> {
    let work = if args.quick {
        Work {
            rounds: 2,
            lookups: 100,
            files: 200,
            transfers: 2,
        }
    } else {
        Work {
            rounds: 5,
            lookups: 2000,
            files: 10_000,
            transfers: 20,
        }
    };
    let host = Host::start()?;
    let mut herd = Herd::start().context("herd's node")?;
    let measured = measure([&herd, &host], &work);
    let halted = herd.halt();
    drop(host);
    let [h, b] = measured?;
    halted?;
    Ok(report(&work, &h, &b))
}

/// One figure: its key, unit, how many operations, and which phase's time.
type Row = (&'static str, &'static str, u64, fn(&Totals) -> Duration);

/// The figures from both sides' totals: herd's rates beside /dev/shm's.
fn report(work: &Work, h: &Totals, b: &Totals) -> Report {
    let lookups = work.lookups as u64 * work.rounds as u64;
    let files = work.files as u64 * work.rounds as u64;
    let mib = (IO_BYTES as u64 >> 20) * work.transfers as u64 * work.rounds as u64;
    let mut r = Report {
        name: "fs".into(),
        ..Default::default()
    };
    let rows: [Row; 8] = [
        ("lookup_10c_3t_per_s", "lookups/s", lookups, |t| {
            t.lookup_deep
        }),
        ("lookup_10c_0t_per_s", "lookups/s", lookups, |t| {
            t.lookup_plain
        }),
        ("create_per_s", "calls/s", files, |t| t.create),
        ("stat_per_s", "calls/s", files, |t| t.stat),
        ("unlink_per_s", "calls/s", files, |t| t.unlink),
        ("create_stat_unlink_files_per_s", "files/s", files, |t| {
            t.create + t.stat + t.unlink
        }),
        ("write_1mib_mib_per_s", "MiB/s", mib, |t| t.write),
        ("read_1mib_mib_per_s", "MiB/s", mib, |t| t.read),
    ];
    for (key, unit, count, took) in rows {
        r.figures.push(Figure {
            key: key.into(),
            unit,
            value: rate(count, took(h)),
            baseline: "dev_shm",
            baseline_value: Some(rate(count, took(b))),
            better: Better::Higher,
        });
    }
    let headline = r
        .figures
        .first()
        .and_then(Figure::ratio)
        .unwrap_or_default();
    r.headline
        .push(("lookup_3t_ratio_dev_shm".into(), headline));
    r.notes.push(format!(
        "{} rounds interleaving herd and /dev/shm (the first side alternates); per round: {} opens of each 10-component path ({DEEP} crosses 3 tmpfs translators on herd, {PLAIN} none), {} files created, then stat, then unlinked in one directory, {} transfers of 1 MiB written then read in {CHUNK}-byte chunks",
        work.rounds, work.lookups, work.files, work.transfers
    ));
    r.notes.push(
        "herd: kernel in this process, herd tmpfs root and translators as separate tasks, this process the client through herd-hurd's Namespace; dev_shm: the same paths and calls through std::fs"
            .into(),
    );
    r
}
