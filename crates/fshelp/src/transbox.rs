//! A node's translator box (the Hurd's `transbox`): its active translator, started on
//! demand from the passive record, asked for its root on every lookup that crosses the
//! node, replaced or sent away with `settrans` semantics.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use herd_interfaces::fsys;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_iohelp::User;
use herd_runtime::{Errno, PortArg, Right, SendRight, Task};

use crate::start::Launcher;

/// A lookup's answer from a translator's root (as `dir_lookup` gives it).
#[derive(Debug)]
pub struct Retry {
    /// `FS_RETRY_*`.
    pub do_retry: u32,
    /// The name to look up at `port` (empty: `port` is the answer).
    pub name: String,
    /// The translator's root (or whatever it answered).
    pub port: Right,
}

/// `fsys_getroot` on `control` for `user`, waiting at most `timeout` (`ETIMEDOUT`), so a
/// hung translator cannot hang its parent. `dotdot` is where `..` from its root leads.
pub fn getroot(
    task: &Task,
    control: &SendRight,
    dotdot: PortArg,
    user: &User,
    flags: u32,
    timeout: Duration,
) -> Result<Retry, Errno> {
    let msg = fsys::codec::encode_fsys_getroot_request(
        PortArg::CopySend(control.name()),
        dotdot,
        user.uids(),
        user.gids(),
        flags,
    );
    let reply = task.rpc(msg, Some(timeout)).map_err(Errno::from)?;
    let (do_retry, name, port) = fsys::codec::decode_fsys_getroot_reply(reply)?;
    Ok(Retry {
        do_retry,
        name,
        port,
    })
}

/// A lookup crossing a node: what [`TransBox::fetch_root`] needs besides the node's own
/// translators.
#[derive(Clone, Copy)]
pub struct Crossing<'a> {
    /// The server's task.
    pub task: &'a Task,
    /// How to start the passive translator.
    pub launcher: &'a Launcher,
    /// The user looking up (the root is opened for them).
    pub user: &'a User,
    /// The open flags for the root (none if the node is not the lookup's last component).
    pub flags: u32,
    /// The directory holding the node, for the user: where `..` from the root leads.
    pub dotdot: Option<&'a SendRight>,
}

/// The state of a box.
enum State {
    /// No active translator.
    Idle,
    /// One lookup is starting the passive translator; the others wait.
    Starting,
    /// Running.
    Active {
        control: SendRight,
        pid: Option<u32>,
    },
}

/// One node's active translator.
pub struct TransBox {
    state: Mutex<State>,
    changed: Condvar,
}

impl Default for TransBox {
    fn default() -> Self {
        TransBox {
            state: Mutex::new(State::Idle),
            changed: Condvar::new(),
        }
    }
}

impl std::fmt::Debug for TransBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*self.lock() {
            State::Idle => "idle".to_string(),
            State::Starting => "starting".to_string(),
            State::Active { control, pid } => format!("active {} pid {pid:?}", control.name()),
        };
        write!(f, "TransBox({state})")
    }
}

/// Resets a box left `Starting` if the start fails or unwinds.
struct StartGuard<'a> {
    tb: &'a TransBox,
    done: bool,
}

impl Drop for StartGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            *self.tb.lock() = State::Idle;
            self.tb.changed.notify_all();
        }
    }
}

