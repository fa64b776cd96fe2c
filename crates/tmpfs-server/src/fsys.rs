//! The fsys interface on the control port: roots for users, options (`--size`), go-away.

use std::time::Duration;

use herd_interfaces::fsys::FsysServer;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::Request;
use herd_iohelp::User;
use herd_runtime::{Errno, PortArg, Right};
use herd_tmpfs::{Ino, Limits};

use crate::server::Inner;

/// How long `fsys_goaway` waits for RPCs in progress, and for children to go.
const DRAIN: Duration = Duration::from_secs(2);

/// A size such as `1048576`, `64k`, `10M`, `2G` (powers of 1024).
pub fn parse_size(text: &str) -> Option<u64> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 10),
        b'm' | b'M' => (&text[..text.len() - 1], 20),
        b'g' | b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

/// The size limit the option words ask for: `Some(None)` for `--size=0` or none given
/// ("no limit"), `None` for words this server does not take.
fn size_option(words: &[String]) -> Option<Option<u64>> {
    let mut size = None;
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let value = match w.strip_prefix("--size") {
            Some("") => it.next()?.as_str(),
            Some(v) => v.strip_prefix('=')?,
            None => return None,
        };
        size = Some(parse_size(value)?).filter(|s| *s > 0);
    }
    Some(size)
}

impl Inner {
    /// The server's options: its name, then `--size=N` if there is a limit.
    pub(crate) fn options(&self) -> Vec<String> {
        let mut words = vec!["tmpfs".to_string()];
        let limits = self.fs().limits();
        if limits.max_bytes != u64::MAX {
            words.push(format!("--size={}", limits.max_bytes));
        }
        words
    }

    /// Applies option words (`fsys_set_options`, and the command line).
    pub(crate) fn set_options(&self, words: &[String]) -> Result<(), Errno> {
        if words.is_empty() {
            return Ok(());
        }
        let size = size_option(words).ok_or(Errno::EINVAL)?;
        let mut fs = self.fs();
        let limits = fs.limits();
        fs.set_limits(Limits {
            max_bytes: size.unwrap_or(u64::MAX),
            ..limits
        });
        Ok(())
    }
}

impl FsysServer for Inner {
    fn fsys_getroot(
        &self,
        req: &Request,
        dotdot: Right,
        gen_uids: Vec<u32>,
        gen_gids: Vec<u32>,
        flags: u32,
    ) -> Result<(u32, String, PortArg), Errno> {
        self.check_control(req.dest)?;
        let user = User::new(&gen_uids, &gen_gids)?;
        let dotdot = dotdot.into_send().map(|port| {
            std::sync::Arc::new(crate::server::Parent {
                at: Ino::ROOT,
                port,
            })
        });
        self.open_node(&user, Ino::ROOT, flags, false, dotdot)
    }

    fn fsys_goaway(&self, req: &Request, flags: u32) -> Result<(), Errno> {
        self.check_control(req.dest)?;
        let force = flags & FSYS_GOAWAY_FORCE != 0;
        let inhibited = match self.protids.inhibit(DRAIN) {
            Ok(i) => Some(i),
            Err(e) if !force => return Err(e),
            Err(_) => None,
        };
        if !force && self.protids.count() > 0 {
            tracing::debug!(opens = self.protids.count(), "goaway refused: in use");
            return Err(Errno::EBUSY);
        }
        // The translators on our nodes go first.
        let boxes: Vec<_> = self
            .boxes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for tb in boxes {
            if let Err(e) = tb.goaway(&self.task, flags, DRAIN) {
                if !force {
                    return Err(e);
                }
            }
        }
        tracing::info!(flags, "going away");
        if let Some(i) = inhibited {
            i.keep();
        }
        self.bucket.shutdown();
        Ok(())
    }

    fn fsys_syncfs(&self, req: &Request, _wait: bool, _do_children: bool) -> Result<(), Errno> {
        self.check_control(req.dest)
    }

    fn fsys_set_options(
        &self,
        req: &Request,
        options: Vec<u8>,
        _do_children: bool,
    ) -> Result<(), Errno> {
        self.check_control(req.dest)?;
        let mut words = argz::split(&options).ok_or(Errno::EINVAL)?;
        if words.first().map(String::as_str) == Some("tmpfs") {
            words.remove(0);
        }
        self.set_options(&words)
    }

    fn fsys_get_options(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.check_control(req.dest)?;
        Ok(argz::join(&self.options()))
    }

    fn fsys_get_source(&self, req: &Request) -> Result<String, Errno> {
        self.check_control(req.dest)?;
        Ok("tmpfs".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sizes_and_options() {
        assert_eq!(parse_size("64k"), Some(65536));
        assert_eq!(parse_size("2M"), Some(2 << 20));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("99999999999G"), None);
        assert_eq!(size_option(&w(&["--size=1k"])), Some(Some(1024)));
        assert_eq!(size_option(&w(&["--size", "10"])), Some(Some(10)));
        assert_eq!(size_option(&w(&["--size=0"])), Some(None));
        assert_eq!(size_option(&w(&[])), Some(None));
        assert_eq!(size_option(&w(&["--bogus"])), None);
        assert_eq!(size_option(&w(&["--size"])), None);
    }
}
