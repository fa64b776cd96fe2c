//! `herd ln` and `herd mv`: names for nodes in the herd namespace.

use anyhow::Result;
use clap::Args;

use super::{path_error, NodeArgs};

/// Arguments of `herd ln`.
#[derive(Args, Debug)]
pub struct LnArgs {
    /// Make a symbolic link holding TARGET (stored as the Hurd does: a node with the
    /// passive translator `/hurd/symlink TARGET`).
    #[arg(short, long)]
    symbolic: bool,
    /// What the new name stands for: a path (for -s, any text, resolved when followed).
    target: String,
    /// The new name.
    link: String,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd ln`.
pub fn ln(args: LnArgs) -> Result<()> {
    let ns = args.conn.connect("ln")?;
    if args.symbolic {
        return ns
            .symlink(args.target.as_bytes(), args.link.as_bytes())
            .map_err(|e| path_error(&args.link, e));
    }
    let file = ns
        .lookup(args.target.as_bytes(), 0, 0)
        .map_err(|e| path_error(&args.target, e))?;
    ns.link(&file, args.link.as_bytes())
        .map_err(|e| path_error(&args.link, e))
}

/// Arguments of `herd mv`.
#[derive(Args, Debug)]
pub struct MvArgs {
    /// The name to move.
    from: String,
    /// Its new name (replaced if it exists; both in one file system).
    to: String,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd mv`.
pub fn mv(args: MvArgs) -> Result<()> {
    let ns = args.conn.connect("mv")?;
    ns.rename(args.from.as_bytes(), args.to.as_bytes())
        .map_err(|e| path_error(&format!("{} -> {}", args.from, args.to), e))
}
