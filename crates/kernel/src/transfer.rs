//! Moving rights between a task's space and the kernel: copy-in when a message (or a
//! right in a call) is sent, copy-out when it is received.
//!
//! Copy-in checks every right of a message before it changes anything, so a message is
//! either taken whole or left untouched. All copies and makes happen before any move, so a
//! message may name one send right as the destination (move) and the reply (copy) with a
//! single user reference, as Mach allows.

use std::os::fd::OwnedFd;

use herd_wire::message::PortDescriptor;
use herd_wire::{
    Disposition, KernError, Message, MessageHeader, PortName, ReceivedRight, RightKind,
};

use crate::objects::{KMsg, KRight, PortIdx, Receiver, TaskId};
use crate::space::{Entry, RightKindExt, MAX_UREFS};
use crate::state::Kernel;

/// Where in a message a right sits, which decides the error code for a bad one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Dest,
    Reply,
    Body,
}

impl Slot {
    fn invalid(self) -> KernError {
        match self {
            Slot::Dest => KernError::SendInvalidDest,
            Slot::Reply => KernError::SendInvalidReply,
            Slot::Body => KernError::SendInvalidRight,
        }
    }
}

/// What a name looks like while a message is checked: its rights as they would be after
/// the operations checked so far.
struct Draft {
    name: PortName,
    entry: Entry,
    port_dead: bool,
}

fn consumes(d: Disposition) -> bool {
    matches!(
        d,
        Disposition::MoveSend | Disposition::MoveSendOnce | Disposition::MoveReceive
    )
}

impl Kernel {
    /// Checks that `task` may send each right with its disposition, without changing
    /// anything. `dest` is the port the message goes to, for cycle checks.
    fn check_rights(
        &mut self,
        task: TaskId,
        items: &[(Slot, PortDescriptor)],
        dest: Option<PortIdx>,
    ) -> Result<(), KernError> {
        let mut drafts: Vec<Draft> = Vec::new();
        for pass_consuming in [false, true] {
            for &(slot, d) in items {
                if !d.name.is_valid() {
                    if slot == Slot::Dest {
                        return Err(KernError::SendInvalidDest);
                    }
                    if d.kind != 0 && Disposition::from_u8(d.kind).is_none() {
                        return Err(KernError::SendInvalidType);
                    }
                    continue;
                }
                let disp = Disposition::from_u8(d.kind).ok_or(KernError::SendInvalidType)?;
                if consumes(disp) != pass_consuming {
                    continue;
                }
                if slot == Slot::Dest && disp == Disposition::MoveReceive {
                    return Err(KernError::SendInvalidHeader);
                }
                let i = match drafts.iter().position(|x| x.name == d.name) {
                    Some(i) => i,
                    None => {
                        let entry = self.lookup(task, d.name).ok_or(slot.invalid())?;
                        let port_dead = entry.rights.contains_any(
                            RightKind::SEND | RightKind::SEND_ONCE | RightKind::RECEIVE,
                        ) && self.is_dead(entry.object);
                        drafts.push(Draft {
                            name: d.name,
                            entry,
                            port_dead,
                        });
                        drafts.len() - 1
                    }
                };
                let draft = &mut drafts[i];
                let e = &mut draft.entry;
                let dead = e.rights.contains(RightKind::DEAD_NAME);
                if dead && slot == Slot::Dest {
                    return Err(KernError::SendInvalidDest);
                }
                let ok = match disp {
                    Disposition::CopySend => e.rights.contains(RightKind::SEND) || dead,
                    Disposition::MakeSend | Disposition::MakeSendOnce => {
                        e.rights.contains(RightKind::RECEIVE)
                    }
                    Disposition::MoveSend | Disposition::MoveSendOnce if dead => {
                        e.urefs >= 1 && {
                            e.urefs -= 1;
                            true
                        }
                    }
                    Disposition::MoveSend => {
                        e.rights.contains(RightKind::SEND) && e.urefs >= 1 && {
                            e.urefs -= 1;
                            if e.urefs == 0 {
                                e.rights = e.rights.without(RightKind::SEND);
                            }
                            true
                        }
                    }
                    Disposition::MoveSendOnce => {
                        e.rights.contains(RightKind::SEND_ONCE) && {
                            e.rights = e.rights.without(RightKind::SEND_ONCE);
                            true
                        }
                    }
                    Disposition::MoveReceive => {
                        let object = e.object;
                        e.rights.contains(RightKind::RECEIVE) && {
                            e.rights = e.rights.without(RightKind::RECEIVE);
                            dest.is_none_or(|dp| !self.would_cycle(object, dp))
                        }
                    }
                };
                if !ok {
                    return Err(slot.invalid());
                }
                if slot == Slot::Dest && draft.port_dead {
                    return Err(KernError::SendInvalidDest);
                }
            }
        }
        Ok(())
    }

