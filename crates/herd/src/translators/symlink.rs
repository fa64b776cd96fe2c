//! `herd symlink TARGET`: a node that is a symbolic link to `TARGET`, as the Hurd's
//! `/hurd/symlink`. A lookup through it is answered with a retry: an absolute target
//! `FS_RETRY_MAGICAL` with the target (the looker-up restarts at its root), a relative one
//! `FS_RETRY_REAUTH` at the directory the node sits in with the target as the name. The
//! node itself (looked up with `O_NOLINK`) shows `S_IFLNK` and the target's length, reads
//! as the target, and `file_get_translator` answers `/hurd/symlink TARGET`. The same
//! record stored as a passive translator on a tmpfs node makes a symlink without a process;
//! this translator serves it on any node, set active.

use anyhow::Result;
use clap::Args;
use herd_interfaces::types::consts::fstype::FSTYPE_MISC;
use herd_interfaces::types::consts::mode::S_IFLNK;
use herd_interfaces::types::consts::open::{O_NOFOLLOW, O_NOLINK, O_WRITE};
use herd_interfaces::types::consts::retry::{FS_RETRY_MAGICAL, FS_RETRY_REAUTH};
use herd_runtime::{Errno, SendRight, Task};
use herd_trivfs::{Node, Redirect, User};

use super::NodeArgs;

/// The longest target taken (`PATH_MAX` less its NUL).
const MAX_TARGET: usize = 4095;

/// Arguments of `herd symlink`.
#[derive(Args, Debug)]
pub struct SymlinkArgs {
    /// Where the link points: an absolute path (from the looker-up's root) or one relative
    /// to the directory the node sits in.
    #[arg(value_parser = parse_target)]
    target: String,
    #[command(flatten)]
    node: NodeArgs,
}

/// Checks a link target: not empty, at most `PATH_MAX - 1` bytes.
pub(crate) fn parse_target(text: &str) -> Result<String, String> {
    if text.is_empty() {
        Err("the link target is empty".into())
    } else if text.len() > MAX_TARGET {
        Err(format!("the link target is over {MAX_TARGET} bytes"))
    } else {
        Ok(text.to_string())
    }
}

/// What a node that is a link to a name shows of itself: `S_IFLNK`, the target as its
/// contents and size; writes refused. Shared by `symlink` and `firmlink`.
pub(crate) struct LinkNode {
    /// The server's name (`symlink`, `firmlink`).
    pub name: &'static str,
    /// The target, as given.
    pub target: String,
}

impl LinkNode {
    /// Opens the link itself (reading only).
    pub fn open(&self, flags: u32) -> Result<(), Errno> {
        if flags & O_WRITE != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(())
    }

    /// Up to `amount` bytes of the target at `offset`.
    pub fn read(&self, offset: u64, amount: usize) -> Vec<u8> {
        let bytes = self.target.as_bytes();
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start.saturating_add(amount).min(bytes.len());
        bytes[start..end].to_vec()
    }

    /// The passive record this link is: `/hurd/NAME TARGET`.
    pub fn record(&self) -> Vec<String> {
        vec![format!("/hurd/{}", self.name), self.target.clone()]
    }
}

/// The symlink translator's node.
pub struct Symlink(LinkNode);

impl Symlink {
    /// A link to `target`.
    pub fn new(target: String) -> Symlink {
        Symlink(LinkNode {
            name: "symlink",
            target,
        })
    }
}

impl Node for Symlink {
    type Open = ();

    fn name(&self) -> &str {
        self.0.name
    }

    fn fstype(&self) -> u32 {
        FSTYPE_MISC
    }

    fn file_type(&self) -> u32 {
        S_IFLNK
    }

    fn open(&self, _user: &User, flags: u32) -> Result<(), Errno> {
        self.0.open(flags)
    }

    fn read(&self, _open: &(), offset: u64, amount: usize) -> Result<Vec<u8>, Errno> {
        Ok(self.0.read(offset, amount))
    }

    fn size(&self, _open: &()) -> u64 {
        self.0.target.len() as u64
    }

    fn set_size(&self, _open: &(), _size: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn getroot(
        &self,
        _task: &Task,
        dotdot: Option<SendRight>,
        _user: &User,
        flags: u32,
    ) -> Result<Option<Redirect>, Errno> {
        redirect(&self.0.target, dotdot, flags)
    }

    fn passive(&self) -> Option<Vec<String>> {
        Some(self.0.record())
    }

    fn options(&self) -> Vec<String> {
        vec![self.0.target.clone()]
    }
}

/// The answer a lookup of a symlink to `target` gets: the node itself with `O_NOLINK`,
/// `ELOOP` with `O_NOFOLLOW` (only the last component is looked up with flags), else the
/// retry to the target.
fn redirect(
    target: &str,
    dotdot: Option<SendRight>,
    flags: u32,
) -> Result<Option<Redirect>, Errno> {
    if flags & O_NOLINK != 0 {
        return Ok(None);
    }
    if flags & O_NOFOLLOW != 0 {
        return Err(Errno::ELOOP);
    }
    if target.starts_with('/') {
        return Ok(Some(Redirect {
            do_retry: FS_RETRY_MAGICAL,
            name: target.to_string(),
            port: None,
        }));
    }
    // A relative target goes on from the directory the node is in; with none given
    // (the translator is no node's), there is nowhere to go.
    let dir = dotdot.ok_or(Errno::ENOENT)?;
    Ok(Some(Redirect {
        do_retry: FS_RETRY_REAUTH,
        name: target.to_string(),
        port: Some(dir),
    }))
}

/// Runs `herd symlink`.
pub fn run(args: SymlinkArgs) -> Result<()> {
    super::run(Symlink::new(args.target), args.node, 0o777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_checked_and_answers_follow_the_flags() {
        assert!(parse_target("").is_err());
        assert!(parse_target(&"a".repeat(MAX_TARGET + 1)).is_err());
        assert_eq!(parse_target("../x").unwrap(), "../x");
        let abs = redirect("/etc/x", None, 0).unwrap().unwrap();
        assert_eq!(
            (abs.do_retry, abs.name.as_str()),
            (FS_RETRY_MAGICAL, "/etc/x")
        );
        assert!(abs.port.is_none());
        assert_eq!(redirect("x", None, 0).err(), Some(Errno::ENOENT));
        assert!(redirect("x", None, O_NOLINK).unwrap().is_none());
        assert_eq!(redirect("x", None, O_NOFOLLOW).err(), Some(Errno::ELOOP));
        let s = Symlink::new("abc".into());
        assert_eq!(s.passive().unwrap(), ["/hurd/symlink", "abc"]);
        assert_eq!(s.read(&(), 1, 10).unwrap(), b"bc");
        assert_eq!(s.open(&User::nobody(), O_WRITE), Err(Errno::EOPNOTSUPP));
    }
}
