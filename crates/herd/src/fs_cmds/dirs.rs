//! `herd ls`, `herd mkdir`, `herd rm`: directories in the herd namespace.

use anyhow::{anyhow, Result};
use clap::Args;
use herd_hurd::Namespace;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFMT};
use herd_interfaces::types::consts::open::{O_NOTRANS, O_READ};
use herd_interfaces::types::Stat;
use herd_runtime::Errno;

use super::files::{mode_string, time_string};
use super::{child, for_each_path, parse_mode, path_error, NodeArgs};

/// The deepest `rm -r` goes (a deeper tree is refused, not a stack overflow).
const MAX_DEPTH: usize = 256;

/// Arguments of `herd ls`.
#[derive(Args, Debug)]
pub struct LsArgs {
    /// Long listing: type and permissions, links, owner, group, size, modification time.
    #[arg(short, long)]
    long: bool,
    /// Show `.` and `..` too.
    #[arg(short, long)]
    all: bool,
    /// What to list (default: the root).
    #[arg(value_name = "PATH", default_value = "/")]
    paths: Vec<String>,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd ls`: a directory's names sorted, one per line; a file's own name.
pub fn ls(args: LsArgs) -> Result<()> {
    let ns = args.conn.connect("ls")?;
    let several = args.paths.len() > 1;
    for_each_path(&args.paths, |path| {
        let fail = |e| path_error(path, e);
        let st = ns.stat(path.as_bytes()).map_err(fail)?;
        if st.mode & S_IFMT != S_IFDIR {
            println!("{}", line(&args, &st, path));
            return Ok(());
        }
        let mut entries = ns.list(path.as_bytes()).map_err(fail)?;
        entries.retain(|e| args.all || (e.name != "." && e.name != ".."));
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        if several {
            println!("{path}:");
        }
        for entry in entries {
            if !args.long {
                println!("{}", entry.name);
                continue;
            }
            // The entry itself: a translator or symlink on it is not started or followed.
            let full = child(path, &entry.name);
            match ns.lstat(full.as_bytes()) {
                Ok(st) => println!("{}", line(&args, &st, &entry.name)),
                Err(e) => eprintln!("herd: {:#}", path_error(&full, e)),
            }
        }
        Ok(())
    })
}

/// One listing line for `name`.
fn line(args: &LsArgs, st: &Stat, name: &str) -> String {
    if !args.long {
        return name.to_string();
    }
    let time = time_string(&st.mtime);
    format!(
        "{} {:>3} {:>5} {:>5} {:>10} {} {name}",
        mode_string(st.mode),
        st.nlink,
        st.uid,
        st.gid,
        st.size,
        &time[..16],
    )
}

/// Arguments of `herd mkdir`.
#[derive(Args, Debug)]
pub struct MkdirArgs {
    /// Make missing parents too, and do not mind directories that exist.
    #[arg(short, long)]
    parents: bool,
    /// Permission bits (octal).
    #[arg(short, long, value_parser = parse_mode, default_value = "755")]
    mode: u32,
    /// The directories to make.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd mkdir`.
pub fn mkdir(args: MkdirArgs) -> Result<()> {
    let ns = args.conn.connect("mkdir")?;
    for_each_path(&args.paths, |path| {
        if !args.parents {
            return ns
                .mkdir(path.as_bytes(), args.mode)
                .map_err(|e| path_error(path, e));
        }
        // Each prefix in turn; one that exists must be a directory.
        let mut prefix = String::from("/");
        for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
            prefix = child(&prefix, part);
            match ns.mkdir(prefix.as_bytes(), args.mode) {
                Ok(()) => {}
                Err(Errno::EEXIST | Errno::EINVAL) => {
                    let st = ns
                        .stat(prefix.as_bytes())
                        .map_err(|e| path_error(&prefix, e))?;
                    if st.mode & S_IFMT != S_IFDIR {
                        return Err(path_error(&prefix, Errno::ENOTDIR));
                    }
                }
                Err(e) => return Err(path_error(&prefix, e)),
            }
        }
        Ok(())
    })
}

/// Arguments of `herd rm`.
#[derive(Args, Debug)]
pub struct RmArgs {
    /// Remove directories and everything in them.
    #[arg(short, long)]
    recursive: bool,
    /// Do not mind names that do not exist.
    #[arg(short, long)]
    force: bool,
    /// What to remove.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd rm`. Translators and symlinks are removed as nodes: nothing is started or
/// followed.
pub fn rm(args: RmArgs) -> Result<()> {
    let ns = args.conn.connect("rm")?;
    for_each_path(&args.paths, |path| match remove(&ns, &args, path, 0) {
        Err(e) if args.force && e == Errno::ENOENT => Ok(()),
        Err(e) => Err(path_error(path, e)),
        Ok(Some(failed)) => Err(failed),
        Ok(None) => Ok(()),
    })
}

/// Removes `path` (a directory's contents first, with -r). An error in the tree below
/// is reported whole (`Ok(Some)`), naming the path it happened at.
fn remove(
    ns: &Namespace,
    args: &RmArgs,
    path: &str,
    depth: usize,
) -> Result<Option<anyhow::Error>, Errno> {
    let st = ns.lstat(path.as_bytes())?;
    if st.mode & S_IFMT != S_IFDIR {
        return ns.unlink(path.as_bytes()).map(|()| None);
    }
    if !args.recursive {
        return Ok(Some(anyhow!("{path}: is a directory (EISDIR; use rm -r)")));
    }
    if depth >= MAX_DEPTH {
        return Ok(Some(anyhow!("{path}: deeper than {MAX_DEPTH} levels")));
    }
    let dir = ns.lookup(path.as_bytes(), O_READ | O_NOTRANS, 0)?;
    for entry in ns.readdir(&dir)? {
        if entry.name == "." || entry.name == ".." {
            continue;
        }
        let inner = child(path, &entry.name);
        match remove(ns, args, &inner, depth + 1) {
            Ok(None) => {}
            Ok(Some(e)) => return Ok(Some(e)),
            Err(e) => return Ok(Some(path_error(&inner, e))),
        }
    }
    ns.rmdir(path.as_bytes()).map(|()| None)
}
