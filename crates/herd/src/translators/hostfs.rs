//! `herd hostfs HOSTDIR [--read-only]`: a directory of the host served into the
//! namespace (herd-hostfs), so real files are reachable. Started like any translator
//! (settrans, a passive record `/hurd/hostfs DIR`): it opens the directory, sends its
//! control port to its bootstrap port and serves until `fsys_goaway`. It runs as its
//! owner, and the host checks every access as that user too.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use herd_hostfs::{Hostfs, Options};
use herd_runtime::server::ServeError;
use herd_runtime::{KernError, ServeOptions, Task};

/// Arguments of `herd hostfs`.
#[derive(Args, Debug)]
pub struct HostfsArgs {
    /// The host directory to serve (nothing outside it is reachable through the server).
    hostdir: PathBuf,
    /// Refuse every change (`EROFS`).
    #[arg(long)]
    read_only: bool,
}

/// Runs `herd hostfs`.
pub fn run(args: HostfsArgs) -> Result<()> {
    let task =
        Task::from_env("hostfs").context("joining the kernel (start translators with settrans)")?;
    let options = Options {
        dir: args.hostdir.clone(),
        read_only: args.read_only,
    };
    let server = Hostfs::startup(&task, options)
        .with_context(|| format!("starting hostfs on {}", args.hostdir.display()))?;
    tracing::info!(task = task.id(), dir = %args.hostdir.display(), "hostfs serving");
    let opts = ServeOptions {
        thread_name: "hostfs".into(),
        ..ServeOptions::default()
    };
    match server.serve(opts) {
        Ok(()) => tracing::info!("hostfs gone away"),
        Err(ServeError::Kern(KernError::InvalidTask)) => tracing::info!("the kernel is gone"),
        Err(e) => return Err(e).context("hostfs stopped serving"),
    }
    Ok(())
}
