//! The thin event loop around the state machine: accepts connections, reads frames,
//! writes answers, starts programs, and keeps time. All port logic is in [`Kernel`].

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Instant;

use herd_channel::{memfd, Channel, Frame, Listener, RecvError};
use herd_wire::codec::DecodeError;
use herd_wire::frame::MAX_FRAME;
use herd_wire::{KernError, Request};
use rustix::event::epoll;

use crate::objects::ConnId;
use crate::state::{Action, Input, Kernel, SpawnOrder};

const LISTENER: u64 = 0;
const STOP: u64 = 1;
const FIRST_CONN: ConnId = 16;

/// The event loop's state.
pub struct Driver {
    kernel: Kernel,
    epoll: OwnedFd,
    listener: Listener,
    /// Kept open: its readability (or closing) is the signal to stop.
    _stop: Option<OwnedFd>,
    socket: PathBuf,
    conns: HashMap<ConnId, Channel>,
    next_conn: ConnId,
    children: Vec<Child>,
    frame: Frame,
}

impl Driver {
    /// A driver serving `listener` (bound at `socket`); it returns from [`Driver::run`]
    /// when `stop` becomes readable (or is closed).
    pub fn new(listener: Listener, socket: &Path, stop: Option<OwnedFd>) -> std::io::Result<Self> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        epoll::add(
            &epoll,
            &listener,
            epoll::EventData::new_u64(LISTENER),
            epoll::EventFlags::IN,
        )?;
        if let Some(s) = &stop {
            epoll::add(
                &epoll,
                s,
                epoll::EventData::new_u64(STOP),
                epoll::EventFlags::IN,
            )?;
        }
        Ok(Driver {
            kernel: Kernel::new(Instant::now(), rustix::process::getuid().as_raw()),
            epoll,
            listener,
            _stop: stop,
            socket: socket.to_path_buf(),
            conns: HashMap::new(),
            next_conn: FIRST_CONN,
            children: Vec::new(),
            frame: Frame::default(),
        })
    }

    /// Runs until told to stop.
    pub fn run(&mut self) -> std::io::Result<()> {
        let mut events: Vec<epoll::Event> = Vec::with_capacity(64);
        loop {
            let timeout = self.kernel.next_deadline().map(|d| {
                let left = d.saturating_duration_since(Instant::now());
                rustix::time::Timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: left.subsec_nanos() as i64,
                }
            });
            events.clear();
            match epoll::wait(
                &self.epoll,
                rustix::buffer::spare_capacity(&mut events),
                timeout.as_ref(),
            ) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
            for ev in events.iter() {
                let (token, flags) = (ev.data.u64(), ev.flags);
                match token {
                    LISTENER => self.accept_all(),
                    STOP => return Ok(()),
                    conn => self.readable(conn, flags),
                }
            }
            self.kernel.tick(Instant::now());
            self.perform();
        }
    }

    fn accept_all(&mut self) {
        loop {
            match self.listener.accept() {
                Ok(Some(ch)) => {
                    let creds = match ch.peer_credentials() {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(%e, "no peer credentials; refusing connection");
                            continue;
                        }
                    };
                    if ch.set_nonblocking().is_err() {
                        continue;
                    }
                    let conn = self.next_conn;
                    self.next_conn += 1;
                    if self.register(conn, ch).is_ok() {
                        self.kernel
                            .handle(Instant::now(), Input::Connected { conn, creds });
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(%e, "accept failed");
                    return;
                }
            }
        }
    }

    fn register(&mut self, conn: ConnId, ch: Channel) -> std::io::Result<()> {
        epoll::add(
            &self.epoll,
            &ch,
            epoll::EventData::new_u64(conn),
            epoll::EventFlags::IN | epoll::EventFlags::RDHUP,
        )?;
        self.conns.insert(conn, ch);
        Ok(())
    }

    fn readable(&mut self, conn: ConnId, flags: epoll::EventFlags) {
        let Some(ch) = self.conns.get(&conn) else {
            return;
        };
        let now = Instant::now();
        let input = match ch.recv(&mut self.frame, MAX_FRAME) {
            Ok(true) => {
                let fds = std::mem::take(&mut self.frame.fds);
                match Request::decode(&self.frame.bytes) {
                    Ok(request) => match check_regions(&request, &fds) {
                        Ok(()) => Input::Frame { conn, request, fds },
                        Err(error) => Input::Malformed { conn, error },
                    },
                    Err(error) => Input::Malformed { conn, error },
                }
            }
            Ok(false) => Input::Closed { conn },
            Err(RecvError::WouldBlock) => {
                if flags.intersects(epoll::EventFlags::HUP | epoll::EventFlags::ERR) {
                    Input::Closed { conn }
                } else {
                    return;
                }
            }
            Err(RecvError::Io(_)) => Input::Closed { conn },
            Err(e) => Input::Malformed {
                conn,
                error: DecodeError::BadValue {
                    what: match e {
                        RecvError::TooLarge => "frame size",
                        RecvError::TooManyFds => "descriptor count",
                        _ => "frame",
                    },
                    value: 0,
                },
            },
        };
        if matches!(input, Input::Closed { .. }) {
            self.drop_conn(conn);
        }
        self.kernel.handle(now, input);
    }

    fn drop_conn(&mut self, conn: ConnId) {
        if let Some(ch) = self.conns.remove(&conn) {
            let _ = epoll::delete(&self.epoll, &ch);
        }
    }

    /// Carries out the kernel's actions, feeding back closes and spawns until none is left.
    fn perform(&mut self) {
        let mut actions = Vec::new();
        loop {
            self.kernel.drain_actions_into(&mut actions);
            if actions.is_empty() {
                return;
            }
            for action in actions.drain(..) {
                match action {
                    Action::Send {
                        conn,
                        response,
                        fds,
                    } => {
                        let Some(ch) = self.conns.get(&conn) else {
                            continue;
                        };
                        let borrowed: Vec<_> = fds.iter().map(|f| f.as_fd()).collect();
                        if let Err(e) = ch.send(&response.encode(), &borrowed) {
                            // A task that does not read its answers (or is gone) is dropped.
                            tracing::debug!(conn, %e, "send failed; closing");
                            self.drop_conn(conn);
                            self.kernel.handle(Instant::now(), Input::Closed { conn });
                        }
                    }
                    Action::Close { conn } => self.drop_conn(conn),
                    Action::Spawn(order) => self.spawn(order),
                }
            }
        }
    }

    fn spawn(&mut self, order: SpawnOrder) {
        let child = order.child;
        let result = self.start_program(&order);
        let result = match result {
            Ok(pid) => Ok(pid),
            Err(e) => {
                tracing::warn!(program = %order.program, %e, "spawn failed");
                self.drop_conn(child);
                Err(KernError::InvalidArgument)
            }
        };
        self.kernel
            .handle(Instant::now(), Input::Spawned { child, result });
        self.reap();
    }

    fn start_program(&mut self, order: &SpawnOrder) -> std::io::Result<u32> {
        let (ours, theirs) = Channel::pair()?;
        ours.set_nonblocking()?;
        // The child's end must survive exec: clear close-on-exec on it. The kernel is
        // single-threaded, so no other spawn can inherit it meanwhile.
        rustix::io::fcntl_setfd(&theirs, rustix::io::FdFlags::empty())?;
        let fd_num = {
            use std::os::fd::AsRawFd;
            theirs.as_fd().as_raw_fd()
        };
        let ports: Vec<String> = order.ports.iter().map(|n| n.0.to_string()).collect();
        let mut cmd = Command::new(&order.program);
        if let Some((first, rest)) = order.args.split_first() {
            use std::os::unix::process::CommandExt;
            cmd.arg0(first);
            cmd.args(rest);
        }
        for kv in &order.env {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
        cmd.env("HERD_TASK_FD", fd_num.to_string())
            .env("HERD_TASK_TOKEN", order.token.to_string())
            .env("HERD_TASK_ID", order.task.to_string())
            .env("HERD_KERNEL", &self.socket)
            .env("HERD_PORTS", ports.join(","));
        let child = cmd.spawn()?;
        drop(theirs);
        let pid = child.id();
        self.children.push(child);
        self.register(order.child, ours)?;
        Ok(pid)
    }

    /// Collects exited children so none stays a zombie.
    fn reap(&mut self) {
        self.children
            .retain_mut(|c| matches!(c.try_wait(), Ok(None)));
    }
}

/// Checks that every out-of-line region of a message is a sealed memfd of at least its
/// stated size, so a receiver can never be handed a descriptor that blocks or changes.
fn check_regions(request: &Request, fds: &[OwnedFd]) -> Result<(), DecodeError> {
    let sizes: &[u64] = match request {
        Request::MachMsg {
            message: Some(m), ..
        } => &m.ool,
        _ => &[],
    };
    if sizes.len() != fds.len() {
        return Err(DecodeError::BadValue {
            what: "descriptor count",
            value: fds.len() as u64,
        });
    }
    for (size, fd) in sizes.iter().zip(fds) {
        if !memfd::is_sealed_region(fd, *size) {
            return Err(DecodeError::BadValue {
                what: "out-of-line region",
                value: *size,
            });
        }
    }
    Ok(())
}
