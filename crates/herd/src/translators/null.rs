//! `herd null`: reads are at end of file, writes succeed and vanish (the Hurd's
//! `/hurd/null`; with `--full`, writes fail with `ENOSPC`, like `/dev/full`).

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use clap::Args;
use herd_runtime::Errno;
use herd_trivfs::{Node, User};

use super::NodeArgs;

/// Arguments of `herd null`.
#[derive(Args, Debug)]
pub struct NullArgs {
    /// Make writes fail with ENOSPC (a full device).
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    node: NodeArgs,
}

/// The null device.
pub struct Null {
    full: AtomicBool,
}

impl Null {
    /// A null device; `full` makes writes fail.
    pub fn new(full: bool) -> Null {
        Null {
            full: AtomicBool::new(full),
        }
    }
}

impl Node for Null {
    type Open = ();

    fn name(&self) -> &str {
        "null"
    }

    fn open(&self, _user: &User, _flags: u32) -> Result<(), Errno> {
        Ok(())
    }

    fn read(&self, _open: &(), _offset: u64, _amount: usize) -> Result<Vec<u8>, Errno> {
        Ok(Vec::new())
    }

    fn write(&self, _open: &(), _offset: u64, data: &[u8]) -> Result<u64, Errno> {
        if self.full.load(Ordering::Relaxed) {
            Err(Errno::ENOSPC)
        } else {
            Ok(data.len() as u64)
        }
    }

    fn options(&self) -> Vec<String> {
        if self.full.load(Ordering::Relaxed) {
            vec!["--full".into()]
        } else {
            Vec::new()
        }
    }

    fn set_options(&self, words: &[String]) -> Result<(), Errno> {
        let mut full = self.full.load(Ordering::Relaxed);
        for w in words {
            full = match w.as_str() {
                "--full" => true,
                "--no-full" => false,
                _ => return Err(Errno::EINVAL),
            };
        }
        self.full.store(full, Ordering::Relaxed);
        Ok(())
    }
}

/// Runs `herd null`.
pub fn run(args: NullArgs) -> Result<()> {
    super::run(Null::new(args.full), args.node, 0o666)
}
