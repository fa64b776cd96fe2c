//! Invariant checks: recounts every right and reference from scratch and compares with the
//! counters the kernel keeps. Tests and the property test call it after every step.

use std::collections::HashMap;

use herd_wire::RightKind;

use crate::objects::{KMsg, KRight, PortIdx, Receiver};
use crate::space::RightKindExt;
use crate::state::{Kernel, Wait};

#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Counts {
    srights: u32,
    sorights: u32,
    refs: u32,
}

impl Kernel {
    /// Recounts send rights, send-once rights and references of every port, and checks
    /// receivers, set membership and name indexes. Returns the first discrepancy found.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut counts: HashMap<PortIdx, Counts> = HashMap::new();
        let mut in_transit: HashMap<PortIdx, PortIdx> = HashMap::new();
        for (tid, task) in self.tasks.iter() {
            for (name, e) in task.space.iter() {
                if e.rights
                    .contains_any(RightKind::SEND | RightKind::SEND_ONCE | RightKind::RECEIVE)
                {
                    let c = counts.entry(e.object).or_default();
                    c.refs += 1;
                    if e.rights.contains(RightKind::SEND) {
                        c.srights += 1;
                        if e.urefs == 0 {
                            return Err(format!("task {tid} name {name}: send right with 0 urefs"));
                        }
                    }
                    if e.rights.contains(RightKind::SEND_ONCE) {
                        c.sorights += 1;
                    }
                    if e.rights.contains(RightKind::SEND | RightKind::RECEIVE)
                        && task.space.name_of(e.object) != Some(name)
                    {
                        return Err(format!("task {tid} name {name}: not indexed by port"));
                    }
                    if e.rights.contains(RightKind::RECEIVE) {
                        let r = self.ports.get(e.object).map(|p| p.receiver);
                        if r != Some(Receiver::Task(tid, name)) {
                            return Err(format!("task {tid} name {name}: receiver is {r:?}"));
                        }
                    }
                }
                if e.rights.contains(RightKind::DEAD_NAME) && e.urefs == 0 {
                    return Err(format!("task {tid} name {name}: dead name with 0 urefs"));
                }
            }
        }
        let mut count_msg = |msg: &KMsg, at: PortIdx, counts: &mut HashMap<PortIdx, Counts>| {
            for r in std::iter::once(&msg.dest)
                .chain(std::iter::once(&msg.reply))
                .chain(msg.ports.iter())
            {
                match *r {
                    KRight::Send(p) => {
                        let c = counts.entry(p).or_default();
                        c.srights += 1;
                        c.refs += 1;
                    }
                    KRight::SendOnce(p) => {
                        let c = counts.entry(p).or_default();
                        c.sorights += 1;
                        c.refs += 1;
                    }
                    KRight::Receive(p) => {
                        counts.entry(p).or_default().refs += 1;
                        in_transit.insert(p, at);
                    }
                    KRight::Null | KRight::Dead => {}
                }
            }
        };
        for (idx, port) in self.ports.iter() {
            for msg in &port.queue {
                count_msg(msg, idx, &mut counts);
            }
            if let Some(ex) = &port.extra {
                let sos = ex
                    .nsrequest
                    .map(|(_, so)| so)
                    .into_iter()
                    .chain(ex.pdrequest)
                    .chain(ex.dnrequests.iter().map(|r| r.notify));
                for so in sos {
                    let c = counts.entry(so).or_default();
                    c.sorights += 1;
                    c.refs += 1;
                }
            }
        }
        for r in self.special.values() {
            if let KRight::Send(p) = *r {
                let c = counts.entry(p).or_default();
                c.srights += 1;
                c.refs += 1;
            }
        }
        for c in self.conns.values() {
            if let Some(Wait::Send { msg, port, .. }) = &c.wait {
                count_msg(msg, *port, &mut counts);
            }
        }
        self.check_traces(&mut counts)?;
        for (idx, port) in self.ports.iter() {
            let got = Counts {
                srights: port.srights,
                sorights: port.sorights,
                refs: port.refs,
            };
            let want = counts.remove(&idx).unwrap_or_default();
            if got != want {
                return Err(format!(
                    "port {idx}: kernel counts {got:?}, recount {want:?}"
                ));
            }
            if port.is_dead() && port.refs == 0 {
                return Err(format!("port {idx}: dead with no references but not freed"));
            }
            match port.receiver {
                Receiver::InTransit(d) if in_transit.get(&idx) != Some(&d) => {
                    return Err(format!("port {idx}: in transit to {d} but not found there"));
                }
                Receiver::Kernel => return Err(format!("port {idx}: left in kernel hands")),
                _ => {}
            }
            if let Some(s) = port.pset {
                if !self
                    .sets
                    .get(s)
                    .is_some_and(|set| set.members.contains(&idx))
                {
                    return Err(format!("port {idx}: set {s} does not list it"));
                }
            }
        }
        if let Some((p, c)) = counts.into_iter().next() {
            return Err(format!("rights {c:?} refer to freed port {p}"));
        }
        Ok(())
    }

    /// Counts the send right the kernel holds for each trace, and checks the trace
    /// indexes (traced tasks, tracer ports) against the tasks.
    fn check_traces(&self, counts: &mut HashMap<PortIdx, Counts>) -> Result<(), String> {
        let mut ports: HashMap<PortIdx, u32> = HashMap::new();
        let mut traced = 0;
        for (tid, task) in self.tasks.iter() {
            let Some(t) = task.trace.as_deref() else {
                continue;
            };
            traced += 1;
            if !self.traced.contains(&tid) {
                return Err(format!("task {tid}: traced but not listed"));
            }
            *ports.entry(t.port).or_default() += 1;
            let c = counts.entry(t.port).or_default();
            c.srights += 1;
            c.refs += 1;
        }
        if traced != self.traced.len() {
            return Err(format!(
                "{} tasks listed as traced, {traced} are",
                self.traced.len()
            ));
        }
        if ports != self.tracer_ports {
            return Err(format!(
                "tracer ports {:?}, recount {ports:?}",
                self.tracer_ports
            ));
        }
        Ok(())
    }
}
