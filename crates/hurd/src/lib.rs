//! herd's client side of the namespace: what glibc's Hurd part (`hurd/lookup-retry.c`,
//! `hurd/hurdlookup.c`, the file calls) is on the Hurd.
//!
//! - [`lookup`] resolves a path as the Hurd does: `dir_lookup` at the root or current
//!   directory, then every retry the servers answer (`FS_RETRY_NORMAL` into a
//!   translator's root, `FS_RETRY_REAUTH`, `FS_RETRY_MAGICAL` `/rest` for absolute
//!   symlinks, `fd/N`, `tty`, `machtype`), across any number of translators, with a loop
//!   limit (`ELOOP`), a timeout on every call ([`Options::timeout`]: a server
//!   that never answers is `ETIMEDOUT`, never a hang) and length checks
//!   (`ENAMETOOLONG`). The rules are `docs/namespace.md`'s.
//! - [`Namespace`] holds a task's root and current directory and the options, and offers
//!   the file calls on paths and ports: `open`, `stat`, `read_all`, `write_all`,
//!   `readdir`, `mkdir`, `unlink`, `rmdir`, `rename`, `symlink`, the translator calls
//!   (`set_translator`, `get_translator`, ...) and the control-port calls
//!   (`fsys_goaway`, `fsys_set_options`, ...).
//! - [`errno`] has the error numbers the namespace needs beyond `herd_runtime::Errno`'s,
//!   and the `ENOENT (No such file or directory)` text tools print.
//!
//! Every call answers `Result<_, Errno>`: the server's errno, or the runtime's for a
//! server that died (`EDIED`) or did not answer in time (`ETIMEDOUT`).
#![forbid(unsafe_code)]

mod call;
mod dir;
pub mod errno;
mod file;
mod lookup;
pub mod path;
mod trans;

use std::time::Duration;

use herd_runtime::{Errno, SendRight, Task, Timeout};

pub use file::CopyError;
pub use lookup::{fd_port, lookup, lookup_with, reauthenticate};
pub use path::PATH_MAX;
pub use trans::SYMLINK_TRANSLATOR;

/// How long one RPC may take by default: as long as a translator may take to start
/// (`settrans -t`'s default), since a lookup that crosses a passive translator waits for
/// it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How many retries (translators crossed, symlinks followed, magic names) one lookup may
/// take before it fails with `ELOOP` (glibc's `__eloop_threshold`).
pub const MAX_RETRIES: u32 = 32;

/// How lookups and calls behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The longest one RPC may take (queueing and reply); `None` waits for ever.
    pub timeout: Timeout,
    /// The most retries one lookup may follow before `ELOOP`.
    pub max_retries: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Some(DEFAULT_TIMEOUT),
            max_retries: MAX_RETRIES,
        }
    }
}

/// A task's view of the namespace: its root directory, its current directory and the
/// [`Options`] its calls use. Paths starting with `/` are looked up from the root, others
/// from the current directory.
#[derive(Debug)]
pub struct Namespace {
    task: Task,
    root: SendRight,
    cwd: SendRight,
    options: Options,
}

impl Namespace {
    /// A namespace rooted at `root`, with the root as current directory and the default
    /// options.
    pub fn new(task: Task, root: SendRight) -> Result<Namespace, Errno> {
        let cwd = root.try_clone().map_err(Errno::from)?;
        Ok(Namespace {
            task,
            root,
            cwd,
            options: Options::default(),
        })
    }

    /// The same namespace with `cwd` as current directory.
    pub fn with_cwd(mut self, cwd: SendRight) -> Namespace {
        self.cwd = cwd;
        self
    }

    /// The same namespace with other options.
    pub fn with_options(mut self, options: Options) -> Namespace {
        self.options = options;
        self
    }

    /// The task the calls are made from.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// The root directory.
    pub fn root(&self) -> &SendRight {
        &self.root
    }

    /// The current directory.
    pub fn cwd(&self) -> &SendRight {
        &self.cwd
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Looks `path` up and opens it with `flags` (`O_*`; `O_CREAT` creates it with
    /// `mode`), following every retry: the port to the node.
    pub fn lookup(&self, path: &[u8], flags: u32, mode: u32) -> Result<SendRight, Errno> {
        lookup_with(
            &self.task,
            &self.root,
            &self.cwd,
            path,
            flags,
            mode,
            &self.options,
        )
    }

    /// Looks `path` up relative to `dir` (an absolute path still starts at the root).
    pub fn lookup_at(
        &self,
        dir: &SendRight,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<SendRight, Errno> {
        lookup_with(
            &self.task,
            &self.root,
            dir,
            path,
            flags,
            mode,
            &self.options,
        )
    }
}
