//! `herd fortune`: a read-only file whose contents are one saying, a different one for
//! each open (then the same for every read of that open), from a list built in. The
//! Hurd's dynamic-file examples in one translator.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use clap::Args;
use herd_interfaces::types::consts::{fstype::FSTYPE_MISC, mode::S_IFREG, open::O_WRITE};
use herd_runtime::Errno;
use herd_trivfs::{Node, User};

use super::NodeArgs;

/// The sayings, one per line.
const SAYINGS: &[&str] = &[
    "The file system is the name server.",
    "Every server is a user program; every user may run one.",
    "A translator is a program that answers for a node.",
    "Ports are capabilities: whoever holds the right may ask.",
    "A dead server is an error, never a hang.",
    "Small servers, each understood in one sitting.",
    "The kernel forwards rights; it never reads your data.",
    "Mount nothing: attach a translator to a node you own.",
    "Identity is a port to the auth server, proven by handshake.",
    "Many machines, one name space, one system image.",
    "What you can name, you can serve.",
    "Go away gracefully: drain, answer, then leave.",
];

/// Arguments of `herd fortune`.
#[derive(Args, Debug)]
pub struct FortuneArgs {
    #[command(flatten)]
    node: NodeArgs,
}

/// The fortune file: the next open gets the next saying, from a random start.
pub struct Fortune {
    next: AtomicUsize,
}

impl Fortune {
    /// A fortune file starting at a random saying.
    pub fn new() -> Fortune {
        let mut seed = [0u8; 8];
        let start = match getrandom::fill(&mut seed) {
            Ok(()) => u64::from_le_bytes(seed) as usize,
            Err(_) => 0,
        };
        Fortune {
            next: AtomicUsize::new(start % SAYINGS.len()),
        }
    }

    fn text(index: usize) -> String {
        format!("{}\n", SAYINGS[index % SAYINGS.len()])
    }
}

impl Default for Fortune {
    fn default() -> Self {
        Fortune::new()
    }
}

impl Node for Fortune {
    /// The saying this open shows.
    type Open = String;

    fn name(&self) -> &str {
        "fortune"
    }

    fn fstype(&self) -> u32 {
        FSTYPE_MISC
    }

    fn file_type(&self) -> u32 {
        S_IFREG
    }

    fn open(&self, _user: &User, flags: u32) -> Result<String, Errno> {
        if flags & O_WRITE != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(Fortune::text(self.next.fetch_add(1, Ordering::Relaxed)))
    }

    fn read(&self, open: &String, offset: u64, amount: usize) -> Result<Vec<u8>, Errno> {
        let bytes = open.as_bytes();
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start.saturating_add(amount).min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    fn size(&self, open: &String) -> u64 {
        open.len() as u64
    }

    fn set_size(&self, _open: &String, _size: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
}

/// Runs `herd fortune`.
pub fn run(args: FortuneArgs) -> Result<()> {
    super::run(Fortune::new(), args.node, 0o444)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_open_gets_the_next_saying_and_reads_stay_within_it() {
        let f = Fortune::new();
        let user = User::nobody();
        let a = f.open(&user, 0).unwrap();
        let b = f.open(&user, 0).unwrap();
        assert_ne!(a, b);
        assert!(a.ends_with('\n') && SAYINGS.contains(&a.trim_end()));
        assert_eq!(f.read(&a, 0, 1000).unwrap(), a.as_bytes());
        assert_eq!(f.read(&a, 2, 3).unwrap(), &a.as_bytes()[2..5]);
        assert!(f.read(&a, u64::MAX, 10).unwrap().is_empty());
        assert_eq!(f.size(&a), a.len() as u64);
        assert_eq!(f.open(&user, O_WRITE), Err(Errno::EOPNOTSUPP));
    }
}
