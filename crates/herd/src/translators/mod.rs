//! Translators: one-node ones served by trivfs, `null`, `zero` and `random` (character
//! devices), `fortune` (a file whose contents are new on each open), `symlink` and
//! `firmlink` (links); the file systems `tmpfs` and `hostfs`; and the directories
//! `hostmux` and `usermux` (a translator per host or user name, [`mux`]). Each runs as a
//! kernel task started by whoever attaches it (settrans, fshelp, a test): it joins the
//! kernel from its environment, sends its control port to its bootstrap port (its first
//! initial port) with `fsys_startup`, and serves until `fsys_goaway` (docs/namespace.md).

pub mod firmlink;
pub mod fortune;
pub mod hostfs;
pub mod hostmux;
pub mod mux;
pub mod null;
pub mod random;
pub mod symlink;
pub mod tmpfs;
pub mod usermux;
pub mod zero;

use anyhow::{Context, Result};
use clap::Args;
use herd_runtime::server::ServeError;
use herd_runtime::{KernError, ServeOptions, Task};
use herd_trivfs::{Attrs, Node, Trivfs};

/// Options every one-node translator takes.
#[derive(Args, Debug, Clone, Copy)]
pub struct NodeArgs {
    /// Permission bits (octal) when the translator sits on no node of its own; on a node,
    /// the node's owner, group and permissions apply.
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<u32>,
}

/// Parses octal permission bits such as `644`.
pub(crate) fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("`{text}` is not octal permission bits (0 to 7777)"))
}

/// Runs `node` as a translator until it is asked to go away; `mode` is used when
/// `args.mode` is not given.
pub fn run<N: Node>(node: N, args: NodeArgs, mode: u32) -> Result<()> {
    let name = node.name().to_string();
    let task =
        Task::from_env(&name).context("joining the kernel (start translators with settrans)")?;
    let attrs = Attrs {
        uid: rustix::process::getuid().as_raw(),
        gid: rustix::process::getgid().as_raw(),
        mode: args.mode.unwrap_or(mode),
    };
    let server = Trivfs::startup(&task, node, attrs)
        .with_context(|| format!("starting {name} as a translator"))?;
    tracing::info!(translator = %name, task = task.id(), "serving");
    let opts = ServeOptions {
        thread_name: name.clone(),
        ..ServeOptions::default()
    };
    match server.serve(opts) {
        Ok(()) => tracing::info!(translator = %name, "gone away"),
        // The node kernel went away: so do its translators.
        Err(ServeError::Kern(KernError::InvalidTask)) => {
            tracing::info!(translator = %name, "the kernel is gone")
        }
        Err(e) => return Err(e).with_context(|| format!("{name} stopped serving")),
    }
    Ok(())
}
