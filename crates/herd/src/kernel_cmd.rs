//! `herd kernel`: runs a node kernel in the foreground.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

/// Arguments of `herd kernel`.
#[derive(Args, Debug)]
pub struct KernelArgs {
    /// The socket tasks connect to (default: $HERD_KERNEL, else kernel.sock in the
    /// runtime directory).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Replace a socket file left by a kernel that is no longer running.
    #[arg(long)]
    force: bool,
}

/// Runs the kernel until killed.
pub fn run(args: KernelArgs) -> Result<()> {
    let socket = args.socket.unwrap_or_else(crate::paths::kernel_socket);
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the runtime directory {}", dir.display()))?;
    }
    if socket.exists() {
        if herd_channel::Channel::connect(&socket).is_ok() {
            bail!("a kernel is already running at {}", socket.display());
        }
        if !args.force {
            bail!(
                "{} exists but no kernel answers there; rerun with --force to replace it",
                socket.display()
            );
        }
    }
    eprintln!("herd kernel: listening on {}", socket.display());
    herd_kernel::serve(&socket).with_context(|| format!("serving {}", socket.display()))
}
