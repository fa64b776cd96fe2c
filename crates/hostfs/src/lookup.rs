//! `dir_lookup` over the host tree, with the rules tmpfs follows (docs/namespace.md):
//! multi-component paths walked here with search permission checked at every directory,
//! `..` climbing the path kept in the open (at the root: `FS_RETRY_REAUTH` to the parent
//! the translator was given), host symlinks resolved here (relative) or handed back
//! (absolute, `FS_RETRY_MAGICAL`), never by the host.

use std::os::fd::OwnedFd;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use herd_fshelp::{join_path, MAX_SYMLINKS, PATH_MAX};
use herd_interfaces::types::consts::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use herd_interfaces::types::consts::open::{
    O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_EXEC, O_NOFOLLOW, O_NOLINK, O_READ, O_TRUNC, O_WRITE,
};
use herd_interfaces::types::consts::retry::{FS_RETRY_MAGICAL, FS_RETRY_NORMAL, FS_RETRY_REAUTH};
use herd_interfaces::types::consts::NAME_MAX;
use herd_iohelp::User;
use herd_runtime::{Errno, PortArg};
use rustix::fs::OFlags;

use crate::host::Path;
use crate::{send, Inner, Parent, Peropen};

/// A lookup's answer: `do_retry`, `retry_name`, `result`.
pub(crate) type Answer = (u32, String, PortArg);

impl Inner {
    /// `dir_lookup(path, flags, mode)` from the directory `start` for `user`.
    pub(crate) fn lookup(
        &self,
        user: &User,
        start: &Path,
        dotdot: &Option<Arc<Parent>>,
        path: &str,
        flags: u32,
        mode: u32,
    ) -> Result<Answer, Errno> {
        if path.len() > PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut dir = start.clone();
        let mut path = path.to_string();
        let mut links = 0;
        loop {
            let trimmed = path.trim_start_matches('/');
            if trimmed.is_empty() {
                return self.open_node(user, dir, flags, None, dotdot);
            }
            let (comp, rest) = match trimmed.find('/') {
                Some(i) => (&trimmed[..i], trimmed[i + 1..].trim_start_matches('/')),
                None => (trimmed, ""),
            };
            let flags = if rest.is_empty() && trimmed.ends_with('/') {
                (flags | O_DIRECTORY) & !(O_NOLINK | O_NOFOLLOW | O_CREAT)
            } else {
                flags
            };
            if comp.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let last = rest.is_empty();
            // Search permission on the directory, for the port's user.
            user.check_open(&self.tree.lstat(&dir)?, O_EXEC)?;
            match comp {
                "." => {
                    path = rest.to_string();
                    continue;
                }
                ".." => {
                    if let Some(parent) = dotdot.as_ref().filter(|d| d.at == dir) {
                        // Out of this translator (or of a reparented node).
                        let port = parent.port.try_clone().map_err(Errno::from)?;
                        return Ok((FS_RETRY_REAUTH, rest.to_string(), send(port)));
                    }
                    // The root's own `..` (with no parent given) is itself.
                    dir.pop();
                    path = rest.to_string();
                    continue;
                }
                _ => {}
            }
            let mut node = dir.clone();
            node.push(comp.to_string());
            let mut made = None;
            let st = match self.tree.lstat(&node) {
                Ok(st) if last && flags & O_CREAT != 0 && flags & O_EXCL != 0 => {
                    let _ = st;
                    return Err(Errno::EEXIST);
                }
                Ok(st) => st,
                Err(Errno::ENOENT) if last && flags & O_CREAT != 0 => {
                    self.check_writable()?;
                    user.check_open(&self.tree.lstat(&dir)?, O_WRITE)?;
                    // Opened at its making: any access, whatever its mode.
                    let host = host_access(flags) | OFlags::CREATE | OFlags::EXCL;
                    made = Some(self.tree.open_file(&node, host, mode)?);
                    self.tree.lstat(&node)?
                }
                Err(e) => return Err(e),
            };
            if st.mode & S_IFMT == S_IFLNK {
                if last && flags & O_NOLINK != 0 {
                    return self.open_node(user, node, flags, None, dotdot);
                }
                links += 1;
                if (last && flags & O_NOFOLLOW != 0) || links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = self.tree.readlink(&node)?;
                let next = join_path(&target, rest);
                if next.len() > PATH_MAX {
                    return Err(Errno::ENAMETOOLONG);
                }
                if target.starts_with('/') {
                    return Ok((FS_RETRY_MAGICAL, next, PortArg::Null));
                }
                path = next;
                continue;
            }
            if last {
                return self.open_node(user, node, flags, made, dotdot);
            }
            if st.mode & S_IFMT != S_IFDIR {
                return Err(Errno::ENOTDIR);
            }
            dir = node;
            path = rest.to_string();
        }
    }

    /// Opens `path` for `user` with `flags` after the checks, and answers its port. `made`
    /// is the host file this open just created (it may then have any access).
    pub(crate) fn open_node(
        &self,
        user: &User,
        path: Path,
        flags: u32,
        made: Option<OwnedFd>,
        dotdot: &Option<Arc<Parent>>,
    ) -> Result<Answer, Errno> {
        let st = self.tree.lstat(&path)?;
        let kind = st.mode & S_IFMT;
        if flags & O_DIRECTORY != 0 && kind != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        if kind == S_IFDIR && flags & O_WRITE != 0 {
            return Err(Errno::EISDIR);
        }
        if flags & (O_WRITE | O_TRUNC) != 0 {
            self.check_writable()?;
        }
        if made.is_none() {
            user.check_open(&st, flags)?;
        }
        let file = match made {
            Some(fd) => Some(fd),
            None if kind == S_IFREG && flags & (O_READ | O_WRITE) != 0 => {
                let mut host = host_access(flags);
                if flags & O_WRITE != 0 && flags & O_TRUNC != 0 {
                    host |= OFlags::TRUNC;
                }
                Some(self.tree.open_file(&path, host, 0)?)
            }
            None => None,
        };
        let po = Arc::new(Peropen {
            path,
            modes: AtomicU32::new(flags & (O_READ | O_WRITE | O_EXEC | O_APPEND)),
            pointer: Mutex::new(0),
            file,
            dotdot: dotdot.clone(),
        });
        let port = self.new_protid(user.clone(), po)?;
        Ok((FS_RETRY_NORMAL, String::new(), send(port)))
    }
}

/// The host access mode for `O_READ`/`O_WRITE`.
fn host_access(flags: u32) -> OFlags {
    match (flags & O_READ != 0, flags & O_WRITE != 0) {
        (true, true) => OFlags::RDWR,
        (false, true) => OFlags::WRONLY,
        _ => OFlags::RDONLY,
    }
}
