//! Tracing by the kernel: a tracer names a port, and the kernel enqueues there a record of
//! every message a traced task sends and receives, and of its spawns and its death.
//!
//! The traced task is not touched: no right of its own is added, moved or wrapped, and its
//! messages take the same path as untraced. The kernel holds one send right to the
//! tracer's port per traced task (counted on the port like any other kernel-held right).
//! Records never wait: when the tracer's queue is at its limit the record is dropped and
//! counted, and the count rides on the next record delivered. A dead tracer port ends the
//! trace (found after calls and task deaths, and at the next record otherwise).
//!
//! Untraced tasks pay one check per message: whether any task is traced at all.

use herd_wire::frame::CallValue;
use herd_wire::message::{Message, PortDescriptor};
use herd_wire::trace::{
    cut_label, Holder, MessageRecord, PortRef, TaskRef, TraceEvent, TraceRecord, MAX_LABEL,
    MAX_TRACED_DATA,
};
use herd_wire::{KernError, PortName, ReceivedRight, RightKind};

use crate::objects::{KMsg, KRight, PortIdx, Receiver, TaskId};
use crate::state::{Kernel, RecvTarget, Wait};

/// The trace of one task.
#[derive(Debug)]
pub(crate) struct TraceState {
    /// The tracer's port; the kernel holds a send right to it for this trace.
    pub port: PortIdx,
    /// Whether tasks this one spawns are traced too.
    pub follow: bool,
    /// Records dropped since the last one delivered.
    pub dropped: u64,
}

/// What a send record needs from the message before copy-in consumes it.
pub(crate) struct SendSnapshot {
    dest: PortDescriptor,
    reply: PortDescriptor,
    ports: Vec<PortDescriptor>,
    ool: Vec<u64>,
    data_len: u32,
    data: Vec<u8>,
    id: u32,
}

impl SendSnapshot {
    /// Copies what a record shows of `msg` (at most [`MAX_TRACED_DATA`] inline bytes).
    pub(crate) fn of(msg: &Message) -> Self {
        SendSnapshot {
            dest: msg.header.dest,
            reply: msg.header.reply,
            ports: msg.ports.clone(),
            ool: msg.ool.clone(),
            data_len: msg.data.len() as u32,
            data: msg.data[..msg.data.len().min(MAX_TRACED_DATA)].to_vec(),
            id: msg.header.id,
        }
    }
}

/// The id introspection tools see for port slot `idx` of generation `generation`: never
/// 0, bit 62 set (port sets have bit 63 instead), the slot in the low 32 bits.
pub(crate) fn port_id(idx: u32, generation: u32) -> u64 {
    (1 << 62) | (((generation & 0x3fff_ffff) as u64) << 32) | idx as u64
}

/// The id of a port set's slot (bit 63 set).
pub(crate) fn set_id(idx: u32, generation: u32) -> u64 {
    (1 << 63) | (((generation & 0x3fff_ffff) as u64) << 32) | idx as u64
}

impl Kernel {
    /// Whether `task` is traced. Untraced kernels answer from one field.
    #[inline]
    pub(crate) fn is_traced(&self, task: TaskId) -> bool {
        !self.traced.is_empty() && self.tasks.get(task).is_some_and(|t| t.trace.is_some())
    }

    /// `PortCall::Trace`.
    pub(crate) fn trace_call(
        &mut self,
        caller: TaskId,
        target: u64,
        tracer: PortName,
        follow: bool,
    ) -> Result<CallValue, KernError> {
        let target = self.permitted_target(caller, target)?;
        if self.tasks.get(target).is_some_and(|t| t.trace.is_some()) {
            // A live trace is never taken over; a dead one is cleared first.
            self.sweep_dead_tracers();
            if self.is_traced(target) {
                return Err(KernError::NameExists);
            }
        }
        let port = self.tracer_right(caller, tracer)?;
        if matches!(self.ports.get(port).map(|p| p.receiver), Some(Receiver::Task(t, _)) if t == target)
        {
            self.release_send(port);
            return Err(KernError::InvalidArgument);
        }
        self.arm_trace(target, port, follow);
        self.trace_waits(target);
        Ok(CallValue::Unit)
    }

