//! `herd tmpfs`: an in-memory POSIX file system as a translator (herd-tmpfs-server).
//! Started like any translator (settrans, a passive record `/hurd/tmpfs`, fshelp, a
//! test): it sends its control port to its bootstrap port and serves until `fsys_goaway`.
//! Translators on its nodes are started with this same binary.

use anyhow::{Context, Result};
use clap::Args;
use herd_fshelp::Launcher;
use herd_runtime::server::ServeError;
use herd_runtime::{KernError, ServeOptions, Task};
use herd_tmpfs_server::{parse_size, Options, Tmpfs};

/// Arguments of `herd tmpfs`.
#[derive(Args, Debug)]
pub struct TmpfsArgs {
    /// The size limit: bytes, or with a `k`, `M` or `G` suffix (default: no limit).
    #[arg(long, value_parser = parse_size_arg)]
    size: Option<u64>,
    /// The root's permission bits (octal) when the file system sits on no node of its own.
    #[arg(long, value_parser = super::parse_mode)]
    mode: Option<u32>,
}

fn parse_size_arg(text: &str) -> Result<u64, String> {
    parse_size(text).ok_or_else(|| format!("`{text}` is not a size (such as 1048576, 64k, 10M)"))
}

/// Runs `herd tmpfs`.
pub fn run(args: TmpfsArgs) -> Result<()> {
    let task =
        Task::from_env("tmpfs").context("joining the kernel (start translators with settrans)")?;
    let options = Options {
        size: args.size.filter(|s| *s > 0),
        mode: args.mode,
        owner: Some((
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw(),
        )),
    };
    let launcher = Launcher::current_exe().context("finding the herd binary")?;
    let server =
        Tmpfs::startup(&task, &options, launcher).context("starting tmpfs as a translator")?;
    tracing::info!(task = task.id(), "tmpfs serving");
    let opts = ServeOptions {
        thread_name: "tmpfs".into(),
        ..ServeOptions::default()
    };
    match server.serve(opts) {
        Ok(()) => tracing::info!("tmpfs gone away"),
        Err(ServeError::Kern(KernError::InvalidTask)) => tracing::info!("the kernel is gone"),
        Err(e) => return Err(e).context("tmpfs stopped serving"),
    }
    Ok(())
}
