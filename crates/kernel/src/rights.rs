//! Rights as the kernel counts them: references, lazy dead names, releasing rights,
//! notifications, and the death of ports and port sets.
//!
//! A port slot lives while anything refers to it (names in spaces, rights in the kernel);
//! after its receive right is destroyed it is dead, and names that still point at it become
//! dead names the next time they are looked up.

use herd_wire::frame::notify_id;
use herd_wire::{KernError, PortName, RightKind};

use crate::objects::{ConnId, KMsg, KRight, NotifyRight, PortIdx, Receiver, SetIdx, TaskId};
use crate::space::{Entry, RightKindExt};
use crate::state::{Kernel, RecvTarget, Wait};

impl Kernel {
    /// Adds a reference to a port slot.
    pub(crate) fn port_ref(&mut self, p: PortIdx) {
        if let Some(port) = self.ports.get_mut(p) {
            port.refs += 1;
        }
    }

    /// Drops a reference; frees the slot of a dead port when none is left.
    pub(crate) fn port_unref(&mut self, p: PortIdx) {
        let free = match self.ports.get_mut(p) {
            Some(port) => {
                port.refs -= 1;
                port.refs == 0 && port.is_dead()
            }
            None => false,
        };
        if free {
            self.ports.remove(p);
        }
    }

    pub(crate) fn is_dead(&self, p: PortIdx) -> bool {
        self.ports.get(p).is_none_or(|port| port.is_dead())
    }

    /// The entry under `name`, turning send and send-once rights of a dead port into a
    /// dead name first (Mach does this lazily too).
    pub(crate) fn lookup(&mut self, task: TaskId, name: PortName) -> Option<Entry> {
        let entry = *self.tasks.get(task)?.space.get(name)?;
        if !entry
            .rights
            .contains_any(RightKind::SEND | RightKind::SEND_ONCE)
            || !self.is_dead(entry.object)
        {
            return Some(entry);
        }
        let p = entry.object;
        let is_send = entry.rights.contains(RightKind::SEND);
        if let Some(port) = self.ports.get_mut(p) {
            if is_send {
                port.srights -= 1;
            } else {
                port.sorights -= 1;
            }
        }
        let urefs = if is_send { entry.urefs } else { 1 };
        let space = &mut self.tasks.get_mut(task)?.space;
        space.unindex_port(name);
        let e = space.get_mut(name)?;
        *e = Entry {
            object: u32::MAX,
            urefs,
            rights: RightKind::DEAD_NAME,
        };
        let converted = *e;
        self.port_unref(p);
        Some(converted)
    }

    /// Releases a right held by the kernel.
    pub(crate) fn release(&mut self, right: KRight) {
        match right {
            KRight::Null | KRight::Dead => {}
            KRight::Send(p) => self.release_send(p),
            KRight::SendOnce(p) => self.release_send_once(p),
            KRight::Receive(p) => self.destroy_receive(p),
        }
    }

    /// Drops one send right (not a user reference: a whole right) of `p`.
    pub(crate) fn release_send(&mut self, p: PortIdx) {
        if let Some(port) = self.ports.get_mut(p) {
            port.srights -= 1;
        }
        self.check_no_senders(p);
        self.port_unref(p);
    }

    /// Destroys a send-once right unused: its port gets a send-once notification.
    pub(crate) fn release_send_once(&mut self, p: PortIdx) {
        self.notify_via(p, notify_id::SEND_ONCE, Vec::new(), Vec::new());
    }

    /// Sends a notification through the send-once right `so` (consuming it).
    pub(crate) fn notify_via(
        &mut self,
        so: NotifyRight,
        id: u32,
        data: Vec<u8>,
        ports: Vec<KRight>,
    ) {
        let msg = KMsg {
            id,
            dest: KRight::SendOnce(so),
            reply: KRight::Null,
            ports,
            ool: Vec::new(),
            data,
        };
        self.deliver(so, msg);
    }

    /// Fires the no-senders notification if `p` has no send rights left and one is asked for.
    pub(crate) fn check_no_senders(&mut self, p: PortIdx) {
        let Some(port) = self.ports.get_mut(p) else {
            return;
        };
        if port.is_dead() || port.srights != 0 {
            return;
        }
        let Some(extra) = port.extra.as_mut() else {
            return;
        };
        let Some((_, so)) = extra.nsrequest.take() else {
            return;
        };
        let mscount = port.mscount;
        port.trim_extra();
        self.notify_via(
            so,
            notify_id::NO_SENDERS,
            mscount.to_le_bytes().to_vec(),
            Vec::new(),
        );
    }

    /// Sends port-deleted for a dead-name request on `(task, name)` if there is one: the
    /// name no longer holds a right to `p`.
    pub(crate) fn cancel_dead_name_request(&mut self, task: TaskId, name: PortName, p: PortIdx) {
        let Some(extra) = self.ports.get_mut(p).and_then(|port| port.extra.as_mut()) else {
            return;
        };
        let Some(i) = extra
            .dnrequests
            .iter()
            .position(|r| r.task == task && r.name == name)
        else {
            return;
        };
        let req = extra.dnrequests.swap_remove(i);
        if let Some(port) = self.ports.get_mut(p) {
            port.trim_extra();
        }
        self.notify_via(
            req.notify,
            notify_id::PORT_DELETED,
            name.0.to_le_bytes().to_vec(),
            Vec::new(),
        );
    }

