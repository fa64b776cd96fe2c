//! Sending and receiving: queues with limits, waiting receivers and blocked senders,
//! port sets, sequence numbers, timeouts, and the combined send-then-receive.

use std::os::fd::OwnedFd;

use herd_wire::frame::{msg_option, Timeout};
use herd_wire::trace::record_flags;
use herd_wire::{KernError, Message, PortName};

use crate::objects::{ConnId, KMsg, KRight, PortIdx, Receiver, TaskId};
use crate::state::{Kernel, RecvTarget, Wait};
use crate::trace::SendSnapshot;

impl Kernel {
    /// `mach_msg`: send, receive, or both in one round trip.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn mach_msg(
        &mut self,
        conn: ConnId,
        task: TaskId,
        options: u32,
        send_timeout: Timeout,
        receive: (PortName, Timeout),
        message: Option<Message>,
        fds: Vec<OwnedFd>,
    ) {
        let sending = options & msg_option::SEND != 0;
        let receiving = options & msg_option::RECEIVE != 0;
        let then = receiving.then_some(receive);
        if sending != message.is_some() {
            return self.reply_msg(conn, Err(KernError::SendInvalidData), None);
        }
        let Some(message) = message else {
            return match then {
                Some((name, timeout)) => self.receive(conn, task, name, timeout),
                None => self.reply_msg(conn, Ok(()), None),
            };
        };
        // Tracing costs untraced tasks this one check.
        let snapshot = (self.is_traced(task) && self.record_room(task, false))
            .then(|| SendSnapshot::of(&message));
        let (dest, via_send_once, kmsg) = match self.copyin_msg(task, message, fds) {
            Ok(x) => x,
            Err(e) => {
                if let Some(snap) = snapshot {
                    self.trace_send(task, snap, None, Err(e), 0);
                }
                return self.reply_msg(conn, Err(e), None);
            }
        };
        let full = self.ports.get(dest).is_some_and(|p| {
            !p.is_dead()
                && (p.queue.len() >= p.qlimit as usize
                    || p.extra.as_ref().is_some_and(|e| !e.blocked.is_empty()))
        });
        if let Some(snap) = snapshot {
            let (status, flags) = if full && !via_send_once {
                if send_timeout == Some(std::time::Duration::ZERO) {
                    (Err(KernError::SendTimedOut), 0)
                } else {
                    (Ok(()), record_flags::BLOCKED)
                }
            } else if self.is_dead(dest) {
                (Err(KernError::SendInvalidDest), 0)
            } else {
                (Ok(()), 0)
            };
            self.trace_send(task, snap, Some((dest, &kmsg)), status, flags);
        }
        if full && !via_send_once {
            if send_timeout == Some(std::time::Duration::ZERO) {
                let returned = self.return_to_sender(task, kmsg);
                return self.reply_msg(conn, Err(KernError::SendTimedOut), Some(returned));
            }
            self.mark_in_transit(dest, &kmsg);
            let timer = self.add_timer(conn, send_timeout);
            if let Some(c) = self.conns.get_mut(&conn) {
                c.wait = Some(Wait::Send {
                    port: dest,
                    msg: kmsg,
                    timer,
                    then,
                });
            }
            if let Some(p) = self.ports.get_mut(dest) {
                p.extra_mut().blocked.push_back(conn);
            }
            return;
        }
        if self.is_dead(dest) {
            // The port died between lookup and now only if the message itself killed it
            // (it cannot), so this is a send to a dead port: refuse and keep nothing.
            self.destroy_msg(kmsg);
            return self.reply_msg(conn, Err(KernError::SendInvalidDest), None);
        }
        self.deliver(dest, kmsg);
        match then {
            Some((name, timeout)) => self.receive(conn, task, name, timeout),
            None => self.reply_msg(conn, Ok(()), None),
        }
    }

    /// Records, for every receive right a message carries, which port it waits on.
    fn mark_in_transit(&mut self, dest: PortIdx, msg: &KMsg) {
        for r in std::iter::once(&msg.reply).chain(msg.ports.iter()) {
            if let KRight::Receive(q) = r {
                if let Some(port) = self.ports.get_mut(*q) {
                    port.receiver = Receiver::InTransit(dest);
                }
            }
        }
    }

    /// Puts a message on `dest`'s queue, or hands it straight to a waiting receiver.
    /// Queue limits were checked by the caller (or do not apply).
    pub(crate) fn deliver(&mut self, dest: PortIdx, msg: KMsg) {
        if self.is_dead(dest) {
            return self.destroy_msg(msg);
        }
        self.mark_in_transit(dest, &msg);
        if let Some(conn) = self.pop_waiter(dest) {
            return self.give(conn, dest, msg);
        }
        let Some(port) = self.ports.get_mut(dest) else {
            return;
        };
        port.queue.push_back(msg);
        if let (Some(s), false) = (port.pset, port.in_ready) {
            port.in_ready = true;
            if let Some(set) = self.sets.get_mut(s) {
                set.ready.push_back(dest);
            }
        }
    }

    /// A connection waiting to receive from `p` (through its set if it has one).
    fn pop_waiter(&mut self, p: PortIdx) -> Option<ConnId> {
        let port = self.ports.get_mut(p)?;
        match port.pset {
            Some(s) => self.sets.get_mut(s)?.waiters.pop_back(),
            None => {
                let w = port.extra.as_mut()?.waiters.pop_back();
                port.trim_extra();
                w
            }
        }
    }

    /// Gives `msg`, dequeued from `p`, to the waiting connection `conn`.
    pub(crate) fn give(&mut self, conn: ConnId, p: PortIdx, msg: KMsg) {
        let Some(task) = self.task_of(conn) else {
            return self.destroy_msg(msg);
        };
        if let Some(Wait::Receive { timer: Some(t), .. }) =
            self.conns.get_mut(&conn).and_then(|c| c.wait.take())
        {
            self.timers.remove(&t);
        }
        let seqno = match self.ports.get_mut(p) {
            Some(port) => {
                let s = port.seqno;
                port.seqno += 1;
                s
            }
            None => 0,
        };
        let traced = self.is_traced(task) && self.traces_receive(task, p);
        let out = self.copyout_msg(task, p, seqno, msg);
        if traced {
            self.trace_receive(task, p, &out.0);
        }
        self.reply_msg(conn, Ok(()), Some(out));
    }

    /// Receives from `name` for `conn`: at once if something is queued, else waits.
    pub(crate) fn receive(&mut self, conn: ConnId, task: TaskId, name: PortName, timeout: Timeout) {
        let target = match self.recv_target(task, name) {
            Ok(t) => t,
            Err(e) => return self.reply_msg(conn, Err(e), None),
        };
        if let Some((p, msg)) = self.dequeue(target) {
            self.give(conn, p, msg);
            return self.admit_blocked(p);
        }
        if timeout == Some(std::time::Duration::ZERO) {
            return self.reply_msg(conn, Err(KernError::RcvTimedOut), None);
        }
        let timer = self.add_timer(conn, timeout);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.wait = Some(Wait::Receive { target, timer });
        }
        match target {
            RecvTarget::Port(p) => {
                if let Some(port) = self.ports.get_mut(p) {
                    port.extra_mut().waiters.push_back(conn);
                }
            }
            RecvTarget::Set(s) => {
                if let Some(set) = self.sets.get_mut(s) {
                    set.waiters.push_back(conn);
                }
            }
        }
    }

    /// Takes the next message from a port, or from the set member that has waited longest.
    pub(crate) fn dequeue(&mut self, target: RecvTarget) -> Option<(PortIdx, KMsg)> {
        match target {
            RecvTarget::Port(p) => {
                let msg = self.ports.get_mut(p)?.queue.pop_front()?;
                Some((p, msg))
            }
            RecvTarget::Set(s) => loop {
                let p = self.sets.get_mut(s)?.ready.pop_front()?;
                let Some(port) = self.ports.get_mut(p) else {
                    continue;
                };
                if port.pset != Some(s) {
                    continue;
                }
                let Some(msg) = port.queue.pop_front() else {
                    port.in_ready = false;
                    continue;
                };
                if port.queue.is_empty() {
                    port.in_ready = false;
                } else if let Some(set) = self.sets.get_mut(s) {
                    set.ready.push_back(p);
                }
                return Some((p, msg));
            },
        }
    }

    /// Lets blocked senders in while `p`'s queue has room, oldest first.
    pub(crate) fn admit_blocked(&mut self, p: PortIdx) {
        loop {
            let Some(port) = self.ports.get_mut(p) else {
                return;
            };
            if port.queue.len() >= port.qlimit as usize {
                return;
            }
            let Some(conn) = port.extra.as_mut().and_then(|e| e.blocked.pop_front()) else {
                return;
            };
            port.trim_extra();
            let Some(Wait::Send {
                msg, timer, then, ..
            }) = self.conns.get_mut(&conn).and_then(|c| c.wait.take())
            else {
                continue;
            };
            if let Some(t) = timer {
                self.timers.remove(&t);
            }
            self.deliver(p, msg);
            let task = self.task_of(conn);
            match (then, task) {
                (Some((name, timeout)), Some(task)) => self.receive(conn, task, name, timeout),
                _ => self.reply_msg(conn, Ok(()), None),
            }
        }
    }

    /// A timer fired for `conn`.
    pub(crate) fn timed_out(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match c.wait.take() {
            Some(Wait::Receive { target, .. }) => {
                self.unwait_receive(conn, target);
                self.reply_msg(conn, Err(KernError::RcvTimedOut), None);
            }
            Some(Wait::Send { port, msg, .. }) => {
                self.unwait_send(conn, port);
                let returned = self
                    .task_of(conn)
                    .map(|task| self.return_to_sender(task, msg));
                self.reply_msg(conn, Err(KernError::SendTimedOut), returned);
            }
            other => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.wait = other;
                }
            }
        }
    }

    fn unwait_receive(&mut self, conn: ConnId, target: RecvTarget) {
        match target {
            RecvTarget::Port(p) => {
                if let Some(port) = self.ports.get_mut(p) {
                    if let Some(e) = port.extra.as_mut() {
                        e.waiters.retain(|&c| c != conn);
                    }
                    port.trim_extra();
                }
            }
            RecvTarget::Set(s) => {
                if let Some(set) = self.sets.get_mut(s) {
                    set.waiters.retain(|&c| c != conn);
                }
            }
        }
    }

    fn unwait_send(&mut self, conn: ConnId, p: PortIdx) {
        if let Some(port) = self.ports.get_mut(p) {
            if let Some(e) = port.extra.as_mut() {
                e.blocked.retain(|&c| c != conn);
            }
            port.trim_extra();
        }
        // The queue may have room for the next blocked sender now that this one left.
        self.admit_blocked(p);
    }

    /// Cancels whatever `conn` waits for (it closed): a blocked send's message is destroyed.
    pub(crate) fn cancel_wait(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match c.wait.take() {
            Some(Wait::Receive { target, timer }) => {
                if let Some(t) = timer {
                    self.timers.remove(&t);
                }
                self.unwait_receive(conn, target);
            }
            Some(Wait::Send {
                port, msg, timer, ..
            }) => {
                if let Some(t) = timer {
                    self.timers.remove(&t);
                }
                self.destroy_msg(msg);
                self.unwait_send(conn, port);
            }
            Some(Wait::Spawn) | None => {}
        }
    }
}
