//! Port names, the dispositions a sender names rights with, and the right kinds a task holds.

use std::fmt;

/// A name in one task's port name space. `0` is the null name, `u32::MAX` the dead name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PortName(pub u32);

impl PortName {
    /// `MACH_PORT_NULL`: no port.
    pub const NULL: PortName = PortName(0);
    /// `MACH_PORT_DEAD`: a right whose port died in transit.
    pub const DEAD: PortName = PortName(u32::MAX);

    /// Whether this is a real name (neither null nor dead).
    pub fn is_valid(self) -> bool {
        self != Self::NULL && self != Self::DEAD
    }
}

impl fmt::Debug for PortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NULL => f.write_str("NULL"),
            Self::DEAD => f.write_str("DEAD"),
            PortName(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for PortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// How a sender hands over a right it names in a message (Mach's `MACH_MSG_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Disposition {
    /// Give away the receive right; the receiver gets the port.
    MoveReceive = 16,
    /// Give away one user reference of a send right.
    MoveSend = 17,
    /// Give away a send-once right.
    MoveSendOnce = 18,
    /// Give a new send right, keeping one's own.
    CopySend = 19,
    /// Make a new send right from one's receive right (increments the make-send count).
    MakeSend = 20,
    /// Make a new send-once right from one's receive right.
    MakeSendOnce = 21,
}

impl Disposition {
    /// Parses the wire value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            16 => Self::MoveReceive,
            17 => Self::MoveSend,
            18 => Self::MoveSendOnce,
            19 => Self::CopySend,
            20 => Self::MakeSend,
            21 => Self::MakeSendOnce,
            _ => return None,
        })
    }

    /// The kind of right the receiver gets for a right sent this way.
    pub fn received_as(self) -> ReceivedRight {
        match self {
            Self::MoveReceive => ReceivedRight::Receive,
            Self::MoveSend | Self::CopySend | Self::MakeSend => ReceivedRight::Send,
            Self::MoveSendOnce | Self::MakeSendOnce => ReceivedRight::SendOnce,
        }
    }
}

/// The kind of right a receiver finds in a message (Mach's `MACH_MSG_TYPE_PORT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ReceivedRight {
    /// No right (the name is null).
    None = 0,
    /// A receive right.
    Receive = 16,
    /// A send right (one user reference).
    Send = 17,
    /// A send-once right.
    SendOnce = 18,
}

impl ReceivedRight {
    /// Parses the wire value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::None,
            16 => Self::Receive,
            17 => Self::Send,
            18 => Self::SendOnce,
            _ => return None,
        })
    }
}

/// The rights a task can hold under one name, as a bit set (Mach's `MACH_PORT_TYPE_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RightKind(pub u8);

impl RightKind {
    /// A send right.
    pub const SEND: RightKind = RightKind(1);
    /// A receive right.
    pub const RECEIVE: RightKind = RightKind(2);
    /// A send-once right.
    pub const SEND_ONCE: RightKind = RightKind(4);
    /// A port set.
    pub const PORT_SET: RightKind = RightKind(8);
    /// A dead name.
    pub const DEAD_NAME: RightKind = RightKind(16);
    /// A dead-name notification is requested on this name.
    pub const DNREQUEST: RightKind = RightKind(32);

    /// Whether every bit of `other` is set here.
    pub fn contains(self, other: RightKind) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no right is held.
    pub fn is_empty(self) -> bool {
        self.0 & !Self::DNREQUEST.0 == 0
    }
}

impl std::ops::BitOr for RightKind {
    type Output = RightKind;
    fn bitor(self, rhs: RightKind) -> RightKind {
        RightKind(self.0 | rhs.0)
    }
}

impl fmt::Debug for RightKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            (Self::RECEIVE, "receive"),
            (Self::SEND, "send"),
            (Self::SEND_ONCE, "send-once"),
            (Self::PORT_SET, "port-set"),
            (Self::DEAD_NAME, "dead-name"),
            (Self::DNREQUEST, "dead-name-request"),
        ];
        let names: Vec<&str> = parts
            .iter()
            .filter(|(k, _)| self.contains(*k))
            .map(|(_, n)| *n)
            .collect();
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join("+"))
        }
    }
}

impl fmt::Display for RightKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