    /// Records what the task's threads already wait for, so a tracer that attaches to a
    /// task blocked in an RPC sees the call pending.
    fn trace_waits(&mut self, task: TaskId) {
        let mut waits: Vec<(bool, u32, PortRef, bool)> = Vec::new();
        for c in self.conns.values().filter(|c| c.task == Some(task)) {
            let (sending, id, target) = match &c.wait {
                Some(Wait::Receive { target, .. }) => (false, 0, *target),
                Some(Wait::Send { port, msg, .. }) => (true, msg.id, RecvTarget::Port(*port)),
                _ => continue,
            };
            let in_call = match target {
                RecvTarget::Port(p) if !sending => self
                    .ports
                    .get(p)
                    .is_some_and(|port| port.sorights > 0 && port.srights == 0),
                _ => false,
            };
            let port = match target {
                RecvTarget::Port(p) => {
                    let name = self
                        .tasks
                        .get(task)
                        .and_then(|t| t.space.name_of(p))
                        .unwrap_or(PortName::NULL);
                    let kind = if sending {
                        0
                    } else {
                        ReceivedRight::Receive as u8
                    };
                    self.record_port(name, kind, Some(p))
                }
                RecvTarget::Set(s) => match self.sets.get(s) {
                    Some(set) => PortRef {
                        name: set.name,
                        kind: 0,
                        port_id: set_id(s, set.generation),
                        receiver: Holder::Task(self.task_ref(task)),
                    },
                    None => continue,
                },
            };
            waits.push((sending, id, port, in_call));
        }
        waits.sort_by_key(|w| (w.2.port_id, w.1));
        for (sending, id, port, in_call) in waits {
            if self.record_room(task, false) {
                let event = TraceEvent::Waiting {
                    sending,
                    id,
                    port,
                    in_call,
                };
                self.deliver_record(task, event);
            }
        }
    }

    /// `PortCall::Untrace`.
    pub(crate) fn untrace_call(
        &mut self,
        caller: TaskId,
        target: u64,
    ) -> Result<CallValue, KernError> {
        let target = self.permitted_target(caller, target)?;
        if !self.is_traced(target) {
            return Err(KernError::InvalidArgument);
        }
        self.stop_trace(target);
        Ok(CallValue::Unit)
    }

    /// The task `target` names, if `caller` may trace it (same uid, or the superuser).
    fn permitted_target(&self, caller: TaskId, target: u64) -> Result<TaskId, KernError> {
        let target = TaskId::try_from(target).map_err(|_| KernError::InvalidTask)?;
        let t = self.tasks.get(target).ok_or(KernError::InvalidTask)?;
        let uid = self.tasks.get(caller).map_or(u32::MAX, |c| c.uid);
        if uid != 0 && uid != t.uid {
            return Err(KernError::NotPermitted);
        }
        Ok(target)
    }

    /// Takes a send right to the port `name` names in `task`'s space: a copy of its send
    /// right, or one made from its receive right. The caller owns the right returned.
    pub(crate) fn tracer_right(
        &mut self,
        task: TaskId,
        name: PortName,
    ) -> Result<PortIdx, KernError> {
        let e = self.lookup(task, name).ok_or(KernError::InvalidName)?;
        let p = e.object;
        if e.rights.contains(RightKind::RECEIVE) {
            if let Some(port) = self.ports.get_mut(p) {
                port.mscount = port.mscount.wrapping_add(1);
            }
        } else if !e.rights.contains(RightKind::SEND) {
            return Err(KernError::InvalidRight);
        }
        if self.is_dead(p) {
            return Err(KernError::InvalidName);
        }
        self.count_send(p);
        Ok(p)
    }

    /// Starts tracing `task` to `port`, whose send right the caller hands over.
    pub(crate) fn arm_trace(&mut self, task: TaskId, port: PortIdx, follow: bool) {
        let Some(t) = self.tasks.get_mut(task) else {
            return self.release_send(port);
        };
        let old = t.trace.replace(Box::new(TraceState {
            port,
            follow,
            dropped: 0,
        }));
        *self.tracer_ports.entry(port).or_default() += 1;
        self.traced.insert(task);
        if let Some(old) = old {
            self.forget_tracer_port(old.port);
            self.release_send(old.port);
        }
    }

