//! `herd settrans`, `herd showtrans`, `herd fsysopts`: the Hurd's translator tools.
//!
//! `settrans NODE CMD...` stores `CMD` as the node's passive translator (the default,
//! `-p`); `-a` starts `CMD` now (through fshelp's launcher, on the node as its realnode)
//! and attaches its control port as the active translator; with both, both. With no
//! command the chosen translators are cleared. `-g` makes the active translator go away
//! and clears it (the server sends it `fsys_goaway`; `-f` forces that with
//! `FSYS_GOAWAY_FORCE` when it is busy); without `-a` the passive record is cleared too
//! (`settrans -fg NODE` removes everything), `-ag` keeps it. The node is looked up with
//! `O_NOTRANS`, so the node itself is changed, not a translator on it.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use herd_fshelp::Launcher;
use herd_hurd::Namespace;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::open::{O_CREAT, O_NOTRANS};
use herd_interfaces::types::consts::trans::{FS_TRANS_EXCL, FS_TRANS_SET};
use herd_runtime::{Errno, PortArg, SendRight};

use super::{path_error, NodeArgs};

/// Arguments of `herd settrans`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    herd settrans /dev/null /hurd/null      (passive: started on first use)\n  \
    herd settrans -a /tmp /hurd/tmpfs       (active: started now)\n  \
    herd settrans -ap /dev/zero /hurd/zero  (both)\n  \
    herd settrans -fg /dev/null             (stop it and clear it)")]
pub struct SettransArgs {
    /// Start the translator now and make it the node's active translator.
    #[arg(short, long)]
    active: bool,
    /// Store the command as the node's passive translator (the default without -a).
    #[arg(short, long)]
    passive: bool,
    /// Make the node's active translator go away (and clear it).
    #[arg(short, long)]
    goaway: bool,
    /// Force the old active translator to go away even if it is in use.
    #[arg(short, long)]
    force: bool,
    /// Fail if the node already has a translator.
    #[arg(short = 'x', long)]
    exclusive: bool,
    /// Create NODE (an empty file) if it does not exist.
    #[arg(short, long)]
    create: bool,
    /// Seconds the translator has to start (with -a; at most a day).
    #[arg(short = 't', long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    start_timeout: u64,
    /// The node to set translators on.
    node: String,
    /// The translator command (`/hurd/NAME ARGS...` runs herd's NAME server); none
    /// clears.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<String>,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd settrans`.
pub fn settrans(args: SettransArgs) -> Result<()> {
    let ns = args.conn.connect("settrans")?;
    let node_path = args.node.as_str();
    let create = if args.create { O_CREAT } else { 0 };
    let open_node = || {
        ns.lookup(node_path.as_bytes(), O_NOTRANS | create, 0o666)
            .map_err(|e| path_error(node_path, e))
    };
    let node = open_node()?;
    let excl = if args.exclusive { FS_TRANS_EXCL } else { 0 };
    let passive = args.passive || !args.active;
    let goaway_flags = if args.force { FSYS_GOAWAY_FORCE } else { 0 };
    let (active_flags, active) = if args.active && !args.command.is_empty() {
        let control = start_active(&ns, &args, open_node()?)?;
        (FS_TRANS_SET | excl, Some(control))
    } else if args.active || args.goaway {
        (FS_TRANS_SET, None)
    } else {
        (0, None)
    };
    let passive_flags = if passive { FS_TRANS_SET | excl } else { 0 };
    let record = if passive {
        argz::join(&args.command)
    } else {
        Vec::new()
    };
    let control = active.as_ref().map(|c| c.name());
    let result = ns.set_translator(
        &node,
        passive_flags,
        active_flags,
        goaway_flags,
        &record,
        control.map_or(PortArg::Null, PortArg::CopySend),
    );
    if let Err(e) = result {
        // The translator we started is attached to nothing: send it away.
        if let Some(control) = &active {
            let _ = ns.fsys_goaway(control, FSYS_GOAWAY_FORCE);
        }
        return Err(path_error(node_path, e));
    }
    Ok(())
}

/// Starts the command of `args` on `realnode` and answers its control port.
fn start_active(ns: &Namespace, args: &SettransArgs, realnode: SendRight) -> Result<SendRight> {
    let launcher = Launcher::current_exe()
        .context("finding the herd binary")?
        .timeout(Duration::from_secs(args.start_timeout));
    let running = launcher
        .start(ns.task(), &args.command, PortArg::MoveSend(realnode))
        .map_err(|e| {
            anyhow!(
                "{}: starting `{}`: {e} ({})",
                args.node,
                args.command.join(" "),
                herd_hurd::errno::describe(e.errno())
            )
        })?;
    tracing::debug!(pid = running.pid, "active translator started");
    Ok(running.control)
}

/// Arguments of `herd showtrans`.
#[derive(Args, Debug)]
pub struct ShowtransArgs {
    /// The node whose passive translator to print.
    node: String,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd showtrans`: prints the passive translator's words separated by spaces
/// (nothing for a node without one).
pub fn showtrans(args: ShowtransArgs) -> Result<()> {
    let ns = args.conn.connect("showtrans")?;
    let fail = |e| path_error(&args.node, e);
    let node = ns
        .lookup(args.node.as_bytes(), O_NOTRANS, 0)
        .map_err(fail)?;
    // A node without a passive translator answers EINVAL, as on the Hurd.
    let words = match ns.get_translator(&node) {
        Err(Errno::EINVAL) => Vec::new(),
        other => other.map_err(fail)?,
    };
    if !words.is_empty() {
        println!("{}", words.join(" "));
    }
    Ok(())
}

/// Arguments of `herd fsysopts`.
#[derive(Args, Debug)]
pub struct FsysoptsArgs {
    /// A node of the file system (a translator's root, or any node it serves).
    node: String,
    /// Options to set (none: print the current ones).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "OPTIONS"
    )]
    options: Vec<String>,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd fsysopts`: prints the file system's name and options, or sets options
/// through its control port (its owner only).
pub fn fsysopts(args: FsysoptsArgs) -> Result<()> {
    let ns = args.conn.connect("fsysopts")?;
    let fail = |e| path_error(&args.node, e);
    let node = ns.lookup(args.node.as_bytes(), 0, 0).map_err(fail)?;
    if args.options.is_empty() {
        println!("{}", ns.fs_options(&node).map_err(fail)?.join(" "));
        return Ok(());
    }
    let control = ns.getcontrol(&node).map_err(fail)?;
    ns.fsys_set_options(&control, &args.options, false)
        .map_err(fail)
}
