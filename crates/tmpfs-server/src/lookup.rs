//! `dir_lookup` with the Hurd's semantics: multi-component paths resolved inside the
//! server; relative symlinks followed here, absolute ones handed back with
//! `FS_RETRY_MAGICAL`; `..` out of a translator's root handed back with `FS_RETRY_REAUTH`
//! and the port the parent gave (`fsys_getroot`'s `dotdot`); a node with a translator
//! crossed through fshelp, answering the translator's root and the rest of the path.

use std::sync::Arc;

use herd_fshelp::{command_from_argz, owner_user, Crossing};
use herd_interfaces::types::consts::open::{
    CHANGEABLE, O_CREAT, O_DIRECTORY, O_EXCL, O_EXEC, O_NOFOLLOW, O_NOLINK, O_NOTRANS, O_READ,
    O_TRUNC, O_WRITE,
};
use herd_interfaces::types::consts::retry::{FS_RETRY_MAGICAL, FS_RETRY_NORMAL, FS_RETRY_REAUTH};
use herd_interfaces::types::consts::NAME_MAX;
use herd_iohelp::User;
use herd_runtime::{Errno, PortArg};
use herd_tmpfs::{Ino, Kind};

use crate::server::{access_of, errno, identity, symlink_record, Inner, Parent, Protid};

pub use herd_fshelp::{MAX_SYMLINKS, PATH_MAX};

/// A lookup's answer: `do_retry`, `retry_name`, `result`.
pub(crate) type Answer = (u32, String, PortArg);

use herd_fshelp::join_path as join;

impl Inner {
    /// `dir_lookup(path, flags, mode)` at the protid `p`.
    pub(crate) fn lookup(
        &self,
        p: &Protid,
        path: &str,
        flags: u32,
        mode: u32,
    ) -> Result<Answer, Errno> {
        if path.len() > PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let who = identity(&p.user);
        let mut dir = p.po.ino;
        let mut path = path.to_string();
        let mut links = 0;
        loop {
            let trimmed = path.trim_start_matches('/');
            if trimmed.is_empty() {
                // An empty name re-opens the node itself.
                return self.open_node(&p.user, dir, flags, false, p.po.dotdot.clone());
            }
            let (comp, rest) = match trimmed.find('/') {
                Some(i) => (&trimmed[..i], trimmed[i + 1..].trim_start_matches('/')),
                None => (trimmed, ""),
            };
            // `name/` must be a directory, and a symlink there is followed (POSIX).
            let flags = if rest.is_empty() && trimmed.ends_with('/') {
                (flags | O_DIRECTORY) & !(O_NOLINK | O_NOFOLLOW | O_CREAT)
            } else {
                flags
            };
            if comp.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let last = rest.is_empty();
            if comp == ".." {
                if let Some(dotdot) = p.po.dotdot.as_ref().filter(|d| d.at == dir) {
                    // Out of this translator (or of a reparented node): the client
                    // reauthenticates to the parent.
                    let port = dotdot.port.try_clone().map_err(Errno::from)?;
                    return Ok((FS_RETRY_REAUTH, rest.to_string(), PortArg::MoveSend(port)));
                }
            }
            let (ino, created) = {
                let mut fs = self.fs();
                if last && flags & O_CREAT != 0 {
                    fs.create(
                        &who,
                        dir,
                        comp.as_bytes(),
                        mode & 0o7777,
                        flags & O_EXCL != 0,
                    )
                } else {
                    fs.lookup(&who, dir, comp.as_bytes()).map(|i| (i, false))
                }
                .map_err(errno)?
            };
            if let Some(target) = self.link_target(ino) {
                if last && flags & O_NOLINK != 0 {
                    return self.open_node(&p.user, ino, flags, created, p.po.dotdot.clone());
                }
                links += 1;
                if (last && flags & O_NOFOLLOW != 0) || links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = String::from_utf8(target).map_err(|_| Errno::EINVAL)?;
                let next = join(&target, rest);
                if next.len() > PATH_MAX {
                    return Err(Errno::ENAMETOOLONG);
                }
                if target.starts_with('/') {
                    // Absolute: the client restarts at its own root.
                    return Ok((FS_RETRY_MAGICAL, next, PortArg::Null));
                }
                path = next;
                continue;
            }
            if !(last && flags & O_NOTRANS != 0) {
                let root_flags = if last { flags & !(O_CREAT | O_EXCL) } else { 0 };
                if let Some(answer) = self.cross(p, dir, ino, rest, root_flags)? {
                    return Ok(answer);
                }
            }
            if last {
                return self.open_node(&p.user, ino, flags, created, p.po.dotdot.clone());
            }
            dir = ino;
            path = rest.to_string();
        }
    }