    /// Takes one right out of `task`'s space as `disp` says. The caller checked it.
    fn take_right(&mut self, task: TaskId, name: PortName, disp: Disposition) -> KRight {
        if !name.is_valid() {
            return if name == PortName::DEAD {
                KRight::Dead
            } else {
                KRight::Null
            };
        }
        let Some(e) = self.lookup(task, name) else {
            return KRight::Null;
        };
        if e.rights.contains(RightKind::DEAD_NAME) {
            if consumes(disp) {
                self.drop_urefs(task, name, 1);
            }
            return KRight::Dead;
        }
        let p = e.object;
        match disp {
            Disposition::CopySend => {
                self.count_send(p);
                KRight::Send(p)
            }
            Disposition::MakeSend => {
                if let Some(port) = self.ports.get_mut(p) {
                    port.mscount = port.mscount.wrapping_add(1);
                }
                self.count_send(p);
                KRight::Send(p)
            }
            Disposition::MakeSendOnce => {
                if let Some(port) = self.ports.get_mut(p) {
                    port.sorights += 1;
                    port.refs += 1;
                }
                KRight::SendOnce(p)
            }
            Disposition::MoveSend => {
                if e.urefs > 1 {
                    self.set_urefs(task, name, e.urefs - 1);
                    self.count_send(p);
                } else {
                    // The name's send right itself travels.
                    self.strip_with_ref(task, name, e, RightKind::SEND);
                }
                KRight::Send(p)
            }
            Disposition::MoveSendOnce => {
                self.strip_with_ref(task, name, e, RightKind::SEND_ONCE);
                KRight::SendOnce(p)
            }
            Disposition::MoveReceive => {
                self.detach_receiver(p);
                if let Some(port) = self.ports.get_mut(p) {
                    port.receiver = Receiver::Kernel;
                }
                self.strip_with_ref(task, name, e, RightKind::RECEIVE);
                KRight::Receive(p)
            }
        }
    }

    /// Counts a new send right of `p` (in the kernel).
    pub(crate) fn count_send(&mut self, p: PortIdx) {
        if let Some(port) = self.ports.get_mut(p) {
            port.srights += 1;
            port.refs += 1;
        }
    }

