//! `herd random`: every read gives new random bytes from the host kernel's generator
//! (`getrandom`); writes are taken and dropped (the host kernel keeps its own entropy).

use anyhow::Result;
use clap::Args;
use herd_interfaces::types::consts::IO_MAX;
use herd_runtime::Errno;
use herd_trivfs::{Node, User};

use super::NodeArgs;

/// Arguments of `herd random`.
#[derive(Args, Debug)]
pub struct RandomArgs {
    #[command(flatten)]
    node: NodeArgs,
}

/// The random device.
pub struct Random;

impl Node for Random {
    type Open = ();

    fn name(&self) -> &str {
        "random"
    }

    fn open(&self, _user: &User, _flags: u32) -> Result<(), Errno> {
        Ok(())
    }

    fn read(&self, _open: &(), _offset: u64, amount: usize) -> Result<Vec<u8>, Errno> {
        let mut bytes = vec![0; amount];
        getrandom::fill(&mut bytes).map_err(|e| {
            tracing::error!(error = %e, "getrandom failed");
            Errno::EIO
        })?;
        Ok(bytes)
    }

    fn write(&self, _open: &(), _offset: u64, data: &[u8]) -> Result<u64, Errno> {
        Ok(data.len() as u64)
    }

    fn readable(&self, _open: &(), _offset: u64) -> u64 {
        IO_MAX
    }
}

/// Runs `herd random`.
pub fn run(args: RandomArgs) -> Result<()> {
    super::run(Random, args.node, 0o666)
}