    /// Removes `rights` from the entry under `name`, freeing the name when nothing is left.
    /// Does no counting: callers adjust rights and references.
    pub(crate) fn strip_entry(&mut self, task: TaskId, name: PortName, rights: RightKind) {
        let Some(t) = self.tasks.get_mut(task) else {
            return;
        };
        let Some(e) = t.space.get_mut(name) else {
            return;
        };
        e.rights = e.rights.without(rights);
        if e.rights.is_empty() {
            t.space.remove(name);
        } else if !e.rights.contains_any(RightKind::SEND | RightKind::RECEIVE) {
            t.space.unindex_port(name);
        }
    }

    /// The receive right of `p` is being destroyed: hand it to its port-destroyed backup if
    /// one is registered (and that makes no cycle), or kill the port.
    pub(crate) fn destroy_receive(&mut self, p: PortIdx) {
        let backup = self
            .ports
            .get_mut(p)
            .and_then(|port| port.extra.as_mut())
            .and_then(|e| e.pdrequest.take());
        if let Some(so) = backup {
            if !self.is_dead(so) && !self.would_cycle(p, so) {
                self.detach_receiver(p);
                if let Some(port) = self.ports.get_mut(p) {
                    port.receiver = Receiver::Kernel;
                    port.trim_extra();
                }
                self.notify_via(
                    so,
                    notify_id::PORT_DESTROYED,
                    Vec::new(),
                    vec![KRight::Receive(p)],
                );
                return;
            }
            self.release_send_once(so);
        }
        self.kill_port(p);
    }

    /// Whether moving the receive right of `p` into a message for `dest` would make the
    /// port unreachable (it would end up inside its own queue, directly or through a chain
    /// of receive rights in transit).
    pub(crate) fn would_cycle(&self, p: PortIdx, dest: PortIdx) -> bool {
        let mut cur = dest;
        for _ in 0..=self.ports.len() {
            if cur == p {
                return true;
            }
            match self.ports.get(cur).map(|port| port.receiver) {
                Some(Receiver::InTransit(next)) => cur = next,
                _ => return false,
            }
        }
        true
    }

    /// Takes `p` out of its receiver's hands: out of its set, and its waiting receivers are
    /// told the port is gone.
    pub(crate) fn detach_receiver(&mut self, p: PortIdx) {
        self.leave_set(p);
        for conn in self.take_waiters(p) {
            self.end_receive_wait(conn, Err(KernError::RcvPortDied));
        }
    }

    /// Takes the connections waiting to receive directly from `p`.
    pub(crate) fn take_waiters(&mut self, p: PortIdx) -> std::collections::VecDeque<ConnId> {
        self.ports
            .get_mut(p)
            .and_then(|port| port.extra.as_mut())
            .map(|e| std::mem::take(&mut e.waiters))
            .unwrap_or_default()
    }

    /// Kills a port: receivers and blocked senders are told, queued messages destroyed,
    /// dead-name requests answered, and names elsewhere become dead names.
    pub(crate) fn kill_port(&mut self, p: PortIdx) {
        self.detach_receiver(p);
        let Some(port) = self.ports.get_mut(p) else {
            return;
        };
        port.receiver = Receiver::Dead;
        let queue = std::mem::take(&mut port.queue);
        let extra = port.extra.take();
        for msg in queue {
            self.destroy_msg(msg);
        }
        if let Some(extra) = extra {
            for conn in extra.blocked {
                let Some(c) = self.conns.get_mut(&conn) else {
                    continue;
                };
                let task = c.task;
                if let Some(Wait::Send { msg, timer, .. }) = c.wait.take() {
                    if let Some(t) = timer {
                        self.timers.remove(&t);
                    }
                    // As Mach does, the message goes back to its sender, rights and all.
                    let returned = task.map(|task| self.return_to_sender(task, msg));
                    self.reply_msg(conn, Err(KernError::SendInvalidDest), returned);
                }
            }
            for req in extra.dnrequests {
                self.fire_dead_name(req.task, req.name, p, req.notify);
            }
            if let Some((_, so)) = extra.nsrequest {
                self.release_send_once(so);
            }
            if let Some(so) = extra.pdrequest {
                self.release_send_once(so);
            }
        }
        self.port_unref(p);
    }

