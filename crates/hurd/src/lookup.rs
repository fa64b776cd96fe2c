//! Path lookup with retries (glibc's `hurd/lookup-retry.c`).
//!
//! A lookup asks the starting directory's server (`dir_lookup`) and follows its answer:
//!
//! - `FS_RETRY_NORMAL` with an empty name: the result is the node (final checks for
//!   `O_NOFOLLOW` and `O_DIRECTORY` follow).
//! - `FS_RETRY_NORMAL` with a name: the server crossed into a translator (or spliced a
//!   relative symlink); look the name up at the port it gave.
//! - `FS_RETRY_REAUTH`: reauthenticate the port ([`reauthenticate`]) and look the name up
//!   there, even an empty one.
//! - `FS_RETRY_MAGICAL`: the client interprets the name: `/rest` restarts at the root
//!   (absolute symlinks), `fd/N[/rest]` names an open descriptor ([`fd_port`]), `tty`
//!   the controlling terminal (herd has none: `ENXIO`), `machtype[/rest]` continues at the
//!   port with the machine's type in place of the word; an empty name means the port
//!   given is the node. Anything else is `EPROTO` (glibc's `EGRATUITOUS`).
//!
//! Every retry counts toward [`Options::max_retries`] (`ELOOP` past it), every name a
//! server answers is length-checked (`ENAMETOOLONG`), every call has the options' timeout
//! (`ETIMEDOUT`), and `EOPNOTSUPP` or `MIG_BAD_ID` from a `dir_lookup` (a server that is
//! not a directory) is `ENOTDIR`.

use herd_interfaces::fs;
use herd_interfaces::io;
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFLNK, S_IFMT};
use herd_interfaces::types::consts::open::{O_DIRECTORY, O_NOFOLLOW, O_NOLINK, O_NOTRANS};
use herd_interfaces::types::consts::retry::{FS_RETRY_MAGICAL, FS_RETRY_NORMAL, FS_RETRY_REAUTH};
use herd_runtime::{Errno, Right, SendRight, Task};

use crate::call::{call, dest, send_right};
use crate::errno::EPROTO;
use crate::{path, Options};

/// Looks `path` up and opens it with `flags` and `mode`, starting at `root` if it is
/// absolute and at `cwd` otherwise, with the default [`Options`].
pub fn lookup(
    task: &Task,
    root: &SendRight,
    cwd: &SendRight,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<SendRight, Errno> {
    lookup_with(task, root, cwd, path, flags, mode, &Options::default())
}

/// [`lookup`] with the given options.
pub fn lookup_with(
    task: &Task,
    root: &SendRight,
    cwd: &SendRight,
    path: &[u8],
    flags: u32,
    mode: u32,
    options: &Options,
) -> Result<SendRight, Errno> {
    let walk = Walk {
        task,
        root,
        options,
        flags,
        mode,
        final_checks: true,
    };
    walk.start(cwd, path)
}

/// The node `path` names itself: `O_NOTRANS | O_NOLINK` asks the last server not to
/// cross a translator or follow a symlink there (the Hurd's `lstat` lookup), and the port
/// it answers is taken as it is.
pub(crate) fn lookup_node(
    task: &Task,
    root: &SendRight,
    cwd: &SendRight,
    path: &[u8],
    options: &Options,
) -> Result<SendRight, Errno> {
    let walk = Walk {
        task,
        root,
        options,
        flags: O_NOTRANS | O_NOLINK,
        mode: 0,
        final_checks: false,
    };
    walk.start(cwd, path)
}

/// Reauthenticates `port` for this task's identity (`FS_RETRY_REAUTH`).
///
/// Hook for issue 5: once the auth server exists this sends `io_reauthenticate` with a
/// rendezvous port, then `auth_user_authenticate`, and answers the new port. Until then
/// no server answers `FS_RETRY_REAUTH` for another identity, and the port is kept as is.
pub fn reauthenticate(task: &Task, port: SendRight) -> Result<SendRight, Errno> {
    let _ = task;
    Ok(port)
}

/// The port of open file descriptor `fd`, for `FS_RETRY_MAGICAL` `fd/N` names.
///
/// Hook for the file descriptor table: herd tasks have none yet, so this is always
/// `EOPNOTSUPP`.
pub fn fd_port(task: &Task, fd: u32) -> Result<SendRight, Errno> {
    let _ = (task, fd);
    Err(Errno::EOPNOTSUPP)
}

/// What to do after one answer.
enum Step {
    /// The lookup is over: this is the node.
    Done(SendRight),
    /// Look `name` up at `at` (`None`: the root).
    Retry { at: Option<SendRight>, name: String },
}

/// One lookup in progress.
struct Walk<'a> {
    task: &'a Task,
    root: &'a SendRight,
    options: &'a Options,
    flags: u32,
    mode: u32,
    /// Whether [`Walk::finish`] checks `O_NOFOLLOW` and `O_DIRECTORY`.
    final_checks: bool,
}

