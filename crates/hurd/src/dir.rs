//! Directory changes by path: `mkdir`, `unlink`, `rmdir`, `rename`, `link` and
//! `symlink`. Each looks up the directory holding the last component
//! ([`crate::path::split_parent`]) and sends the `dir_*` call there.

use herd_interfaces::fs;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::open::O_WRITE;
use herd_interfaces::types::consts::trans::{FS_TRANS_EXCL, FS_TRANS_SET};
use herd_runtime::{Errno, PortArg, SendRight};

use crate::call::{dest, send_right};
use crate::path::{split_parent, PATH_MAX};
use crate::trans::SYMLINK_TRANSLATOR;
use crate::Namespace;

impl Namespace {
    /// The directory holding `path`'s last component, and that component.
    fn parent<'p>(&self, path: &'p [u8]) -> Result<(SendRight, &'p str), Errno> {
        let (dir, name) = split_parent(path)?;
        Ok((self.lookup(dir.as_bytes(), 0, 0)?, name))
    }

    /// Makes the directory `path` with permission bits `mode`.
    pub fn mkdir(&self, path: &[u8], mode: u32) -> Result<(), Errno> {
        let (dir, name) = self.parent(path)?;
        self.call(
            fs::codec::encode_dir_mkdir_request(dest(&dir), name, mode),
            fs::codec::decode_dir_mkdir_reply,
        )
    }

    /// Removes the name `path` (not a directory).
    pub fn unlink(&self, path: &[u8]) -> Result<(), Errno> {
        let (dir, name) = self.parent(path)?;
        self.call(
            fs::codec::encode_dir_unlink_request(dest(&dir), name),
            fs::codec::decode_dir_unlink_reply,
        )
    }

    /// Removes the empty directory `path`.
    pub fn rmdir(&self, path: &[u8]) -> Result<(), Errno> {
        let (dir, name) = self.parent(path)?;
        self.call(
            fs::codec::encode_dir_rmdir_request(dest(&dir), name),
            fs::codec::decode_dir_rmdir_reply,
        )
    }

    /// Renames `from` to `to`, replacing what `to` names (both in one file system, else
    /// `EXDEV`).
    pub fn rename(&self, from: &[u8], to: &[u8]) -> Result<(), Errno> {
        let (old_dir, old_name) = self.parent(from)?;
        let (new_dir, new_name) = self.parent(to)?;
        self.call(
            fs::codec::encode_dir_rename_request(
                dest(&old_dir),
                old_name,
                dest(&new_dir),
                new_name,
                false,
            ),
            fs::codec::decode_dir_rename_reply,
        )
    }

    /// Gives the node `file` is open on the new name `path` (which must not exist).
    pub fn link(&self, file: &SendRight, path: &[u8]) -> Result<(), Errno> {
        let (dir, name) = self.parent(path)?;
        self.call(
            fs::codec::encode_dir_link_request(dest(&dir), dest(file), name, true),
            fs::codec::decode_dir_link_reply,
        )
    }

    /// Makes `path` a symbolic link to `target`, as glibc does on the Hurd: a new unnamed
    /// node (`dir_mkfile`) gets the passive translator `/hurd/symlink TARGET` (which a file
    /// server stores as a symlink) and is then linked in as `path`.
    pub fn symlink(&self, target: &[u8], path: &[u8]) -> Result<(), Errno> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let target = crate::path::check(target)?;
        let (dir, name) = self.parent(path)?;
        let node = self.call(
            fs::codec::encode_dir_mkfile_request(dest(&dir), O_WRITE, 0o777),
            fs::codec::decode_dir_mkfile_reply,
        )?;
        let node = send_right(node)?;
        self.set_translator(
            &node,
            FS_TRANS_EXCL | FS_TRANS_SET,
            0,
            0,
            &argz::join(&[SYMLINK_TRANSLATOR, target]),
            PortArg::Null,
        )?;
        self.call(
            fs::codec::encode_dir_link_request(dest(&dir), dest(&node), name, true),
            fs::codec::decode_dir_link_reply,
        )
    }
}
