//! `herd zero`: reads give as many zero bytes as asked (up to `IO_MAX` a call), writes
//! succeed and vanish, like `/dev/zero`.

use anyhow::Result;
use clap::Args;
use herd_interfaces::types::consts::IO_MAX;
use herd_runtime::Errno;
use herd_trivfs::{Node, User};

use super::NodeArgs;

/// Arguments of `herd zero`.
#[derive(Args, Debug)]
pub struct ZeroArgs {
    #[command(flatten)]
    node: NodeArgs,
}

/// The zero device.
pub struct Zero;

impl Node for Zero {
    type Open = ();

    fn name(&self) -> &str {
        "zero"
    }

    fn open(&self, _user: &User, _flags: u32) -> Result<(), Errno> {
        Ok(())
    }

    fn read(&self, _open: &(), _offset: u64, amount: usize) -> Result<Vec<u8>, Errno> {
        Ok(vec![0; amount])
    }

    fn write(&self, _open: &(), _offset: u64, data: &[u8]) -> Result<u64, Errno> {
        Ok(data.len() as u64)
    }

    fn readable(&self, _open: &(), _offset: u64) -> u64 {
        IO_MAX
    }
}

/// Runs `herd zero`.
pub fn run(args: ZeroArgs) -> Result<()> {
    super::run(Zero, args.node, 0o666)
}
