//! Introspection for tools: a port's queue and notification state, a set's members, a
//! task's names with what each points at, the task list, and whole-kernel counters.

use herd_wire::frame::{CallValue, KernelStats, NameInfo, PortStatus, TaskInfo};
use herd_wire::{KernError, PortName, RightKind};

use crate::objects::{Receiver, TaskId};
use crate::space::{Entry, RightKindExt};
use crate::state::{Kernel, Wait};
use crate::trace::{port_id, set_id};

type CallResult = Result<CallValue, KernError>;

impl Kernel {
    pub(crate) fn receive_status(&mut self, task: TaskId, name: PortName) -> CallResult {
        let p = self.receive_port(task, name)?;
        let port = self.ports.get(p).ok_or(KernError::InvalidName)?;
        let pset = port
            .pset
            .and_then(|s| self.sets.get(s))
            .map_or(PortName::NULL, |s| s.name);
        let ex = port.extra.as_deref();
        Ok(CallValue::Status(PortStatus {
            pset,
            seqno: port.seqno,
            mscount: port.mscount,
            qlimit: port.qlimit as u32,
            msgcount: port.queue.len() as u32,
            sorights: port.sorights,
            srights: port.srights > 0,
            pdrequest: ex.is_some_and(|e| e.pdrequest.is_some()),
            nsrequest: ex.is_some_and(|e| e.nsrequest.is_some()),
            blocked_senders: ex.map_or(0, |e| e.blocked.len() as u32),
            waiting_receivers: ex.map_or(0, |e| e.waiters.len() as u32),
        }))
    }

    pub(crate) fn set_status(&mut self, task: TaskId, name: PortName) -> CallResult {
        let e = self.lookup(task, name).ok_or(KernError::InvalidName)?;
        if !e.rights.contains(RightKind::PORT_SET) {
            return Err(KernError::InvalidRight);
        }
        let set = self.sets.get(e.object).ok_or(KernError::InvalidName)?;
        let names = set
            .members
            .iter()
            .filter_map(|&p| match self.ports.get(p)?.receiver {
                Receiver::Task(_, n) => Some(n),
                _ => None,
            })
            .collect();
        Ok(CallValue::Names(names))
    }

    pub(crate) fn task_names(&mut self, caller: TaskId, target: u64) -> CallResult {
        let target = TaskId::try_from(target).map_err(|_| KernError::InvalidTask)?;
        let caller_uid = self.tasks.get(caller).map_or(u32::MAX, |t| t.uid);
        let t = self.tasks.get(target).ok_or(KernError::InvalidTask)?;
        if caller_uid != 0 && caller_uid != t.uid {
            return Err(KernError::NotPermitted);
        }
        let infos = t
            .space
            .iter()
            .map(|(name, e)| self.name_info(name, e))
            .collect();
        Ok(CallValue::NameInfos(infos))
    }

    fn name_info(&self, name: PortName, e: &Entry) -> NameInfo {
        let mut info = NameInfo {
            name,
            rights: e.rights,
            urefs: if e
                .rights
                .contains_any(RightKind::SEND | RightKind::DEAD_NAME)
            {
                e.urefs
            } else {
                1
            },
            port_id: 0,
            receiver_task: 0,
            receiver_pid: 0,
            queued: 0,
        };
        if e.rights.contains(RightKind::PORT_SET) {
            if let Some(s) = self.sets.get(e.object) {
                info.port_id = set_id(e.object, s.generation);
                info.queued = s
                    .members
                    .iter()
                    .filter_map(|&p| self.ports.get(p))
                    .map(|p| p.queue.len() as u32)
                    .sum();
            }
            return info;
        }
        let Some(port) = self
            .ports
            .get(e.object)
            .filter(|_| !e.rights.contains(RightKind::DEAD_NAME))
        else {
            return info;
        };
        if port.is_dead() {
            info.rights = RightKind::DEAD_NAME;
            return info;
        }
        info.port_id = port_id(e.object, port.generation);
        info.queued = port.queue.len() as u32;
        if let Receiver::Task(t, _) = port.receiver {
            info.receiver_task = t as u64;
            info.receiver_pid = self.tasks.get(t).map_or(0, |t| t.pid);
        }
        info
    }

    pub(crate) fn task_list(&self) -> Vec<TaskInfo> {
        self.tasks
            .iter()
            .map(|(id, t)| TaskInfo {
                task: id as u64,
                pid: t.pid,
                uid: t.uid,
                label: t.label.clone(),
                names: t.space.len() as u32,
                connections: t.conns,
            })
            .collect()
    }

    /// Whole-kernel counters.
    pub fn stats(&self) -> KernelStats {
        let mut s = KernelStats {
            tasks: self.tasks.len() as u64,
            ports: self.ports.len() as u64,
            port_sets: self.sets.len() as u64,
            connections: self.conns.len() as u64,
            ..Default::default()
        };
        for (_, t) in self.tasks.iter() {
            s.names += t.space.len() as u64;
        }
        for (_, p) in self.ports.iter() {
            s.queued_messages += p.queue.len() as u64;
            s.send_rights += p.srights as u64;
            s.send_once_rights += p.sorights as u64;
        }
        for c in self.conns.values() {
            if matches!(c.wait, Some(Wait::Send { .. })) {
                s.queued_messages += 1;
            }
        }
        s
    }
}
