//! Kernel calls other than messaging: Mach's `mach_port_*` calls, spawning tasks, and
//! introspection for tools.

use herd_wire::frame::{notify_id, AllocateKind, CallValue, NotifyKind, PortCall};
use herd_wire::message::PortDescriptor;
use herd_wire::{Disposition, KernError, PortName, RightKind};

use crate::objects::{
    ConnId, DeadNameRequest, KRight, Port, PortSet, Receiver, TaskId, QLIMIT_MAX,
};
use crate::space::{Entry, RightKindExt, MAX_UREFS};
use crate::state::{Action, Kernel, RecvTarget, SpawnOrder, Wait};

type CallResult = Result<CallValue, KernError>;

impl Kernel {
    /// Runs a call; `None` when the answer comes later (spawn).
    pub(crate) fn port_call(
        &mut self,
        conn: ConnId,
        task: TaskId,
        call: PortCall,
    ) -> Option<CallResult> {
        Some(match call {
            PortCall::Allocate(kind) => self.allocate(task, kind),
            PortCall::Deallocate(name) => self.deallocate(task, name),
            PortCall::ModRefs { name, right, delta } => self.mod_refs(task, name, right, delta),
            PortCall::GetRefs { name, right } => self.get_refs(task, name, right),
            PortCall::Destroy(name) => self
                .destroy_name(task, name)
                .map(|()| CallValue::Unit)
                .ok_or(KernError::InvalidName),
            PortCall::Type(name) => self
                .lookup(task, name)
                .map(|e| CallValue::Rights(e.rights))
                .ok_or(KernError::InvalidName),
            PortCall::MakeRight { name, disposition } => self.make_right(task, name, disposition),
            PortCall::MoveMember { member, set } => self.move_member(task, member, set),
            PortCall::RequestNotification {
                name,
                kind,
                sync,
                notify,
                notify_disposition,
            } => self.request_notification(task, name, kind, sync, notify, notify_disposition),
            PortCall::SetQlimit { name, limit } => self.set_qlimit(task, name, limit),
            PortCall::SetMscount { name, mscount } => self.receive_port(task, name).map(|p| {
                if let Some(port) = self.ports.get_mut(p) {
                    port.mscount = mscount;
                }
                CallValue::Unit
            }),
            PortCall::SetSeqno { name, seqno } => self.receive_port(task, name).map(|p| {
                if let Some(port) = self.ports.get_mut(p) {
                    port.seqno = seqno;
                }
                CallValue::Unit
            }),
            PortCall::GetReceiveStatus(name) => self.receive_status(task, name),
            PortCall::GetSetStatus(name) => self.set_status(task, name),
            PortCall::TaskNames(t) => self.task_names(task, if t == 0 { task as u64 } else { t }),
            PortCall::TaskNamesOf(t) => self.task_names(task, t),
            PortCall::SetSpecialPort { name, right } => self.set_special_port(task, name, right),
            PortCall::GetSpecialPort(name) => self.special_port(task, &name),
            PortCall::ListSpecialPorts => {
                Ok(CallValue::Strings(self.special.keys().cloned().collect()))
            }
            PortCall::Tasks => Ok(CallValue::Tasks(self.task_list())),
            PortCall::Stats => Ok(CallValue::Stats(self.stats())),
            PortCall::Spawn {
                program,
                args,
                env,
                rights,
            } => return self.spawn(conn, task, (program, args, env), &rights, None),
            PortCall::SpawnTraced {
                program,
                args,
                env,
                rights,
                tracer,
                follow,
            } => {
                let trace = Some((tracer, follow));
                return self.spawn(conn, task, (program, args, env), &rights, trace);
            }
            PortCall::Trace {
                task: target,
                tracer,
                follow,
            } => self.trace_call(task, target, tracer, follow),
            PortCall::Untrace(target) => self.untrace_call(task, target),
        })
    }