    fn set_urefs(&mut self, task: TaskId, name: PortName, urefs: u32) {
        if let Some(e) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) {
            e.urefs = urefs;
        }
    }

    /// Drops `n` user references of a dead name, freeing it at zero.
    pub(crate) fn drop_urefs(&mut self, task: TaskId, name: PortName, n: u32) {
        let Some(t) = self.tasks.get_mut(task) else {
            return;
        };
        if let Some(e) = t.space.get_mut(name) {
            e.urefs -= n.min(e.urefs);
            if e.urefs == 0 {
                t.space.remove(name);
            }
        }
    }

    /// Removes `right` from the entry; the reference travels with the right if the name is
    /// freed, otherwise the right needs one of its own. A dead-name request on a freed
    /// send or send-once name is answered with port-deleted.
    fn strip_with_ref(&mut self, task: TaskId, name: PortName, e: Entry, right: RightKind) {
        let rest = e.rights.without(right).without(RightKind::DNREQUEST);
        if rest.is_empty() {
            if e.rights.contains(RightKind::DNREQUEST) {
                self.cancel_dead_name_request(task, name, e.object);
            }
        } else {
            self.port_ref(e.object);
        }
        self.strip_entry(task, name, right);
        if right == RightKind::SEND {
            if let Some(x) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) {
                x.urefs = 0;
            }
        }
    }

    /// Copies a message in from `task`: checks and takes its rights. Returns the
    /// destination port, whether it was named by a send-once right, and the message.
    pub(crate) fn copyin_msg(
        &mut self,
        task: TaskId,
        msg: Message,
        fds: Vec<OwnedFd>,
    ) -> Result<(PortIdx, bool, KMsg), KernError> {
        if fds.len() != msg.ool.len() {
            return Err(KernError::SendInvalidData);
        }
        let h = msg.header;
        let dest_entry = self
            .lookup(task, h.dest.name)
            .ok_or(KernError::SendInvalidDest)?;
        let dest_port = dest_entry.object;
        let mut items: Vec<(Slot, PortDescriptor)> = Vec::with_capacity(msg.ports.len() + 2);
        items.push((Slot::Dest, h.dest));
        items.push((Slot::Reply, h.reply));
        items.extend(msg.ports.iter().map(|d| (Slot::Body, *d)));
        self.check_rights(task, &items, Some(dest_port))?;
        let mut rights = self.take_checked(task, &items).into_iter();
        let dest = rights.next().unwrap_or(KRight::Null);
        let reply = rights.next().unwrap_or(KRight::Null);
        let via_send_once = matches!(dest, KRight::SendOnce(_));
        let ool = msg.ool.iter().copied().zip(fds).collect();
        Ok((
            dest_port,
            via_send_once,
            KMsg {
                id: h.id,
                dest,
                reply,
                ports: rights.collect(),
                ool,
                data: msg.data,
            },
        ))
    }

    /// Takes rights named outside a message (a spawn's initial rights, a notification
    /// request's notify right), all or nothing.
    pub(crate) fn copyin_rights(
        &mut self,
        task: TaskId,
        rights: &[PortDescriptor],
    ) -> Result<Vec<KRight>, KernError> {
        let items: Vec<(Slot, PortDescriptor)> = rights.iter().map(|d| (Slot::Body, *d)).collect();
        self.check_rights(task, &items, None)?;
        Ok(self.take_checked(task, &items))
    }

    /// Takes rights that `check_rights` accepted, copies and makes before moves, and
    /// returns them in the order they were named.
    fn take_checked(&mut self, task: TaskId, items: &[(Slot, PortDescriptor)]) -> Vec<KRight> {
        let mut taken: Vec<Option<KRight>> = (0..items.len()).map(|_| None).collect();
        for pass_consuming in [false, true] {
            for (i, (_, d)) in items.iter().enumerate() {
                let disp = Disposition::from_u8(d.kind);
                if disp.is_some_and(consumes) != pass_consuming {
                    continue;
                }
                taken[i] = Some(match disp {
                    Some(disp) => self.take_right(task, d.name, disp),
                    None if d.name == PortName::DEAD => KRight::Dead,
                    None => KRight::Null,
                });
            }
        }
        taken
            .into_iter()
            .map(|r| r.unwrap_or(KRight::Null))
            .collect()
    }

    /// Gives a right to `task`, returning its name there and the kind received.
    pub(crate) fn copyout_right(&mut self, task: TaskId, right: KRight) -> PortDescriptor {
        let (name, kind) = match right {
            KRight::Null => (PortName::NULL, ReceivedRight::None),
            KRight::Dead => (PortName::DEAD, ReceivedRight::Send),
            KRight::Send(p) => (self.copyout_send(task, p), ReceivedRight::Send),
            KRight::SendOnce(p) => (self.copyout_send_once(task, p), ReceivedRight::SendOnce),
            KRight::Receive(p) => (self.copyout_receive(task, p), ReceivedRight::Receive),
        };
        PortDescriptor {
            name,
            kind: kind as u8,
        }
    }

    fn copyout_send(&mut self, task: TaskId, p: PortIdx) -> PortName {
        let existing = self.tasks.get(task).and_then(|t| t.space.name_of(p));
        if self.is_dead(p) {
            let name = existing.and_then(|n| {
                self.lookup(task, n)?;
                let e = self.tasks.get_mut(task)?.space.get_mut(n)?;
                e.urefs = (e.urefs + 1).min(MAX_UREFS);
                Some(n)
            });
            self.release_send(p);
            return name.unwrap_or(PortName::DEAD);
        }
        if let Some(name) = existing {
            let Some(e) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) else {
                return PortName::NULL;
            };
            if e.rights.contains(RightKind::SEND) {
                // Merges into the name's send right.
                e.urefs = (e.urefs + 1).min(MAX_UREFS);
                if let Some(port) = self.ports.get_mut(p) {
                    port.srights -= 1;
                }
            } else {
                e.rights = e.rights | RightKind::SEND;
                e.urefs = 1;
            }
            // The entry already holds a reference.
            self.port_unref(p);
            return name;
        }
        let entry = Entry {
            object: p,
            urefs: 1,
            rights: RightKind::SEND,
        };
        match self.tasks.get_mut(task).and_then(|t| t.space.insert(entry)) {
            Some(n) => n,
            None => {
                self.release_send(p);
                PortName::NULL
            }
        }
    }

    fn copyout_send_once(&mut self, task: TaskId, p: PortIdx) -> PortName {
        if self.is_dead(p) {
            if let Some(port) = self.ports.get_mut(p) {
                port.sorights -= 1;
            }
            self.port_unref(p);
            return PortName::DEAD;
        }
        let entry = Entry {
            object: p,
            urefs: 1,
            rights: RightKind::SEND_ONCE,
        };
        match self.tasks.get_mut(task).and_then(|t| t.space.insert(entry)) {
            Some(n) => n,
            None => {
                self.release_send_once(p);
                PortName::NULL
            }
        }
    }

    fn copyout_receive(&mut self, task: TaskId, p: PortIdx) -> PortName {
        let existing = self.tasks.get(task).and_then(|t| t.space.name_of(p));
        let name = match existing {
            Some(name) => {
                if let Some(e) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) {
                    e.rights = e.rights | RightKind::RECEIVE;
                }
                self.port_unref(p);
                name
            }
            None => {
                let entry = Entry {
                    object: p,
                    urefs: 0,
                    rights: RightKind::RECEIVE,
                };
                match self.tasks.get_mut(task).and_then(|t| t.space.insert(entry)) {
                    Some(n) => n,
                    None => {
                        self.destroy_receive(p);
                        return PortName::NULL;
                    }
                }
            }
        };
        if let Some(port) = self.ports.get_mut(p) {
            port.receiver = Receiver::Task(task, name);
            port.mscount = 0;
            port.seqno = 0;
        }
        name
    }

    /// Gives a received message to `task`: the destination right is consumed, the other
    /// rights get names in its space.
    pub(crate) fn copyout_msg(
        &mut self,
        task: TaskId,
        port: PortIdx,
        seqno: u64,
        msg: KMsg,
    ) -> (Message, Vec<OwnedFd>) {
        self.copyout_with(task, seqno, msg, |k, dest| {
            let kind = match dest {
                KRight::SendOnce(p) => {
                    if let Some(port) = k.ports.get_mut(p) {
                        port.sorights -= 1;
                    }
                    k.port_unref(p);
                    ReceivedRight::SendOnce
                }
                KRight::Send(p) => {
                    k.release_send(p);
                    ReceivedRight::Send
                }
                other => {
                    k.release(other);
                    ReceivedRight::None
                }
            };
            let name = match k.ports.get(port).map(|p| p.receiver) {
                Some(Receiver::Task(t, n)) if t == task => n,
                _ => PortName::NULL,
            };
            PortDescriptor {
                name,
                kind: kind as u8,
            }
        })
    }

    /// Hands a message that could not be sent back to its sender, rights and all (Mach's
    /// pseudo-receive): the destination right comes back too.
    pub(crate) fn return_to_sender(&mut self, task: TaskId, msg: KMsg) -> (Message, Vec<OwnedFd>) {
        self.copyout_with(task, 0, msg, |k, dest| k.copyout_right(task, dest))
    }

    /// Copies a message out to `task`, with `dest` deciding what becomes of the
    /// destination right and how the header names it.
    fn copyout_with(
        &mut self,
        task: TaskId,
        seqno: u64,
        msg: KMsg,
        dest: impl FnOnce(&mut Self, KRight) -> PortDescriptor,
    ) -> (Message, Vec<OwnedFd>) {
        let dest = dest(self, msg.dest);
        let reply = self.copyout_right(task, msg.reply);
        let ports = msg
            .ports
            .into_iter()
            .map(|r| self.copyout_right(task, r))
            .collect();
        let (ool, fds): (Vec<u64>, Vec<OwnedFd>) = msg.ool.into_iter().unzip();
        let header = MessageHeader {
            dest,
            reply,
            id: msg.id,
            seqno,
        };
        let message = Message {
            header,
            ports,
            ool,
            data: msg.data,
        };
        (message, fds)
    }
}
