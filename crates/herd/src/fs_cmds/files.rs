//! `herd cat`, `herd put`, `herd get`, `herd stat`: file contents and status between the
//! herd namespace and the host.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use clap::Args;
use herd_hurd::{CopyError, Namespace};
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFMT};
use herd_interfaces::types::consts::open::{O_CREAT, O_READ, O_TRUNC, O_WRITE};
use herd_interfaces::types::{Stat, Timespec};
use herd_runtime::Errno;

use super::{child, for_each_path, path_error, NodeArgs};

/// Arguments of `herd cat`.
#[derive(Args, Debug)]
pub struct CatArgs {
    /// The files to print, in order.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd cat`.
pub fn cat(args: CatArgs) -> Result<()> {
    let ns = args.conn.connect("cat")?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for_each_path(&args.paths, |path| {
        let file = ns
            .lookup(path.as_bytes(), O_READ, 0)
            .map_err(|e| path_error(path, e))?;
        copy_out(&ns, &file, &mut out, path, "standard output")?;
        Ok(())
    })
}

/// Copies `file` (the herd path `path`) to `out` (`what`), with errors naming both sides.
fn copy_out(
    ns: &Namespace,
    file: &herd_runtime::SendRight,
    out: &mut dyn Write,
    path: &str,
    what: &str,
) -> Result<u64> {
    let copied = match ns
        .read_into(file, out)
        .and_then(|n| Ok(out.flush().map(|()| n)?))
    {
        Ok(n) => n,
        Err(CopyError::Server(e)) => return Err(path_error(path, e)),
        // The reader went away (`herd cat /dev/zero | head`): nothing more to do.
        Err(CopyError::Local(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(CopyError::Local(e)) => return Err(anyhow!("{what}: {e}")),
    };
    Ok(copied)
}

/// Arguments of `herd put`.
#[derive(Args, Debug)]
pub struct PutArgs {
    /// The host file to copy (`-`: standard input).
    src: PathBuf,
    /// The herd path to copy it to (an existing directory: into it, same name).
    dst: String,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd put`.
pub fn put(args: PutArgs) -> Result<()> {
    let ns = args.conn.connect("put")?;
    let mut input: Box<dyn Read> = if args.src == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(&args.src).with_context(|| args.src.display().to_string())?)
    };
    let dst = match ns.stat(args.dst.as_bytes()) {
        Ok(st) if st.mode & S_IFMT == S_IFDIR => {
            let name = args
                .src
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| anyhow!("{}: is a directory", args.dst))?;
            child(&args.dst, name)
        }
        _ => args.dst.clone(),
    };
    let file = ns
        .lookup(dst.as_bytes(), O_WRITE | O_CREAT | O_TRUNC, 0o644)
        .map_err(|e| path_error(&dst, e))?;
    match ns.write_from(&file, &mut input) {
        Ok(_) => Ok(()),
        Err(CopyError::Server(e)) => Err(path_error(&dst, e)),
        Err(CopyError::Local(e)) => Err(anyhow!("{}: {e}", args.src.display())),
    }
}

/// Arguments of `herd get`.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// The herd path to copy.
    src: String,
    /// The host file to write (`-`: standard output; an existing directory: into it).
    dst: PathBuf,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd get`.
pub fn get(args: GetArgs) -> Result<()> {
    let ns = args.conn.connect("get")?;
    let file = ns
        .lookup(args.src.as_bytes(), O_READ, 0)
        .map_err(|e| path_error(&args.src, e))?;
    if args.dst == Path::new("-") {
        let stdout = std::io::stdout();
        copy_out(&ns, &file, &mut stdout.lock(), &args.src, "standard output")?;
        return Ok(());
    }
    let dst = if args.dst.is_dir() {
        let name = args
            .src
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        if name.is_empty() || name == "." || name == ".." {
            return Err(anyhow!("{}: no file name to copy to", args.src));
        }
        args.dst.join(name)
    } else {
        args.dst.clone()
    };
    let what = dst.display().to_string();
    let mut out = File::create(&dst).with_context(|| what.clone())?;
    copy_out(&ns, &file, &mut out, &args.src, &what)?;
    Ok(())
}

/// Arguments of `herd stat`.
#[derive(Args, Debug)]
pub struct StatArgs {
    /// The files to describe.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
    /// Describe a symlink or translated node itself, not what it leads to.
    #[arg(long = "no-follow")]
    no_follow: bool,
    #[command(flatten)]
    conn: NodeArgs,
}

/// Runs `herd stat`.
pub fn stat(args: StatArgs) -> Result<()> {
    let ns = args.conn.connect("stat")?;
    for_each_path(&args.paths, |path| {
        let st = if args.no_follow {
            ns.lstat(path.as_bytes())
        } else {
            ns.stat(path.as_bytes())
        };
        let st = st.map_err(|e: Errno| path_error(path, e))?;
        print!("{}", describe_stat(path, &st));
        Ok(())
    })
}

/// The `herd stat` text for `st`.
fn describe_stat(path: &str, st: &Stat) -> String {
    format!(
        "  File: {path}\n  Type: {}\n  Size: {}  Blocks: {}  IO Block: {}\n  \
         Inode: {}  Links: {}  Device: {:#x}  Generation: {}\n  \
         Mode: ({:04o}/{})  Uid: {}  Gid: {}  Author: {}  Flags: {:#x}\n  \
         Server: fstype {}  rdev {:#x}\nAccess: {}\nModify: {}\nChange: {}\n",
        kind_name(st.mode),
        st.size,
        st.blocks,
        st.blksize,
        st.ino,
        st.nlink,
        st.fsid,
        st.gen,
        st.mode & 0o7777,
        mode_string(st.mode),
        st.uid,
        st.gid,
        st.author,
        st.flags,
        st.fstype,
        st.rdev,
        time_string(&st.atime),
        time_string(&st.mtime),
        time_string(&st.ctime),
    )
}

/// The file type in words.
fn kind_name(mode: u32) -> &'static str {
    use herd_interfaces::types::consts::mode::*;
    match mode & S_IFMT {
        S_IFREG => "regular file",
        S_IFDIR => "directory",
        S_IFLNK => "symbolic link",
        S_IFCHR => "character device",
        S_IFBLK => "block device",
        S_IFIFO => "fifo",
        S_IFSOCK => "socket",
        _ => "unknown",
    }
}

/// `ls -l` style mode: `drwxr-xr-x`.
pub fn mode_string(mode: u32) -> String {
    use herd_interfaces::types::consts::mode::*;
    let kind = match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFLNK => 'l',
        S_IFCHR => 'c',
        S_IFBLK => 'b',
        S_IFIFO => 'p',
        S_IFSOCK => 's',
        _ => '-',
    };
    let mut out = String::from(kind);
    for (shift, special, set, unset) in [
        (6, S_ISUID, 's', 'S'),
        (3, S_ISGID, 's', 'S'),
        (0, S_ISVTX, 't', 'T'),
    ] {
        let bits = (mode >> shift) & 7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        out.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => set,
            (false, true) => unset,
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    out
}

/// A time as `YYYY-MM-DD HH:MM:SS.NNNNNNNNN UTC`.
pub fn time_string(t: &Timespec) -> String {
    let days = t.sec.div_euclid(86_400);
    let secs = t.sec.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:09} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        t.nsec.min(999_999_999)
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_times_read_like_ls() {
        assert_eq!(mode_string(0o040755), "drwxr-xr-x");
        assert_eq!(mode_string(0o100644), "-rw-r--r--");
        assert_eq!(mode_string(0o104755), "-rwsr-xr-x");
        assert_eq!(mode_string(0o041777), "drwxrwxrwt");
        assert_eq!(mode_string(0o020666), "crw-rw-rw-");
        let t = |sec| time_string(&Timespec { sec, nsec: 5 });
        assert_eq!(t(0), "1970-01-01 00:00:00.000000005 UTC");
        assert_eq!(t(951_782_400), "2000-02-29 00:00:00.000000005 UTC");
        assert_eq!(t(1_795_000_000), "2026-11-18 11:06:40.000000005 UTC");
        assert_eq!(t(-1), "1969-12-31 23:59:59.000000005 UTC");
    }
}