    /// A symlink's target: a symlink node's, or a `/hurd/symlink TARGET` record's.
    pub(crate) fn link_target(&self, ino: Ino) -> Option<Vec<u8>> {
        let mut fs = self.fs();
        let st = fs.stat(ino).ok()?;
        match st.kind {
            Kind::Symlink => fs.readlink(ino).ok(),
            Kind::File if st.translated => fs.translator(ino).ok().and_then(symlink_record),
            _ => None,
        }
    }

    /// Crosses the translator on `ino` (in directory `dir`), if it has one: its root for
    /// `p`'s user, and `rest` to look up there.
    fn cross(
        &self,
        p: &Protid,
        dir: Ino,
        ino: Ino,
        rest: &str,
        flags: u32,
    ) -> Result<Option<Answer>, Errno> {
        let (passive, owner) = {
            let fs = self.fs();
            let record = fs.translator(ino).map_err(errno)?.to_vec();
            (
                command_from_argz(&record)?,
                owner_user(&self.stat_of(&fs, ino)?),
            )
        };
        let active = self.transbox(ino).is_some_and(|t| t.is_active());
        if passive.is_none() && !active {
            return Ok(None);
        }
        let tb = self.transbox_or_new(ino);
        // The translator's `..`: this directory, for the user looking up.
        let dotdot = self.new_open(dir, p.user.clone(), 0, p.po.dotdot.clone())?;
        let realnode_dotdot = p.po.dotdot.clone();
        let mut realnode = || {
            self.new_open(
                ino,
                owner.clone(),
                O_READ | O_WRITE,
                realnode_dotdot.clone(),
            )
            .map(PortArg::MoveSend)
        };
        let crossing = Crossing {
            task: &self.task,
            launcher: &self.launcher,
            user: &p.user,
            flags,
            dotdot: Some(&dotdot),
        };
        let answer = tb.fetch_root(&crossing, passive.as_deref(), &mut realnode)?;
        Ok(answer.map(|r| {
            let port = r.port.into_send().map_or(PortArg::Null, PortArg::MoveSend);
            (r.do_retry, join(&r.name, rest), port)
        }))
    }

    /// Opens `ino` for `user` with `flags` after the checks (`created`: it was just made
    /// by this open, which may then have any access), and answers its port.
    pub(crate) fn open_node(
        &self,
        user: &User,
        ino: Ino,
        flags: u32,
        created: bool,
        dotdot: Option<Arc<Parent>>,
    ) -> Result<Answer, Errno> {
        {
            let who = identity(user);
            let mut fs = self.fs();
            let st = fs.stat(ino).map_err(errno)?;
            let is_dir = st.kind == Kind::Directory;
            if flags & O_DIRECTORY != 0 && !is_dir {
                return Err(Errno::ENOTDIR);
            }
            if is_dir && flags & O_WRITE != 0 {
                return Err(Errno::EISDIR);
            }
            if !created {
                fs.access(&who, ino, access_of(flags)).map_err(errno)?;
            }
            if flags & O_TRUNC != 0 && flags & O_WRITE != 0 && st.kind == Kind::File {
                fs.set_size(&who, ino, 0).map_err(errno)?;
            }
        }
        let modes = flags & (O_READ | O_WRITE | O_EXEC | CHANGEABLE);
        let port = self.new_open(ino, user.clone(), modes, dotdot)?;
        Ok((FS_RETRY_NORMAL, String::new(), PortArg::MoveSend(port)))
    }
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn joins_names() {
        assert_eq!(join("", "a/b"), "a/b");
        assert_eq!(join("x", ""), "x");
        assert_eq!(join("x", "y"), "x/y");
    }
}
