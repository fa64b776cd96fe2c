//! A task's port name space: names, the rights under them, and user references.
//!
//! A name is `(index << 8) | generation`, as in Mach, so a freed name comes back only after
//! 256 reuses of its slot. The space also maps a port back to the one name under which the
//! task holds send or receive rights for it, so a port always has one name in a task.

use std::collections::HashMap;

use herd_wire::{PortName, RightKind};

use crate::objects::PortIdx;

/// The most user references one send or dead-name right may have (Mach's limit).
pub const MAX_UREFS: u32 = 65_534;
/// The most names one space may hold.
pub const MAX_NAMES: usize = (1 << 24) - 2;

/// The rights held under one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The port (or port set) the rights are for; unused for a dead name.
    pub object: u32,
    /// User references of the send or dead-name right.
    pub urefs: u32,
    /// The rights.
    pub rights: RightKind,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    entry: Option<Entry>,
    generation: u8,
}

/// One task's name space.
#[derive(Debug, Default)]
pub struct Space {
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_port: HashMap<PortIdx, PortName>,
    live: usize,
}

fn split(name: PortName) -> (usize, u8) {
    ((name.0 >> 8) as usize, name.0 as u8)
}

impl Space {
    /// Number of names.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the space holds no names.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The rights under `name`.
    pub fn get(&self, name: PortName) -> Option<&Entry> {
        let (i, g) = split(name);
        let slot = self.slots.get(i.checked_sub(1)?)?;
        if slot.generation != g {
            return None;
        }
        slot.entry.as_ref()
    }

    /// The rights under `name`, mutably.
    pub fn get_mut(&mut self, name: PortName) -> Option<&mut Entry> {
        let (i, g) = split(name);
        let slot = self.slots.get_mut(i.checked_sub(1)?)?;
        if slot.generation != g {
            return None;
        }
        slot.entry.as_mut()
    }

    /// The name under which the task holds send or receive rights for `port`.
    pub fn name_of(&self, port: PortIdx) -> Option<PortName> {
        self.by_port.get(&port).copied()
    }

    /// Adds an entry under a new name. `None` when the space is full.
    pub fn insert(&mut self, entry: Entry) -> Option<PortName> {
        if self.live >= MAX_NAMES {
            return None;
        }
        let index = match self.free.pop() {
            Some(i) => i as usize,
            None => {
                self.slots.push(Slot {
                    entry: None,
                    generation: 0,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.generation = slot.generation.wrapping_add(1);
        let mut name = PortName((((index + 1) as u32) << 8) | slot.generation as u32);
        if !name.is_valid() {
            slot.generation = slot.generation.wrapping_add(1);
            name = PortName((((index + 1) as u32) << 8) | slot.generation as u32);
        }
        slot.entry = Some(entry);
        self.live += 1;
        if entry
            .rights
            .contains_any(RightKind::SEND | RightKind::RECEIVE)
        {
            self.by_port.insert(entry.object, name);
        }
        Some(name)
    }

    /// Records that `name` now holds send or receive rights for its port.
    pub fn index_port(&mut self, name: PortName) {
        if let Some(e) = self.get(name).copied() {
            self.by_port.insert(e.object, name);
        }
    }

    /// Forgets the port-to-name mapping of `name` (it no longer holds send or receive).
    pub fn unindex_port(&mut self, name: PortName) {
        if let Some(e) = self.get(name).copied() {
            if self.by_port.get(&e.object) == Some(&name) {
                self.by_port.remove(&e.object);
            }
        }
    }

    /// Frees `name`, returning what it held.
    pub fn remove(&mut self, name: PortName) -> Option<Entry> {
        let (i, g) = split(name);
        let idx = i.checked_sub(1)?;
        let slot = self.slots.get_mut(idx)?;
        if slot.generation != g {
            return None;
        }
        let e = slot.entry.take()?;
        self.free.push(idx as u32);
        self.live -= 1;
        if self.by_port.get(&e.object) == Some(&name) {
            self.by_port.remove(&e.object);
        }
        Some(e)
    }

    /// Every name with its entry.
    pub fn iter(&self) -> impl Iterator<Item = (PortName, &Entry)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.entry
                .as_ref()
                .map(|e| (PortName((((i + 1) as u32) << 8) | s.generation as u32), e))
        })
    }

    /// Every name.
    pub fn names(&self) -> Vec<PortName> {
        self.iter().map(|(n, _)| n).collect()
    }

    /// Bytes of table memory.
    pub fn table_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.free.capacity() * 4
            + self.by_port.capacity() * (std::mem::size_of::<(PortIdx, PortName)>() + 1)
    }
}

/// Extra operations on right sets used by the kernel.
pub trait RightKindExt {
    /// Whether any bit of `other` is set.
    fn contains_any(self, other: RightKind) -> bool;
    /// Clears the bits of `other`.
    fn without(self, other: RightKind) -> RightKind;
}

impl RightKindExt for RightKind {
    fn contains_any(self, other: RightKind) -> bool {
        self.0 & other.0 != 0
    }
    fn without(self, other: RightKind) -> RightKind {
        RightKind(self.0 & !other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(object: u32) -> Entry {
        Entry {
            object,
            urefs: 1,
            rights: RightKind::SEND,
        }
    }

    #[test]
    fn names_are_valid_unique_and_stale_names_miss() {
        let mut s = Space::default();
        let a = s.insert(send(1)).unwrap();
        let b = s.insert(send(2)).unwrap();
        assert!(a.is_valid() && b.is_valid() && a != b);
        assert_eq!(s.name_of(1), Some(a));
        s.remove(a).unwrap();
        assert_eq!(s.get(a), None);
        assert_eq!(s.name_of(1), None);
        let c = s.insert(send(3)).unwrap();
        assert_ne!(c, a, "a reused slot gets a new generation");
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(PortName(0)), None);
        assert_eq!(s.get(PortName::DEAD), None);
        assert_eq!(s.get(PortName(12345678)), None);
        assert_eq!(s.len(), 2);
    }
}
