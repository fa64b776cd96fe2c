//! Starting the benchmark's peer processes (this same binary, `herd bench-peer ...`),
//! handing them socket descriptors, and stopping them.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Child, Command};

use anyhow::{Context, Result};

/// A peer process, killed and reaped when dropped.
pub struct Peer {
    child: Child,
}

impl Peer {
    /// Starts `herd bench-peer ARGS`, passing `fds` (their numbers go in `{fdN}` args).
    pub fn start(args: &[String], fds: &[OwnedFd]) -> Result<Peer> {
        let exe = std::env::current_exe().context("finding the herd binary")?;
        for fd in fds {
            rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?;
        }
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                let mut a = a.clone();
                for (i, fd) in fds.iter().enumerate() {
                    a = a.replace(&format!("{{fd{i}}}"), &fd.as_fd().as_raw_fd().to_string());
                }
                a
            })
            .collect();
        let child = Command::new(exe)
            .arg("bench-peer")
            .args(&args)
            .spawn()
            .context("starting a benchmark peer")?;
        Ok(Peer { child })
    }

    /// The peer's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a process's resident set size in bytes from `/proc`.
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS line")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("malformed VmRSS")?
        .parse()?;
    Ok(kb * 1024)
}
