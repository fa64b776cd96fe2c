//! The namespace commands: translators (`settrans`, `showtrans`, `fsysopts`) and plain
//! file commands for use without FUSE (`ls`, `cat`, `mkdir`, `rm`, `put`, `get`, `stat`,
//! `ln`, `mv`).
//!
//! Each attaches to the node's kernel (`--socket`, `--runtime DIR`, `$HERD_KERNEL`,
//! `$HERD_RUNTIME`), takes the root directory the node publishes as its special port
//! `root`, and works through herd-hurd's lookup. Paths are herd-namespace paths; a
//! relative path starts at the root too (a command has no current directory of its own).
//! An error names the path and the errno: `herd: /a/b: ENOENT (No such file or
//! directory)`; the exit status is then 1.

mod dirs;
mod files;
mod links;
mod trans;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use herd_hurd::errno::describe;
use herd_hurd::{Namespace, Options};
use herd_runtime::{Errno, KernError, Task};

/// The namespace subcommands (flattened into `herd`'s own).
#[derive(Subcommand, Debug)]
pub enum FsCommand {
    /// Set a node's translator: passive (the default: a command line stored on the node,
    /// started on first use) and/or active (-a: started now).
    Settrans(trans::SettransArgs),
    /// Print a node's passive translator as a command line.
    Showtrans(trans::ShowtransArgs),
    /// Print (or, with OPTIONS, change) the options of the file system a node is in.
    Fsysopts(trans::FsysoptsArgs),
    /// List a directory (or name a file).
    Ls(dirs::LsArgs),
    /// Print files' contents.
    Cat(files::CatArgs),
    /// Make directories.
    Mkdir(dirs::MkdirArgs),
    /// Remove files (and, with -r, directories and what they hold).
    Rm(dirs::RmArgs),
    /// Copy a host file into the herd namespace.
    Put(files::PutArgs),
    /// Copy a file from the herd namespace to the host.
    Get(files::GetArgs),
    /// Print the status of files.
    Stat(files::StatArgs),
    /// Make a new name for a node (-s: a symbolic link).
    Ln(links::LnArgs),
    /// Rename a node.
    Mv(links::MvArgs),
}

/// Runs a namespace subcommand.
pub fn run(command: FsCommand) -> Result<()> {
    match command {
        FsCommand::Settrans(a) => trans::settrans(a),
        FsCommand::Showtrans(a) => trans::showtrans(a),
        FsCommand::Fsysopts(a) => trans::fsysopts(a),
        FsCommand::Ls(a) => dirs::ls(a),
        FsCommand::Cat(a) => files::cat(a),
        FsCommand::Mkdir(a) => dirs::mkdir(a),
        FsCommand::Rm(a) => dirs::rm(a),
        FsCommand::Put(a) => files::put(a),
        FsCommand::Get(a) => files::get(a),
        FsCommand::Stat(a) => files::stat(a),
        FsCommand::Ln(a) => links::ln(a),
        FsCommand::Mv(a) => links::mv(a),
    }
}

/// How a command finds the node: options every namespace command takes.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// The kernel socket (default: $HERD_KERNEL, else kernel.sock in the runtime
    /// directory).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// The node's runtime directory, whose kernel.sock is used (default: $HERD_RUNTIME).
    #[arg(long, value_name = "DIR", conflicts_with = "socket")]
    runtime: Option<PathBuf>,
    /// Seconds one call to a server may take before the command gives up with ETIMEDOUT.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = parse_timeout)]
    timeout: f64,
}

/// A timeout in seconds: positive and finite.
fn parse_timeout(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t > 0.0 && *t < 1e9)
        .ok_or_else(|| format!("`{text}` is not a number of seconds above 0"))
}

impl NodeArgs {
    /// Attaches to the node's kernel and takes its root directory.
    pub fn connect(&self, label: &str) -> Result<Namespace> {
        let socket = crate::paths::chosen_socket(self.socket.as_deref(), self.runtime.as_deref());
        let task = Task::attach(&socket, label)
            .with_context(|| format!("connecting to the kernel at {}", socket.display()))?;
        let root = task.special_port("root").map_err(|e| match e {
            KernError::InvalidName => anyhow!(
                "the node at {} publishes no root file system (special port `root`; \
                 `herd boot` publishes one)",
                socket.display()
            ),
            KernError::SendInvalidDest => anyhow!(
                "the root file system published by the node at {} has died",
                socket.display()
            ),
            e => anyhow!(
                "asking the kernel at {} for the root: {e}",
                socket.display()
            ),
        })?;
        let options = Options {
            timeout: Some(Duration::from_secs_f64(self.timeout)),
            ..Options::default()
        };
        Namespace::new(task, root)
            .map(|ns| ns.with_options(options))
            .map_err(|e| anyhow!("holding the root: {}", describe(e)))
    }
}

/// The error for an operation on `path` that a server refused.
pub fn path_error(path: &str, e: Errno) -> anyhow::Error {
    anyhow!("{path}: {}", describe(e))
}

/// Runs `each` on every path, reporting failures as they come (`herd: PATH: ERROR`) and
/// going on; fails at the end if any did. A single path's error is returned as is.
pub fn for_each_path(paths: &[String], mut each: impl FnMut(&str) -> Result<()>) -> Result<()> {
    if let [only] = paths {
        return each(only);
    }
    let mut failed = 0;
    for path in paths {
        if let Err(e) = each(path) {
            let _ = std::io::stdout().flush();
            eprintln!("herd: {e:#}");
            failed += 1;
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(anyhow!("{n} of {} paths failed", paths.len())),
    }
}

/// Parses octal permission bits such as `755`.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("`{text}` is not octal permission bits (0 to 7777)"))
}

/// `dir` and `name` joined with one slash.
pub fn child(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}