    /// Turns `(task, name)` into a dead name with one extra reference and tells `notify`.
    fn fire_dead_name(&mut self, task: TaskId, name: PortName, p: PortIdx, notify: NotifyRight) {
        let holds = self
            .tasks
            .get(task)
            .and_then(|t| t.space.get(name))
            .is_some_and(|e| e.object == p);
        if holds {
            self.lookup(task, name);
            if let Some(e) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) {
                e.urefs = e.urefs.saturating_add(1);
            }
        }
        self.notify_via(
            notify,
            notify_id::DEAD_NAME,
            name.0.to_le_bytes().to_vec(),
            Vec::new(),
        );
    }

    /// Destroys a message: its rights are released and its regions closed.
    pub(crate) fn destroy_msg(&mut self, msg: KMsg) {
        match msg.dest {
            KRight::Send(p) => self.release_send(p),
            KRight::SendOnce(p) => {
                if let Some(port) = self.ports.get_mut(p) {
                    port.sorights -= 1;
                }
                self.port_unref(p);
            }
            other => self.release(other),
        }
        self.release(msg.reply);
        for r in msg.ports {
            self.release(r);
        }
    }

    /// Removes `p` from its port set, if any.
    pub(crate) fn leave_set(&mut self, p: PortIdx) {
        let Some(port) = self.ports.get_mut(p) else {
            return;
        };
        let Some(s) = port.pset.take() else { return };
        let was_ready = std::mem::replace(&mut port.in_ready, false);
        if let Some(set) = self.sets.get_mut(s) {
            set.members.retain(|&m| m != p);
            if was_ready {
                set.ready.retain(|&m| m != p);
            }
        }
    }

    /// Destroys a port set: members leave it, waiters are told it is gone.
    pub(crate) fn destroy_set(&mut self, s: SetIdx) {
        let Some(set) = self.sets.remove(s) else {
            return;
        };
        for p in set.members {
            if let Some(port) = self.ports.get_mut(p) {
                port.pset = None;
                port.in_ready = false;
            }
        }
        for conn in set.waiters {
            self.end_receive_wait(conn, Err(KernError::RcvPortDied));
        }
    }

    /// Removes a connection from whatever it waits on and answers it with `result`
    /// (no message).
    pub(crate) fn end_receive_wait(&mut self, conn: ConnId, result: Result<(), KernError>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            if let Some(Wait::Receive { timer, .. }) = c.wait.take() {
                if let Some(t) = timer {
                    self.timers.remove(&t);
                }
                self.reply_msg(conn, result, None);
            }
        }
    }

    /// Destroys every right a dead task held.
    pub(crate) fn task_died(&mut self, task: TaskId) {
        let Some(t) = self.tasks.get(task) else {
            return;
        };
        tracing::debug!(task, pid = t.pid, label = %t.label, "task died");
        let entries: Vec<(PortName, Entry)> = t.space.iter().map(|(n, e)| (n, *e)).collect();
        for (name, _) in &entries {
            self.destroy_name(task, *name);
        }
        self.forget_task(task);
    }

    /// Removes every right under `name` (Mach's `mach_port_destroy`).
    pub(crate) fn destroy_name(&mut self, task: TaskId, name: PortName) -> Option<()> {
        let e = self.lookup(task, name)?;
        let r = e.rights;
        if r.contains(RightKind::PORT_SET) {
            self.tasks.get_mut(task)?.space.remove(name);
            self.destroy_set(e.object);
            return Some(());
        }
        if r.contains(RightKind::DEAD_NAME) {
            self.tasks.get_mut(task)?.space.remove(name);
            return Some(());
        }
        let p = e.object;
        if r.contains(RightKind::DNREQUEST) {
            self.cancel_dead_name_request(task, name, p);
        }
        self.tasks.get_mut(task)?.space.remove(name);
        if r.contains(RightKind::SEND) {
            if let Some(port) = self.ports.get_mut(p) {
                port.srights -= 1;
            }
        }
        if r.contains(RightKind::RECEIVE) {
            // The entry's reference becomes the receive right's; no no-senders
            // notification for a port that is being destroyed.
            self.destroy_receive_from_space(p);
        } else if r.contains(RightKind::SEND_ONCE) {
            self.release_send_once(p);
        } else {
            self.check_no_senders(p);
            self.port_unref(p);
        }
        Some(())
    }

    /// Destroys a receive right that was held in a space (its entry reference becomes the
    /// in-transit reference `destroy_receive` expects).
    pub(crate) fn destroy_receive_from_space(&mut self, p: PortIdx) {
        if let Some(port) = self.ports.get_mut(p) {
            port.receiver = Receiver::Kernel;
        }
        self.destroy_receive(p);
    }

    /// What a receive target is, for a task's name.
    pub(crate) fn recv_target(
        &mut self,
        task: TaskId,
        name: PortName,
    ) -> Result<RecvTarget, KernError> {
        let e = self.lookup(task, name).ok_or(KernError::RcvInvalidName)?;
        if e.rights.contains(RightKind::PORT_SET) {
            return Ok(RecvTarget::Set(e.object));
        }
        if !e.rights.contains(RightKind::RECEIVE) {
            return Err(KernError::RcvInvalidName);
        }
        if self.ports.get(e.object).is_some_and(|p| p.pset.is_some()) {
            return Err(KernError::RcvInSet);
        }
        Ok(RecvTarget::Port(e.object))
    }
}
