//! Reading and writing regular files and changing their size. The server layer checked at
//! open time that the caller may read or write ([`Fs::access`]); these calls only apply
//! Linux's rule that a write by anyone but the superuser clears the setuid bit (and the
//! setgid bit of a group-executable file).

use crate::change::Change;
use crate::error::{Error, Result};
use crate::file::{FileData, CHUNK_SIZE, MAX_FILE_SIZE};
use crate::fs::Fs;
use crate::node::{Body, Node};
use crate::types::{mode, Identity, Ino};

/// The most bytes one `read` returns (a larger request gets a short read).
pub const MAX_READ: usize = 16 << 20;

/// The file data of a node: `EISDIR` for a directory, `EINVAL` for other kinds.
fn file_mut(node: &mut Node) -> Result<&mut FileData> {
    match &mut node.body {
        Body::File(f) => Ok(f),
        Body::Directory(_) => Err(Error::IsDirectory),
        _ => Err(Error::Invalid),
    }
}

/// Linux's `file_remove_privs` for a write or truncate by `who`.
fn remove_privileges(node: &mut Node, who: &Identity) {
    if who.is_superuser() {
        return;
    }
    node.perm &= !mode::S_ISUID;
    let sgid_exec = mode::S_ISGID | mode::S_IXGRP;
    if node.perm & sgid_exec == sgid_exec {
        node.perm &= !mode::S_ISGID;
    }
}

impl Fs {
    /// Read up to `len` bytes (at most [`MAX_READ`]) from `offset`; short at the end of the
    /// file, empty past it. Holes read as zeros.
    pub fn read(&mut self, ino: Ino, offset: u64, len: usize) -> Result<Vec<u8>> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        let data = file_mut(node)?.read(offset, len.min(MAX_READ));
        node.touch_accessed(now);
        Ok(data)
    }

    /// Write `data` at `offset`, extending the file if needed (the gap reads as zeros).
    /// Returns the bytes written: short if the size limit is reached part way (at a chunk
    /// boundary) or the write would pass [`MAX_FILE_SIZE`]; `ENOSPC` if nothing fits,
    /// `EFBIG` if `offset` is at or past the largest size. Writing nothing changes nothing.
    pub fn write(&mut self, who: &Identity, ino: Ino, offset: u64, data: &[u8]) -> Result<usize> {
        let now = self.now();
        let budget = self.free_bytes() / CHUNK_SIZE as u64;
        let node = self.node_mut(ino)?;
        let file = file_mut(node)?;
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= MAX_FILE_SIZE {
            return Err(Error::FileTooBig);
        }
        let len = data
            .len()
            .min((MAX_FILE_SIZE - offset).min(usize::MAX as u64) as usize);
        let (written, allocated) = file.write(offset, &data[..len], budget);
        if written == 0 {
            return Err(Error::NoSpace);
        }
        remove_privileges(node, who);
        node.touch_modified(now);
        self.charge(allocated * CHUNK_SIZE as u64);
        self.changes.push(Change::Written {
            ino,
            start: offset,
            end: offset + written as u64,
        });
        Ok(written)
    }

    /// Truncate or extend a file to `size` bytes (extending allocates nothing; the new
    /// bytes read as zeros). `EFBIG` past [`MAX_FILE_SIZE`]. Times change only if the size
    /// does.
    pub fn set_size(&mut self, who: &Identity, ino: Ino, size: u64) -> Result<()> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        let file = file_mut(node)?;
        if size > MAX_FILE_SIZE {
            return Err(Error::FileTooBig);
        }
        let old = file.size();
        if old == size {
            return Ok(());
        }
        let freed = file.set_size(size);
        remove_privileges(node, who);
        node.touch_modified(now);
        self.uncharge(freed * CHUNK_SIZE as u64);
        self.changes.push(Change::Resized {
            ino,
            old,
            new: size,
        });
        Ok(())
    }
}