    fn allocate(&mut self, task: TaskId, kind: AllocateKind) -> CallResult {
        let name = match kind {
            AllocateKind::Receive => {
                let p = self
                    .ports
                    .insert_with(|g| Port::new(task, PortName::NULL, g));
                let entry = Entry {
                    object: p,
                    urefs: 0,
                    rights: RightKind::RECEIVE,
                };
                let Some(name) = self.tasks.get_mut(task).and_then(|t| t.space.insert(entry))
                else {
                    self.ports.remove(p);
                    return Err(KernError::ResourceShortage);
                };
                if let Some(port) = self.ports.get_mut(p) {
                    port.receiver = Receiver::Task(task, name);
                }
                name
            }
            AllocateKind::PortSet => {
                let s = self.sets.insert_with(|generation| PortSet {
                    task,
                    name: PortName::NULL,
                    members: Vec::new(),
                    ready: Default::default(),
                    waiters: Default::default(),
                    generation,
                });
                let entry = Entry {
                    object: s,
                    urefs: 1,
                    rights: RightKind::PORT_SET,
                };
                let Some(name) = self.tasks.get_mut(task).and_then(|t| t.space.insert(entry))
                else {
                    self.sets.remove(s);
                    return Err(KernError::ResourceShortage);
                };
                if let Some(set) = self.sets.get_mut(s) {
                    set.name = name;
                }
                name
            }
            AllocateKind::DeadName => {
                let entry = Entry {
                    object: u32::MAX,
                    urefs: 1,
                    rights: RightKind::DEAD_NAME,
                };
                self.tasks
                    .get_mut(task)
                    .and_then(|t| t.space.insert(entry))
                    .ok_or(KernError::ResourceShortage)?
            }
        };
        Ok(CallValue::Name(name))
    }

    fn deallocate(&mut self, task: TaskId, name: PortName) -> CallResult {
        let e = self.lookup(task, name).ok_or(KernError::InvalidName)?;
        let right = if e.rights.contains(RightKind::SEND) {
            RightKind::SEND
        } else if e.rights.contains(RightKind::SEND_ONCE) {
            RightKind::SEND_ONCE
        } else if e.rights.contains(RightKind::DEAD_NAME) {
            RightKind::DEAD_NAME
        } else {
            return Err(KernError::InvalidRight);
        };
        self.mod_refs(task, name, right, -1)
    }

