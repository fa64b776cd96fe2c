//! Starting a translator (the Hurd's `fshelp_start_translator`): map its command to a
//! program, spawn it as a kernel task whose first initial port is a send right to a new
//! bootstrap port, and wait, with a deadline, for its `fsys_startup`.

use std::path::PathBuf;
use std::time::Duration;

use herd_runtime::{
    CallValue, Disposition, Errno, KernError, PortArg, PortCall, PortDescriptor, SendRight, Task,
};
use thiserror::Error;

use crate::bootstrap::{accept_startup, AcceptError};

/// How long a translator has to call `fsys_startup` unless the [`Launcher`] says otherwise.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(5);

/// The servers `/hurd/NAME` may name: herd's translator subcommands.
pub const HERD_SERVERS: &[&str] = &[
    "null", "zero", "random", "fortune", "tmpfs", "symlink", "firmlink", "hostfs", "hostmux",
    "usermux",
];

/// The prefix of a Hurd server path.
const HURD_PREFIX: &str = "/hurd/";

/// Why a translator could not be started.
#[derive(Debug, Error)]
pub enum StartError {
    /// The command is empty.
    #[error("empty translator command")]
    Empty,
    /// `argv[0]` names no server herd has.
    #[error("no translator `{0}` (herd serves /hurd/NAME for NAME in: {names})", names = HERD_SERVERS.join(", "))]
    Unknown(String),
    /// The herd binary could not be found.
    #[error("cannot find the herd binary: {0}")]
    NoProgram(String),
    /// The kernel refused to spawn it.
    #[error("spawning the translator failed: {0}")]
    Spawn(KernError),
    /// The handshake failed (timed out, the translator died, or it sent nonsense).
    #[error(transparent)]
    Startup(#[from] AcceptError),
}

impl StartError {
    /// The errno a lookup that needed the translator answers: `ENOENT` for an unknown
    /// server, `ETIMEDOUT` for one that never answered, `EDIED` for one that died first.
    pub fn errno(&self) -> Errno {
        match self {
            StartError::Empty => Errno::EINVAL,
            StartError::Unknown(_) | StartError::NoProgram(_) => Errno::ENOENT,
            StartError::Spawn(e) => Errno::from(*e),
            StartError::Startup(AcceptError::TimedOut(_)) => Errno::ETIMEDOUT,
            StartError::Startup(AcceptError::Died) => Errno::EDIED,
            StartError::Startup(AcceptError::Malformed(_)) => Errno::EIO,
            StartError::Startup(AcceptError::Kern(e)) => Errno::from(*e),
        }
    }
}

/// A translator that started.
#[derive(Debug)]
pub struct Running {
    /// Its control port.
    pub control: SendRight,
    /// Its Linux pid.
    pub pid: u32,
    /// Its kernel task id.
    pub task_id: u64,
}

/// How translators are started: which program serves `/hurd/NAME`, with what deadline
/// and environment.
#[derive(Clone, Debug)]
pub struct Launcher {
    program: PathBuf,
    timeout: Duration,
    env: Vec<String>,
}

impl Launcher {
    /// Starts translators with the running program (the herd binary itself).
    pub fn current_exe() -> Result<Launcher, StartError> {
        let program = std::env::current_exe().map_err(|e| StartError::NoProgram(e.to_string()))?;
        Ok(Launcher::with_program(program))
    }

    /// Starts translators with `program` (a herd binary), [`DEFAULT_START_TIMEOUT`] and no
    /// extra environment.
    pub fn with_program(program: impl Into<PathBuf>) -> Launcher {
        Launcher {
            program: program.into(),
            timeout: DEFAULT_START_TIMEOUT,
            env: Vec::new(),
        }
    }

    /// The same, with `timeout` for the `fsys_startup` handshake.
    pub fn timeout(mut self, timeout: Duration) -> Launcher {
        self.timeout = timeout;
        self
    }

    /// The same, with `KEY=VALUE` entries added to the translators' environment.
    pub fn env(mut self, env: Vec<String>) -> Launcher {
        self.env = env;
        self
    }

    /// The handshake deadline.
    pub fn start_timeout(&self) -> Duration {
        self.timeout
    }

    /// The program and arguments that run `argv`: `/hurd/NAME ARGS` (or `NAME ARGS`) is
    /// `herd NAME ARGS` for a server in [`HERD_SERVERS`].
    pub fn command(&self, argv: &[String]) -> Result<(String, Vec<String>), StartError> {
        let first = argv.first().ok_or(StartError::Empty)?;
        let name = first.strip_prefix(HURD_PREFIX).unwrap_or(first);
        if !HERD_SERVERS.contains(&name) {
            return Err(StartError::Unknown(first.clone()));
        }
        let mut args = vec!["herd".to_string(), name.to_string()];
        args.extend(argv[1..].iter().cloned());
        Ok((self.program.to_string_lossy().into_owned(), args))
    }

    /// Starts `argv` as a translator of `task`'s: spawns it with a bootstrap port, waits
    /// for its `fsys_startup` (at most the launcher's timeout), answers it with
    /// `realnode` (the node it sits on, opened for its owner, or null) and gives back its
    /// control port. A translator that does not answer in time is killed.
    pub fn start(
        &self,
        task: &Task,
        argv: &[String],
        realnode: PortArg,
    ) -> Result<Running, StartError> {
        let (program, args) = self.command(argv)?;
        let bootstrap = task.allocate_port().map_err(StartError::Spawn)?;
        let spawned = task
            .call(PortCall::Spawn {
                program,
                args,
                env: self.env.clone(),
                rights: vec![PortDescriptor::send(
                    bootstrap.name(),
                    Disposition::MakeSend,
                )],
            })
            .map_err(StartError::Spawn)?;
        let CallValue::Spawned { pid, task: task_id } = spawned else {
            return Err(StartError::Spawn(KernError::InvalidArgument));
        };
        tracing::debug!(?argv, pid, task_id, "translator spawned");
        match accept_startup(task, &bootstrap, realnode, self.timeout) {
            Ok(started) => Ok(Running {
                control: started.control,
                pid,
                task_id,
            }),
            Err(e) => {
                if !matches!(e, AcceptError::Died) {
                    kill(pid);
                }
                tracing::info!(?argv, pid, error = %e, "translator did not start");
                Err(e.into())
            }
        }
    }
}

/// Kills a translator that failed its start (it is our child's child: same Linux user).
fn kill(pid: u32) {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    if let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::KILL) {
        tracing::debug!(error = %e, "killing a failed translator");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hurd_names_map_to_herd_servers() {
        let l = Launcher::with_program("/bin/herd");
        let (program, args) = l.command(&words(&["/hurd/zero", "--mode", "600"])).unwrap();
        assert_eq!(program, "/bin/herd");
        assert_eq!(args, ["herd", "zero", "--mode", "600"]);
        assert_eq!(l.command(&words(&["null"])).unwrap().1, ["herd", "null"]);
        let e = l.command(&words(&["/hurd/ext9fs"])).unwrap_err();
        assert_eq!(e.errno(), Errno::ENOENT);
        assert!(e.to_string().contains("/hurd/ext9fs"));
        assert_eq!(l.command(&[]).unwrap_err().errno(), Errno::EINVAL);
        assert!(l.command(&words(&["/bin/sh"])).is_err());
    }
}
