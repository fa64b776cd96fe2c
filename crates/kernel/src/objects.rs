//! The kernel's objects: ports, port sets, rights held by the kernel, and queued messages.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;

use herd_wire::PortName;

/// A connection (one thread of one task).
pub type ConnId = u64;
/// A task (one name space).
pub type TaskId = u32;
/// A port, by its slot in the port table.
pub type PortIdx = u32;
/// A port set, by its slot in the set table.
pub type SetIdx = u32;

/// A right the kernel holds on a task's behalf: inside a message, or as a notification
/// request. Send and send-once rights are counted on their port; a receive right in
/// transit leaves its port without a receiver.
#[derive(Debug, PartialEq, Eq)]
pub enum KRight {
    /// No right.
    Null,
    /// A right whose port died.
    Dead,
    /// A send right.
    Send(PortIdx),
    /// A send-once right.
    SendOnce(PortIdx),
    /// A receive right in transit.
    Receive(PortIdx),
}

/// A message inside the kernel: rights already taken from the sender.
#[derive(Debug)]
pub struct KMsg {
    /// The routine id.
    pub id: u32,
    /// The destination right, consumed when the message is received.
    pub dest: KRight,
    /// The reply right.
    pub reply: KRight,
    /// Rights in the body.
    pub ports: Vec<KRight>,
    /// Out-of-line regions: size and memfd.
    pub ool: Vec<(u64, OwnedFd)>,
    /// Inline bytes.
    pub data: Vec<u8>,
}

/// Who holds a port's receive right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    /// A task, under this name.
    Task(TaskId, PortName),
    /// Inside a message queued (or held for a blocked sender) on this port.
    InTransit(PortIdx),
    /// Inside a message the kernel is building (a notification); transient.
    Kernel,
    /// Nobody: the port is dead.
    Dead,
}

/// A send-once right the kernel keeps for a notification request.
pub type NotifyRight = PortIdx;

/// A dead-name request: which task's name to tell, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadNameRequest {
    /// The requesting task.
    pub task: TaskId,
    /// Its name for the port.
    pub name: PortName,
    /// The send-once right the notification goes to.
    pub notify: NotifyRight,
}

/// Rarely used parts of a port, kept out of line so an idle port stays small.
#[derive(Debug, Default)]
pub struct PortExtra {
    /// No-senders request: (sync, notify right).
    pub nsrequest: Option<(u32, NotifyRight)>,
    /// Port-destroyed request.
    pub pdrequest: Option<NotifyRight>,
    /// Dead-name requests.
    pub dnrequests: Vec<DeadNameRequest>,
    /// Connections waiting to receive directly from this port, oldest first.
    pub waiters: VecDeque<ConnId>,
    /// Connections whose send waits for queue room, oldest first.
    pub blocked: VecDeque<ConnId>,
}

impl PortExtra {
    /// Whether nothing is recorded (so the box can go).
    pub fn is_empty(&self) -> bool {
        self.nsrequest.is_none()
            && self.pdrequest.is_none()
            && self.dnrequests.is_empty()
            && self.waiters.is_empty()
            && self.blocked.is_empty()
    }
}

/// The default queue limit (Mach's `MACH_PORT_QLIMIT_DEFAULT`).
pub const QLIMIT_DEFAULT: u16 = 5;
/// The largest queue limit a task may set.
pub const QLIMIT_MAX: u16 = 1024;

/// A port.
#[derive(Debug)]
pub struct Port {
    /// Who holds the receive right.
    pub receiver: Receiver,
    /// Queued messages, oldest first.
    pub queue: VecDeque<KMsg>,
    /// The sequence number the next dequeued message gets.
    pub seqno: u64,
    /// Make-send count.
    pub mscount: u32,
    /// Send rights in spaces (one per name) and in the kernel.
    pub srights: u32,
    /// Send-once rights outstanding.
    pub sorights: u32,
    /// References to this slot: names in spaces and rights in the kernel. The slot is
    /// freed when the port is dead and this reaches zero.
    pub refs: u32,
    /// Generation of the slot, so introspection ids stay unique.
    pub generation: u32,
    /// Queue limit.
    pub qlimit: u16,
    /// Whether the port is in its set's ready list.
    pub in_ready: bool,
    /// The port set it belongs to.
    pub pset: Option<SetIdx>,
    /// Requests and waiters, when any.
    pub extra: Option<Box<PortExtra>>,
}

impl Port {
    /// A new live port received by `task` under `name`.
    pub fn new(task: TaskId, name: PortName, generation: u32) -> Self {
        Port {
            receiver: Receiver::Task(task, name),
            queue: VecDeque::new(),
            seqno: 0,
            mscount: 0,
            srights: 0,
            sorights: 0,
            refs: 1,
            generation,
            qlimit: QLIMIT_DEFAULT,
            in_ready: false,
            pset: None,
            extra: None,
        }
    }

    /// Whether the port is dead.
    pub fn is_dead(&self) -> bool {
        self.receiver == Receiver::Dead
    }

    /// The extra part, created on demand.
    pub fn extra_mut(&mut self) -> &mut PortExtra {
        self.extra.get_or_insert_with(Default::default)
    }

    /// Drops the extra part if it holds nothing.
    pub fn trim_extra(&mut self) {
        if self.extra.as_ref().is_some_and(|e| e.is_empty()) {
            self.extra = None;
        }
    }
}

/// A port set.
#[derive(Debug)]
pub struct PortSet {
    /// The owning task.
    pub task: TaskId,
    /// Its name there.
    pub name: PortName,
    /// Member ports.
    pub members: Vec<PortIdx>,
    /// Members that may have messages, in the order they became ready.
    pub ready: VecDeque<PortIdx>,
    /// Connections waiting to receive from the set.
    pub waiters: VecDeque<ConnId>,
    /// Generation of the slot.
    pub generation: u32,
}

/// A table of objects with reusable slots.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Option<T>>,
    free: Vec<u32>,
    generations: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            generations: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Inserts the value built from the new slot's generation; returns its index.
    pub fn insert_with(&mut self, make: impl FnOnce(u32) -> T) -> u32 {
        self.live += 1;
        if let Some(i) = self.free.pop() {
            let g = self.generations[i as usize].wrapping_add(1);
            self.generations[i as usize] = g;
            self.slots[i as usize] = Some(make(g));
            i
        } else {
            let i = self.slots.len() as u32;
            self.slots.push(Some(make(0)));
            self.generations.push(0);
            i
        }
    }
    /// Removes and returns the value at `i`.
    pub fn remove(&mut self, i: u32) -> Option<T> {
        let v = self.slots.get_mut(i as usize)?.take();
        if v.is_some() {
            self.live -= 1;
            self.free.push(i);
        }
        v
    }
    /// The value at `i`.
    pub fn get(&self, i: u32) -> Option<&T> {
        self.slots.get(i as usize)?.as_ref()
    }
    /// The value at `i`, mutably.
    pub fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        self.slots.get_mut(i as usize)?.as_mut()
    }
    /// Live values.
    pub fn len(&self) -> usize {
        self.live
    }
    /// Whether there are no live values.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
    /// Every live value with its index.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|v| (i as u32, v)))
    }
    /// Bytes of table memory (for the memory benchmark's breakdown).
    pub fn table_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Option<T>>()
            + self.free.capacity() * 4
            + self.generations.capacity() * 4
    }
}