    fn mod_refs(
        &mut self,
        task: TaskId,
        name: PortName,
        right: RightKind,
        delta: i32,
    ) -> CallResult {
        let e = self.lookup(task, name).ok_or(KernError::InvalidName)?;
        if right.0.count_ones() != 1 || right.contains(RightKind::DNREQUEST) {
            return Err(KernError::InvalidValue);
        }
        if !e.rights.contains(right) {
            return Err(KernError::InvalidRight);
        }
        if delta == 0 {
            return Ok(CallValue::Unit);
        }
        match right {
            RightKind::SEND | RightKind::DEAD_NAME => {
                let now = e.urefs as i64 + delta as i64;
                if now < 0 {
                    return Err(KernError::InvalidValue);
                }
                if now > MAX_UREFS as i64 {
                    return Err(KernError::UrefsOverflow);
                }
                if now > 0 {
                    if let Some(x) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) {
                        x.urefs = now as u32;
                    }
                } else if right == RightKind::DEAD_NAME {
                    self.drop_urefs(task, name, e.urefs);
                } else {
                    self.drop_send_right(task, name, e);
                }
            }
            _ if delta != -1 => return Err(KernError::InvalidValue),
            RightKind::SEND_ONCE => {
                if e.rights.contains(RightKind::DNREQUEST) {
                    self.cancel_dead_name_request(task, name, e.object);
                }
                if let Some(t) = self.tasks.get_mut(task) {
                    t.space.remove(name);
                }
                self.release_send_once(e.object);
            }
            RightKind::RECEIVE => {
                if e.rights.contains(RightKind::SEND) {
                    self.port_ref(e.object);
                }
                self.strip_entry(task, name, RightKind::RECEIVE);
                self.destroy_receive_from_space(e.object);
            }
            RightKind::PORT_SET => {
                if let Some(t) = self.tasks.get_mut(task) {
                    t.space.remove(name);
                }
                self.destroy_set(e.object);
            }
            _ => return Err(KernError::InvalidValue),
        }
        Ok(CallValue::Unit)
    }

    /// The name's last send reference is gone: the send right goes.
    fn drop_send_right(&mut self, task: TaskId, name: PortName, e: Entry) {
        let p = e.object;
        let freed = e
            .rights
            .without(RightKind::SEND)
            .without(RightKind::DNREQUEST)
            .is_empty();
        if freed && e.rights.contains(RightKind::DNREQUEST) {
            self.cancel_dead_name_request(task, name, p);
        }
        self.strip_entry(task, name, RightKind::SEND);
        if let Some(x) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) {
            x.urefs = 0;
        }
        if let Some(port) = self.ports.get_mut(p) {
            port.srights -= 1;
        }
        self.check_no_senders(p);
        if freed {
            self.port_unref(p);
        }
    }

    fn get_refs(&mut self, task: TaskId, name: PortName, right: RightKind) -> CallResult {
        let e = self.lookup(task, name).ok_or(KernError::InvalidName)?;
        if right.0.count_ones() != 1 {
            return Err(KernError::InvalidValue);
        }
        let n = if !e.rights.contains(right) {
            0
        } else if right == RightKind::SEND || right == RightKind::DEAD_NAME {
            e.urefs
        } else {
            1
        };
        Ok(CallValue::Count(n))
    }

    fn make_right(&mut self, task: TaskId, name: PortName, disposition: Disposition) -> CallResult {
        let e = self.lookup(task, name).ok_or(KernError::InvalidName)?;
        let p = e.object;
        match disposition {
            Disposition::MakeSend | Disposition::CopySend => {
                let need = if disposition == Disposition::MakeSend {
                    RightKind::RECEIVE
                } else {
                    RightKind::SEND
                };
                if !e.rights.contains(need) {
                    return Err(KernError::InvalidRight);
                }
                if e.urefs >= MAX_UREFS {
                    return Err(KernError::UrefsOverflow);
                }
                let had_send = e.rights.contains(RightKind::SEND);
                if let Some(x) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) {
                    x.rights = x.rights | RightKind::SEND;
                    x.urefs += 1;
                }
                if let Some(port) = self.ports.get_mut(p) {
                    if disposition == Disposition::MakeSend {
                        port.mscount = port.mscount.wrapping_add(1);
                    }
                    if !had_send {
                        port.srights += 1;
                    }
                }
                Ok(CallValue::Name(name))
            }
            Disposition::MakeSendOnce => {
                if !e.rights.contains(RightKind::RECEIVE) {
                    return Err(KernError::InvalidRight);
                }
                if let Some(port) = self.ports.get_mut(p) {
                    port.sorights += 1;
                    port.refs += 1;
                }
                Ok(CallValue::Name(
                    self.copyout_right(task, KRight::SendOnce(p)).name,
                ))
            }
            _ => Err(KernError::InvalidValue),
        }
    }

    /// The port behind a receive right of `task`.
    pub(crate) fn receive_port(&mut self, task: TaskId, name: PortName) -> Result<u32, KernError> {
        let e = self.lookup(task, name).ok_or(KernError::InvalidName)?;
        if !e.rights.contains(RightKind::RECEIVE) {
            return Err(KernError::InvalidRight);
        }
        Ok(e.object)
    }

    fn move_member(&mut self, task: TaskId, member: PortName, set: PortName) -> CallResult {
        let p = self.receive_port(task, member)?;
        let s = if set == PortName::NULL {
            None
        } else {
            let e = self.lookup(task, set).ok_or(KernError::InvalidName)?;
            if !e.rights.contains(RightKind::PORT_SET) {
                return Err(KernError::InvalidRight);
            }
            Some(e.object)
        };
        self.leave_set(p);
        // Threads receiving directly from the port learn it moved into a set.
        let waiters = self.take_waiters(p);
        if let Some(s) = s {
            for conn in waiters {
                self.end_receive_wait(conn, Err(KernError::RcvPortChanged));
            }
            let queued = match self.ports.get_mut(p) {
                Some(port) => {
                    port.pset = Some(s);
                    port.trim_extra();
                    !port.queue.is_empty()
                }
                None => false,
            };
            if let Some(set) = self.sets.get_mut(s) {
                set.members.push(p);
            }
            if queued {
                if let Some(port) = self.ports.get_mut(p) {
                    port.in_ready = true;
                }
                if let Some(set) = self.sets.get_mut(s) {
                    set.ready.push_back(p);
                }
                self.feed_set_waiters(s);
            }
        } else if let Some(port) = self.ports.get_mut(p) {
            port.extra_mut().waiters = waiters;
        }
        Ok(CallValue::Unit)
    }

    /// Hands queued messages of a set's members to threads waiting on the set.
    fn feed_set_waiters(&mut self, s: u32) {
        while let Some(conn) = self.sets.get_mut(s).and_then(|set| set.waiters.pop_front()) {
            let Some((p, msg)) = self.dequeue(RecvTarget::Set(s)) else {
                if let Some(set) = self.sets.get_mut(s) {
                    set.waiters.push_front(conn);
                }
                return;
            };
            self.give(conn, p, msg);
            self.admit_blocked(p);
        }
    }

    fn request_notification(
        &mut self,
        task: TaskId,
        name: PortName,
        kind: NotifyKind,
        sync: u32,
        notify: PortName,
        notify_disposition: Disposition,
    ) -> CallResult {
        let e = self.lookup(task, name).ok_or(KernError::InvalidName)?;
        let cancel = notify == PortName::NULL;
        if !cancel
            && !matches!(
                notify_disposition,
                Disposition::MakeSendOnce | Disposition::MoveSendOnce
            )
        {
            return Err(KernError::InvalidValue);
        }
        let p = e.object;
        match kind {
            NotifyKind::NoSenders | NotifyKind::PortDestroyed => {
                if !e.rights.contains(RightKind::RECEIVE) {
                    return Err(KernError::InvalidRight);
                }
                if kind == NotifyKind::PortDestroyed && sync != 0 {
                    return Err(KernError::InvalidValue);
                }
            }
            NotifyKind::DeadName => {
                if !e
                    .rights
                    .contains_any(RightKind::SEND | RightKind::SEND_ONCE | RightKind::DEAD_NAME)
                {
                    return Err(KernError::InvalidRight);
                }
                if e.rights.contains(RightKind::DEAD_NAME) && !cancel && sync == 0 {
                    return Err(KernError::InvalidArgument);
                }
            }
        }
        let so = if cancel {
            None
        } else {
            match self.copyin_rights(task, &[PortDescriptor::send(notify, notify_disposition)])?[..]
            {
                [KRight::SendOnce(so)] => Some(so),
                _ => return Err(KernError::InvalidCapability),
            }
        };
        let previous = match kind {
            NotifyKind::NoSenders => {
                let prev = self
                    .ports
                    .get_mut(p)
                    .and_then(|port| {
                        let ex = port.extra_mut();
                        let prev = ex.nsrequest.take();
                        ex.nsrequest = so.map(|so| (sync, so));
                        port.trim_extra();
                        prev
                    })
                    .map(|(_, so)| so);
                let fire_now = self
                    .ports
                    .get(p)
                    .is_some_and(|port| port.srights == 0 && sync <= port.mscount);
                if fire_now {
                    self.check_no_senders(p);
                }
                prev
            }
            NotifyKind::PortDestroyed => self.ports.get_mut(p).and_then(|port| {
                let ex = port.extra_mut();
                let prev = std::mem::replace(&mut ex.pdrequest, so);
                port.trim_extra();
                prev
            }),
            NotifyKind::DeadName => {
                if e.rights.contains(RightKind::DEAD_NAME) {
                    // Already dead: tell at once, with the extra reference.
                    if let Some(so) = so {
                        if let Some(x) =
                            self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name))
                        {
                            x.urefs = x.urefs.saturating_add(1);
                        }
                        self.notify_via(
                            so,
                            notify_id::DEAD_NAME,
                            name.0.to_le_bytes().to_vec(),
                            Vec::new(),
                        );
                    }
                    None
                } else {
                    self.swap_dead_name_request(task, name, p, so)
                }
            }
        };
        let prev_name = match previous {
            Some(so) => self.copyout_right(task, KRight::SendOnce(so)).name,
            None => PortName::NULL,
        };
        Ok(CallValue::Name(prev_name))
    }

    fn swap_dead_name_request(
        &mut self,
        task: TaskId,
        name: PortName,
        p: u32,
        so: Option<u32>,
    ) -> Option<u32> {
        let port = self.ports.get_mut(p)?;
        let ex = port.extra_mut();
        let prev = ex
            .dnrequests
            .iter()
            .position(|r| r.task == task && r.name == name)
            .map(|i| ex.dnrequests.swap_remove(i).notify);
        if let Some(notify) = so {
            ex.dnrequests.push(DeadNameRequest { task, name, notify });
        }
        port.trim_extra();
        if let Some(x) = self.tasks.get_mut(task).and_then(|t| t.space.get_mut(name)) {
            x.rights = if so.is_some() {
                x.rights | RightKind::DNREQUEST
            } else {
                x.rights.without(RightKind::DNREQUEST)
            };
        }
        prev
    }

    fn set_qlimit(&mut self, task: TaskId, name: PortName, limit: u32) -> CallResult {
        let p = self.receive_port(task, name)?;
        if limit == 0 || limit > QLIMIT_MAX as u32 {
            return Err(KernError::InvalidValue);
        }
        if let Some(port) = self.ports.get_mut(p) {
            port.qlimit = limit as u16;
        }
        self.admit_blocked(p);
        Ok(CallValue::Unit)
    }

    /// `Spawn`, or `SpawnTraced` when `trace` names a tracer port (and whether to follow).
    fn spawn(
        &mut self,
        conn: ConnId,
        task: TaskId,
        (program, args, env): (String, Vec<String>, Vec<String>),
        rights: &[PortDescriptor],
        trace: Option<(PortName, bool)>,
    ) -> Option<CallResult> {
        let uid = self.tasks.get(task).map_or(u32::MAX, |t| t.uid);
        if uid != 0 && uid != self.kernel_uid {
            return Some(Err(KernError::NotPermitted));
        }
        if env.iter().any(|e| !e.contains('=')) || program.is_empty() {
            return Some(Err(KernError::InvalidArgument));
        }
        // The child's tracer: asked for, or inherited from a spawner traced with follow.
        let tracer = match trace {
            Some((name, follow)) => match self.tracer_right(task, name) {
                Ok(p) => Some((p, follow)),
                Err(e) => return Some(Err(e)),
            },
            None => self.inherited_trace(task).map(|p| (p, true)),
        };
        let taken = match self.copyin_rights(task, rights) {
            Ok(t) => t,
            Err(e) => {
                if let Some((p, _)) = tracer {
                    self.release_send(p);
                }
                return Some(Err(e));
            }
        };
        // Tools show the name the program was started as (argv[0]), as ps does.
        let shown = args.first().filter(|a| !a.is_empty()).unwrap_or(&program);
        let label = shown.rsplit('/').next().unwrap_or(shown).to_string();
        let child_task = self.create_task(0, uid, label);
        if let Some((p, follow)) = tracer {
            self.arm_trace(child_task, p, follow);
        }
        let ports = taken
            .into_iter()
            .map(|r| self.copyout_right(child_task, r).name)
            .collect();
        let child = self.spawn_conn(conn, child_task);
        let token = self.tasks.get(child_task).map_or(0, |t| t.token);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.wait = Some(Wait::Spawn);
        }
        self.actions.push(Action::Spawn(SpawnOrder {
            child,
            task: child_task,
            token,
            program,
            args,
            env,
            ports,
        }));
        None
    }
}