impl TransBox {
    /// An empty box.
    pub fn new() -> TransBox {
        TransBox::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a translator is running (or starting).
    pub fn is_active(&self) -> bool {
        !matches!(*self.lock(), State::Idle)
    }

    /// A send right to the active translator's control port.
    pub fn control(&self) -> Option<SendRight> {
        match &*self.lock() {
            State::Active { control, .. } => control.try_clone().ok(),
            _ => None,
        }
    }

    /// The active translator's pid, if this box started it.
    pub fn pid(&self) -> Option<u32> {
        match &*self.lock() {
            State::Active { pid, .. } => *pid,
            _ => None,
        }
    }

    /// The active control port, starting `passive` first if nothing runs: one start at a
    /// time, other callers wait for its outcome (bounded by the launcher's timeout).
    /// `None`: nothing runs and there is no passive record.
    fn active_or_start(
        &self,
        task: &Task,
        launcher: &Launcher,
        passive: Option<&[String]>,
        realnode: &mut dyn FnMut() -> Result<PortArg, Errno>,
    ) -> Result<Option<SendRight>, Errno> {
        let wait = launcher.start_timeout() + Duration::from_secs(1);
        let mut st = self.lock();
        loop {
            match &*st {
                State::Active { control, .. } => {
                    return control.try_clone().map(Some).map_err(Errno::from)
                }
                State::Idle => break,
                State::Starting => {
                    let (next, timeout) = self
                        .changed
                        .wait_timeout(st, wait)
                        .unwrap_or_else(PoisonError::into_inner);
                    st = next;
                    if timeout.timed_out() && matches!(*st, State::Starting) {
                        return Err(Errno::ETIMEDOUT);
                    }
                }
            }
        }
        let Some(argv) = passive else {
            return Ok(None);
        };
        *st = State::Starting;
        drop(st);
        let mut guard = StartGuard {
            tb: self,
            done: false,
        };
        let running = launcher
            .start(task, argv, realnode()?)
            .map_err(|e| e.errno())?;
        let control = running.control.try_clone().map_err(Errno::from)?;
        *self.lock() = State::Active {
            control: running.control,
            pid: Some(running.pid),
        };
        guard.done = true;
        self.changed.notify_all();
        Ok(Some(control))
    }

    /// Forgets the active translator if it is still `control` (it died).
    fn forget(&self, control: &SendRight) {
        let mut st = self.lock();
        if matches!(&*st, State::Active { control: c, .. } if c.name() == control.name()) {
            *st = State::Idle;
        }
    }

    /// What a lookup that crosses the node answers (`fshelp_fetch_root`): the translator's
    /// root for `crossing.user`, opened with `crossing.flags`, with `crossing.dotdot` (the
    /// directory holding the node) as its `..`. The passive translator `passive` is
    /// started first if nothing runs; `realnode` makes its underlying node (opened for the
    /// node's owner). If the translator has died, it is dropped and started again from
    /// `passive`, once (with no passive record: `EDIED`). `None`: the node has no
    /// translator.
    pub fn fetch_root(
        &self,
        crossing: &Crossing<'_>,
        passive: Option<&[String]>,
        realnode: &mut dyn FnMut() -> Result<PortArg, Errno>,
    ) -> Result<Option<Retry>, Errno> {
        let Crossing {
            task,
            launcher,
            user,
            flags,
            dotdot,
        } = *crossing;
        let mut restarted = false;
        loop {
            let Some(control) = self.active_or_start(task, launcher, passive, realnode)? else {
                return Ok(None);
            };
            let dotdot = dotdot.map_or(PortArg::Null, |d| PortArg::CopySend(d.name()));
            match getroot(
                task,
                &control,
                dotdot,
                user,
                flags,
                launcher.start_timeout(),
            ) {
                Err(Errno::EDIED) => {
                    tracing::info!(control = %control.name(), "translator died; dropping it");
                    self.forget(&control);
                    if passive.is_none() || restarted {
                        return Err(Errno::EDIED);
                    }
                    restarted = true;
                }
                other => return other.map(Some),
            }
        }
    }

    /// Sets the active translator (`file_set_translator` with `FS_TRANS_SET` in its active
    /// flags): `new` (or nothing). A running translator is first asked to go away with
    /// `goaway_flags` (`EBUSY` if it refuses: it stays); with `excl`, a running one is
    /// `EBUSY` at once. One that is already dead is simply replaced.
    pub fn set_active(
        &self,
        task: &Task,
        new: Option<SendRight>,
        excl: bool,
        goaway_flags: u32,
        timeout: Duration,
    ) -> Result<(), Errno> {
        let mut st = self.lock();
        match &*st {
            State::Starting => return Err(Errno::EBUSY),
            State::Active { .. } if excl => return Err(Errno::EBUSY),
            State::Active { control, .. } => {
                goaway(task, control, goaway_flags, timeout)?;
            }
            State::Idle => {}
        }
        *st = match new {
            Some(control) => State::Active { control, pid: None },
            None => State::Idle,
        };
        Ok(())
    }

    /// Asks the active translator to go away (`settrans -g`, with `FSYS_GOAWAY_FORCE` for
    /// `-f`); on success (or if it is already dead) the box is empty.
    pub fn goaway(&self, task: &Task, flags: u32, timeout: Duration) -> Result<(), Errno> {
        self.set_active(task, None, false, flags, timeout)
    }
}

/// `fsys_goaway(flags)` with a deadline; a dead translator counts as gone, and a forced
/// go-away that times out too (the translator is abandoned).
fn goaway(task: &Task, control: &SendRight, flags: u32, timeout: Duration) -> Result<(), Errno> {
    let msg = fsys::codec::encode_fsys_goaway_request(PortArg::CopySend(control.name()), flags);
    let answer = task
        .rpc(msg, Some(timeout))
        .map_err(Errno::from)
        .and_then(fsys::codec::decode_fsys_goaway_reply);
    match answer {
        Ok(()) | Err(Errno::EDIED) => Ok(()),
        Err(Errno::ETIMEDOUT) if flags & FSYS_GOAWAY_FORCE != 0 => Ok(()),
        Err(e) => Err(e),
    }
}