    /// The trace a child of `spawner` inherits: a new send right to the same port.
    pub(crate) fn inherited_trace(&mut self, spawner: TaskId) -> Option<PortIdx> {
        let t = self.tasks.get(spawner)?.trace.as_deref()?;
        let port = t.port;
        if !t.follow || self.is_dead(port) {
            return None;
        }
        self.count_send(port);
        Some(port)
    }

    /// Stops tracing `task`, releasing the kernel's send right to the tracer's port.
    pub(crate) fn stop_trace(&mut self, task: TaskId) {
        let Some(state) = self.tasks.get_mut(task).and_then(|t| t.trace.take()) else {
            return;
        };
        self.traced.remove(&task);
        self.forget_tracer_port(state.port);
        self.release_send(state.port);
    }

    fn forget_tracer_port(&mut self, port: PortIdx) {
        if let Some(n) = self.tracer_ports.get_mut(&port) {
            *n -= 1;
            if *n == 0 {
                self.tracer_ports.remove(&port);
            }
        }
    }

    /// Ends every trace whose tracer port died.
    pub(crate) fn sweep_dead_tracers(&mut self) {
        if self.traced.is_empty() {
            return;
        }
        let dead: Vec<TaskId> = self
            .traced
            .iter()
            .copied()
            .filter(|&t| {
                self.tasks
                    .get(t)
                    .and_then(|t| t.trace.as_deref())
                    .is_none_or(|s| self.is_dead(s.port))
            })
            .collect();
        for t in dead {
            self.stop_trace(t);
        }
    }

    /// Whether a record about `task` can be delivered now. A full queue counts a drop
    /// (unless `force`: a task's last record may exceed the limit by one); a dead tracer
    /// ends the trace.
    pub(crate) fn record_room(&mut self, task: TaskId, force: bool) -> bool {
        let Some(port) = self
            .tasks
            .get(task)
            .and_then(|t| t.trace.as_deref())
            .map(|s| s.port)
        else {
            return false;
        };
        let Some(p) = self.ports.get(port).filter(|p| !p.is_dead()) else {
            self.stop_trace(task);
            return false;
        };
        if !force && p.queue.len() >= p.qlimit as usize {
            if let Some(s) = self
                .tasks
                .get_mut(task)
                .and_then(|t| t.trace.as_deref_mut())
            {
                s.dropped += 1;
            }
            return false;
        }
        true
    }

    /// Delivers a record about `task` (room was checked).
    fn deliver_record(&mut self, task: TaskId, event: TraceEvent) {
        let Some(state) = self
            .tasks
            .get_mut(task)
            .and_then(|t| t.trace.as_deref_mut())
        else {
            return;
        };
        let port = state.port;
        let dropped = std::mem::take(&mut state.dropped);
        let record = TraceRecord {
            time_ns: self.now.saturating_duration_since(self.started).as_nanos() as u64,
            task: self.task_ref(task),
            dropped,
            event,
        };
        self.count_send(port);
        let msg = KMsg {
            id: record.id(),
            dest: KRight::Send(port),
            reply: KRight::Null,
            ports: Vec::new(),
            ool: Vec::new(),
            data: record.encode(),
        };
        self.deliver(port, msg);
    }

    fn task_ref(&self, task: TaskId) -> TaskRef {
        match self.tasks.get(task) {
            Some(t) => TaskRef {
                task: task as u64,
                pid: t.pid,
                label: cut_label(&t.label, MAX_LABEL).to_string(),
            },
            None => TaskRef {
                task: task as u64,
                ..TaskRef::default()
            },
        }
    }

    /// Who holds `p`'s receive right.
    fn holder(&self, p: PortIdx) -> Holder {
        match self.ports.get(p).map(|port| port.receiver) {
            Some(Receiver::Task(t, _)) => Holder::Task(self.task_ref(t)),
            Some(Receiver::InTransit(_) | Receiver::Kernel) => Holder::InTransit,
            Some(Receiver::Dead) | None => Holder::None,
        }
    }

