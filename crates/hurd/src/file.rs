//! Files: opening and stat by path, reading and writing a port's data in `IO_MAX`
//! chunks (`io_read`/`io_write` at the open's file pointer), and reading a directory's
//! entries (`dir_readdir`, decoded).

use std::io::{Read, Write};

use herd_interfaces::types::consts::open::O_READ;
use herd_interfaces::types::consts::IO_MAX;
use herd_interfaces::types::dirent::{self, Dirent};
use herd_interfaces::types::Stat;
use herd_interfaces::{fs, io};
use herd_runtime::{Errno, SendRight};
use thiserror::Error;

use crate::call::dest;
use crate::errno::{describe, EPROTO};
use crate::Namespace;

/// The most entries [`Namespace::readdir`] gathers from one directory (a server that
/// never says "the end" is `EOVERFLOW` past it, not a memory exhaustion).
pub const READDIR_MAX_ENTRIES: usize = 1 << 20;

/// Why copying data between a port and a local reader or writer stopped.
#[derive(Debug, Error)]
pub enum CopyError {
    /// The server refused (or died, or did not answer in time).
    #[error("{}", describe(*.0))]
    Server(Errno),
    /// The local side (a host file, standard output) failed.
    #[error("{0}")]
    Local(#[from] std::io::Error),
}

impl Namespace {
    /// Opens `path` with `flags` (`O_READ`, `O_WRITE`, `O_CREAT`...): the same as
    /// [`Namespace::lookup`].
    pub fn open(&self, path: &[u8], flags: u32, mode: u32) -> Result<SendRight, Errno> {
        self.lookup(path, flags, mode)
    }

    /// The status of the node `path` names (symlinks and translators followed).
    pub fn stat(&self, path: &[u8]) -> Result<Stat, Errno> {
        self.stat_port(&self.lookup(path, 0, 0)?)
    }

    /// The node `path` names itself: a translator or symlink on its last component is
    /// not crossed or followed (`O_NOTRANS | O_NOLINK`), so a symlink's own port comes
    /// back.
    pub fn lookup_node(&self, path: &[u8]) -> Result<SendRight, Errno> {
        crate::lookup::lookup_node(&self.task, &self.root, &self.cwd, path, &self.options)
    }

    /// The status of the node `path` names itself ([`Namespace::lookup_node`]): `lstat`.
    pub fn lstat(&self, path: &[u8]) -> Result<Stat, Errno> {
        self.stat_port(&self.lookup_node(path)?)
    }

    /// The status of the node `file` is open on (`io_stat`).
    pub fn stat_port(&self, file: &SendRight) -> Result<Stat, Errno> {
        self.call(
            io::codec::encode_io_stat_request(dest(file)),
            io::codec::decode_io_stat_reply,
        )
    }

    /// Reads `file` from its file pointer to the end into `out`, `IO_MAX` bytes per call;
    /// answers how many bytes were copied. (A device that never ends, such as `random`,
    /// goes on until `out` fails.)
    pub fn read_into(&self, file: &SendRight, out: &mut dyn Write) -> Result<u64, CopyError> {
        let mut total = 0u64;
        loop {
            let data = self
                .call(
                    io::codec::encode_io_read_request(dest(file), -1, IO_MAX),
                    io::codec::decode_io_read_reply,
                )
                .map_err(CopyError::Server)?;
            if data.is_empty() {
                return Ok(total);
            }
            out.write_all(&data)?;
            total += data.len() as u64;
        }
    }

    /// The data of `file` from its file pointer to the end.
    pub fn read_all(&self, file: &SendRight) -> Result<Vec<u8>, Errno> {
        let mut data = Vec::new();
        match self.read_into(file, &mut data) {
            Ok(_) => Ok(data),
            Err(CopyError::Server(e)) => Err(e),
            // Writing to a Vec fails only when memory does.
            Err(CopyError::Local(_)) => Err(Errno::ENOMEM),
        }
    }

    /// Writes everything `input` gives to `file` at its file pointer, at most `IO_MAX`
    /// bytes per call (short writes are continued); answers how many bytes were written.
    pub fn write_from(&self, file: &SendRight, input: &mut dyn Read) -> Result<u64, CopyError> {
        let mut buf = vec![0u8; IO_MAX as usize];
        let mut total = 0u64;
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.write_chunk(file, &buf[..n])
                .map_err(CopyError::Server)?;
            total += n as u64;
        }
    }

    /// Writes all of `data` to `file` at its file pointer.
    pub fn write_all(&self, file: &SendRight, data: &[u8]) -> Result<(), Errno> {
        for chunk in data.chunks(IO_MAX as usize) {
            self.write_chunk(file, chunk)?;
        }
        Ok(())
    }

    /// Writes one chunk, continuing short writes. A server that writes nothing is `EIO`
    /// (no progress would loop for ever), one that claims more than it was given `EPROTO`.
    fn write_chunk(&self, file: &SendRight, mut chunk: &[u8]) -> Result<(), Errno> {
        while !chunk.is_empty() {
            let amount = self.call(
                io::codec::encode_io_write_request(dest(file), chunk, -1),
                io::codec::decode_io_write_reply,
            )?;
            let amount = usize::try_from(amount).map_err(|_| EPROTO)?;
            if amount == 0 {
                return Err(Errno::EIO);
            }
            chunk = chunk.get(amount..).ok_or(EPROTO)?;
        }
        Ok(())
    }

    /// Every entry of the directory `dir` (opened with `O_READ`), in the server's order,
    /// fetched in batches of the server's size.
    pub fn readdir(&self, dir: &SendRight) -> Result<Vec<Dirent>, Errno> {
        let mut entries = Vec::new();
        loop {
            let next = i32::try_from(entries.len()).map_err(|_| Errno::EOVERFLOW)?;
            let (data, amount) = self.call(
                fs::codec::encode_dir_readdir_request(dest(dir), next, -1, 0),
                fs::codec::decode_dir_readdir_reply,
            )?;
            if amount < 0 {
                return Err(EPROTO);
            }
            let batch = dirent::decode(&data).map_err(|e| {
                tracing::debug!(error = %e, "dir_readdir data did not decode");
                Errno::EBADMSG
            })?;
            if batch.is_empty() {
                return Ok(entries);
            }
            entries.extend(batch);
            if entries.len() > READDIR_MAX_ENTRIES {
                return Err(Errno::EOVERFLOW);
            }
        }
    }

    /// The entries of the directory `path` names.
    pub fn list(&self, path: &[u8]) -> Result<Vec<Dirent>, Errno> {
        self.readdir(&self.lookup(path, O_READ, 0)?)
    }
}