impl Walk<'_> {
    /// Checks `path` and looks it up from the root (absolute) or `cwd` (relative).
    fn start(&self, cwd: &SendRight, path: &[u8]) -> Result<SendRight, Errno> {
        let text = path::check(path)?;
        match text.strip_prefix('/') {
            Some(rest) => self.run(self.root, rest.trim_start_matches('/')),
            None => self.run(cwd, text),
        }
    }

    /// Looks `name` up at `start` and follows the answers to the end.
    fn run(&self, start: &SendRight, name: &str) -> Result<SendRight, Errno> {
        let mut answer = self.dir_lookup(start, name)?;
        let mut retries = 0u32;
        loop {
            let (at, name) = match self.step(answer)? {
                Step::Done(port) => return self.finish(port),
                Step::Retry { at, name } => (at, name),
            };
            retries += 1;
            if retries > self.options.max_retries {
                return Err(Errno::ELOOP);
            }
            answer = self.dir_lookup(at.as_ref().unwrap_or(self.root), &name)?;
        }
    }

    /// `dir_lookup` of `name` at `dir`, with the lookup's flags, mode and timeout.
    fn dir_lookup(&self, dir: &SendRight, name: &str) -> Result<(u32, String, Right), Errno> {
        let msg = fs::codec::encode_dir_lookup_request(dest(dir), name, self.flags, self.mode);
        call(
            self.task,
            self.options.timeout,
            msg,
            fs::codec::decode_dir_lookup_reply,
        )
        .map_err(|e| match e {
            Errno::EOPNOTSUPP | Errno::MIG_BAD_ID => Errno::ENOTDIR,
            e => e,
        })
    }

    /// Interprets one `dir_lookup` answer.
    fn step(&self, (do_retry, name, result): (u32, String, Right)) -> Result<Step, Errno> {
        path::check_name(&name)?;
        match do_retry {
            FS_RETRY_NORMAL if name.is_empty() => Ok(Step::Done(send_right(result)?)),
            FS_RETRY_NORMAL => Ok(Step::Retry {
                at: Some(send_right(result)?),
                name: name.trim_start_matches('/').to_string(),
            }),
            FS_RETRY_REAUTH => Ok(Step::Retry {
                at: Some(reauthenticate(self.task, send_right(result)?)?),
                name: name.trim_start_matches('/').to_string(),
            }),
            FS_RETRY_MAGICAL => self.magic(name, result),
            other => {
                tracing::debug!(do_retry = other, "dir_lookup answered an unknown retry");
                Err(EPROTO)
            }
        }
    }

    /// Interprets an `FS_RETRY_MAGICAL` name.
    fn magic(&self, name: String, result: Right) -> Result<Step, Errno> {
        if let Some(rest) = name.strip_prefix('/') {
            return Ok(Step::Retry {
                at: None,
                name: rest.trim_start_matches('/').to_string(),
            });
        }
        let (word, rest) = match name.split_once('/') {
            Some((word, rest)) => (word, Some(rest)),
            None => (name.as_str(), None),
        };
        match (word, rest) {
            ("", _) => Ok(Step::Done(send_right(result)?)),
            ("fd", Some(rest)) => {
                let (number, more) = rest.split_once('/').unwrap_or((rest, ""));
                let fd = parse_fd(number).ok_or(Errno::ENOENT)?;
                let port = fd_port(self.task, fd)?;
                Ok(if more.is_empty() {
                    Step::Done(port)
                } else {
                    Step::Retry {
                        at: Some(port),
                        name: more.to_string(),
                    }
                })
            }
            ("tty", _) => Err(Errno::ENXIO),
            ("machtype", rest) => Ok(Step::Retry {
                at: Some(send_right(result)?),
                name: match rest {
                    Some(rest) => format!("{}/{rest}", std::env::consts::ARCH),
                    None => std::env::consts::ARCH.to_string(),
                },
            }),
            _ => {
                tracing::debug!(name, "dir_lookup answered an unknown magic name");
                Err(EPROTO)
            }
        }
    }

    /// The checks made on the node a lookup ends at: `O_NOFOLLOW` refuses a symlink the
    /// server handed back (`ELOOP`), `O_DIRECTORY` anything but a directory (`ENOTDIR`).
    fn finish(&self, port: SendRight) -> Result<SendRight, Errno> {
        if !self.final_checks || self.flags & (O_NOFOLLOW | O_DIRECTORY) == 0 {
            return Ok(port);
        }
        let msg = io::codec::encode_io_stat_request(dest(&port));
        let st = call(
            self.task,
            self.options.timeout,
            msg,
            io::codec::decode_io_stat_reply,
        )?;
        let kind = st.mode & S_IFMT;
        if self.flags & O_NOFOLLOW != 0 && kind == S_IFLNK {
            return Err(Errno::ELOOP);
        }
        if self.flags & O_DIRECTORY != 0 && kind != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        Ok(port)
    }
}

/// A descriptor number: decimal digits only, no sign, no leading `+`.
fn parse_fd(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_numbers() {
        assert_eq!(parse_fd("0"), Some(0));
        assert_eq!(parse_fd("17"), Some(17));
        assert_eq!(parse_fd(""), None);
        assert_eq!(parse_fd("+1"), None);
        assert_eq!(parse_fd("-1"), None);
        assert_eq!(parse_fd("99999999999"), None);
    }
}