    fn record_port(&self, name: PortName, kind: u8, p: Option<PortIdx>) -> PortRef {
        let live = p.and_then(|p| Some((p, self.ports.get(p).filter(|x| !x.is_dead())?)));
        match live {
            Some((p, port)) => PortRef {
                name,
                kind,
                port_id: port_id(p, port.generation),
                receiver: self.holder(p),
            },
            None => PortRef {
                name,
                kind,
                ..PortRef::default()
            },
        }
    }

    fn kright_ref(&self, d: &PortDescriptor, r: Option<&KRight>) -> PortRef {
        let p = match r {
            Some(KRight::Send(p) | KRight::SendOnce(p) | KRight::Receive(p)) => Some(*p),
            _ => None,
        };
        self.record_port(d.name, d.kind, p)
    }

    /// Records a send by `task`: `msg` is what copy-in made of it, or `None` when copy-in
    /// refused it with `status`.
    pub(crate) fn trace_send(
        &mut self,
        task: TaskId,
        snap: SendSnapshot,
        msg: Option<(PortIdx, &KMsg)>,
        status: Result<(), KernError>,
        flags: u32,
    ) {
        let record = match msg {
            Some((dest, m)) => MessageRecord {
                dest: self.record_port(snap.dest.name, snap.dest.kind, Some(dest)),
                reply: self.kright_ref(&snap.reply, Some(&m.reply)),
                ports: snap
                    .ports
                    .iter()
                    .zip(m.ports.iter())
                    .map(|(d, r)| self.kright_ref(d, Some(r)))
                    .collect(),
                ..MessageRecord::default()
            },
            None => MessageRecord {
                dest: self.record_port(snap.dest.name, snap.dest.kind, None),
                reply: self.record_port(snap.reply.name, snap.reply.kind, None),
                ports: snap
                    .ports
                    .iter()
                    .map(|d| self.record_port(d.name, d.kind, None))
                    .collect(),
                ..MessageRecord::default()
            },
        };
        let record = MessageRecord {
            id: snap.id,
            status: status.err().map_or(0, |e| e.code()),
            flags,
            ool: snap.ool,
            data_len: snap.data_len,
            data: snap.data,
            ..record
        };
        self.deliver_record(task, TraceEvent::Send(record));
    }

    /// Whether a receive by `task` from port `p` is recorded (and there is room). Records
    /// themselves are never recorded: nothing received from a tracer port is.
    pub(crate) fn traces_receive(&mut self, task: TaskId, p: PortIdx) -> bool {
        self.is_traced(task) && !self.tracer_ports.contains_key(&p) && self.record_room(task, false)
    }

    /// Records that `task` received `msg` (as copied out to it) from port `p`.
    pub(crate) fn trace_receive(&mut self, task: TaskId, p: PortIdx, msg: &Message) {
        let object = |k: &Kernel, name: PortName| -> Option<PortIdx> {
            let e = k.tasks.get(task)?.space.get(name)?;
            (!e.rights.contains(RightKind::DEAD_NAME)).then_some(e.object)
        };
        let d = &msg.header;
        let record = MessageRecord {
            id: d.id,
            seqno: d.seqno,
            dest: self.record_port(d.dest.name, d.dest.kind, Some(p)),
            reply: self.record_port(d.reply.name, d.reply.kind, object(self, d.reply.name)),
            ports: msg
                .ports
                .iter()
                .map(|r| self.record_port(r.name, r.kind, object(self, r.name)))
                .collect(),
            ool: msg.ool.clone(),
            data_len: msg.data.len() as u32,
            data: msg.data[..msg.data.len().min(MAX_TRACED_DATA)].to_vec(),
            ..MessageRecord::default()
        };
        self.deliver_record(task, TraceEvent::Receive(record));
    }

    /// Records that `task` is dying (its last record; it may exceed the queue limit).
    pub(crate) fn trace_exit(&mut self, task: TaskId) {
        if self.is_traced(task) && self.record_room(task, true) {
            self.deliver_record(task, TraceEvent::Exit);
        }
    }

    /// Records that `spawner` started `child`.
    pub(crate) fn trace_spawned(&mut self, spawner: TaskId, child: TaskId) {
        if self.is_traced(spawner) && self.record_room(spawner, true) {
            let event = TraceEvent::Spawned {
                child: self.task_ref(child),
                followed: self.is_traced(child),
            };
            self.deliver_record(spawner, event);
        }
    }
}
