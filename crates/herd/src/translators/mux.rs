//! What `hostmux` and `usermux` share (the Hurd's `/hurd/hostmux` and `/hurd/usermux`):
//! a read-only directory whose entries are keys (host names, user names) that exist as
//! soon as they are looked up. A lookup of `KEY/rest` checks the key ([`Kind::check`]),
//! starts the translator command `TEMPLATE` with the key in place of the placeholder
//! (`%h` or `%u`; appended as the last argument when no word has one) through fshelp's
//! [`TransBox`] (one start per key, reused afterwards, started again if it died), and
//! answers the lookup with that translator's root: `FS_RETRY_REAUTH` with `rest`, as
//! any translator crossing. `dir_readdir` lists the keys started so far.
//!
//! Errors: a key that is not well formed, or (usermux `--known-only`) names no user in
//! the host's `/etc/passwd`, is `ENOENT` (nothing can be found under that name); a
//! translator that cannot start answers the looker-up fshelp's errno (`ENOENT` for a
//! template naming an unknown server, `ETIMEDOUT`, `EDIED`), and the mux keeps serving.
//! Changes (`dir_mkdir`, `dir_unlink`, `dir_rmdir`) are `EROFS`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use herd_fshelp::{join_path, Crossing, Launcher, TransBox, PATH_MAX};
use herd_interfaces::fs::FsServer;
use herd_interfaces::fsys::FsysServer;
use herd_interfaces::io::IoServer;
use herd_interfaces::types::argz;
use herd_interfaces::types::consts::fstype::FSTYPE_MISC;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::mode::S_IFDIR;
use herd_interfaces::types::consts::open::{O_EXEC, O_READ, O_WRITE};
use herd_interfaces::types::consts::retry::{FS_RETRY_NORMAL, FS_RETRY_REAUTH};
use herd_interfaces::types::consts::IO_MAX;
use herd_interfaces::types::dirent::{self, Dirent, DT_DIR};
use herd_interfaces::types::Stat;
use herd_interfaces::{fs as fsi, fsys as fsysi, io as ioi, Request};
use herd_iohelp::User;
use herd_ports::{Bucket, Class, Demuxer, PortRef};
use herd_runtime::server::ServeError;
use herd_runtime::{Errno, KernError, PortArg, PortName, Right, SendRight, ServeOptions, Task};

/// The longest host name (DNS).
pub const HOST_MAX: usize = 253;
/// The longest user name.
pub const USER_MAX: usize = 32;
/// How long the mux waits for a started translator to go away with it.
const GOAWAY_TIMEOUT: Duration = Duration::from_secs(2);

/// What the directory is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Host names (`hostmux`, placeholder `%h`).
    Host,
    /// User names (`usermux`, placeholder `%u`).
    User,
}

impl Kind {
    /// The server's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Host => "hostmux",
            Kind::User => "usermux",
        }
    }

    /// The placeholder the key replaces in the template.
    pub fn placeholder(self) -> &'static str {
        match self {
            Kind::Host => "%h",
            Kind::User => "%u",
        }
    }

    /// Whether `key` is well formed: a DNS-style host name (letters, digits, `-`, `.`,
    /// at most [`HOST_MAX`] bytes, no empty label, no label starting or ending in `-`) or a user name (`[a-z_][a-z0-9_-]*`,
    /// at most [`USER_MAX`] bytes).
    pub fn valid(self, key: &str) -> bool {
        match self {
            Kind::Host => {
                !key.is_empty()
                    && key.len() <= HOST_MAX
                    && key.split('.').all(|label| {
                        !label.is_empty()
                            && !label.starts_with('-')
                            && !label.ends_with('-')
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
            }
            Kind::User => {
                let mut bytes = key.bytes();
                key.len() <= USER_MAX
                    && bytes
                        .next()
                        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
                    && bytes.all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                    })
            }
        }
    }

    /// The translator command for `key`: every placeholder in `template` replaced by it,
    /// or `key` appended when no word has one.
    pub fn command(self, template: &[String], key: &str) -> Vec<String> {
        let ph = self.placeholder();
        if template.iter().any(|w| w.contains(ph)) {
            template.iter().map(|w| w.replace(ph, key)).collect()
        } else {
            let mut argv = template.to_vec();
            argv.push(key.to_string());
            argv
        }
    }
}

/// Whether `user` has an entry in the passwd file `text`.
pub fn passwd_has(text: &str, user: &str) -> bool {
    text.lines()
        .filter_map(|line| line.split(':').next())
        .any(|name| name == user)
}

/// How a mux is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Host or user names.
    pub kind: Kind,
    /// The translator command, with its placeholder.
    pub template: Vec<String>,
    /// usermux: only names in the host's `/etc/passwd`.
    pub known_only: bool,
}

/// The object behind the control port.
struct Control;

/// The object behind a port to the directory.
struct Protid {
    user: User,
    modes: u32,
    /// Where `..` leads (the directory the mux sits in), if the parent said.
    dotdot: Option<Arc<SendRight>>,
}

/// What the server's threads share.
struct Inner {
    config: Config,
    launcher: Launcher,
    bucket: Bucket,
    protids: Class<Protid>,
    control: PortRef<Control>,
    /// The keys looked up so far, each with its translator.
    entries: Mutex<BTreeMap<String, Arc<TransBox>>>,
    /// Owner and group of the directory.
    owner: (u32, u32),
}

impl Inner {
    fn protid(&self, dest: PortName) -> Result<PortRef<Protid>, Errno> {
        self.bucket.lookup(dest).ok_or(Errno::EOPNOTSUPP)
    }

    fn check_control(&self, dest: PortName) -> Result<(), Errno> {
        if dest == self.control.name() {
            Ok(())
        } else {
            Err(Errno::EOPNOTSUPP)
        }
    }

    fn task(&self) -> &Task {
        self.bucket.task()
    }

    fn new_protid(
        &self,
        user: User,
        modes: u32,
        dotdot: Option<Arc<SendRight>>,
    ) -> Result<SendRight, Errno> {
        self.bucket
            .create_port(
                &self.protids,
                Protid {
                    user,
                    modes,
                    dotdot,
                },
            )?
            .make_send()
    }

    /// A new open of the directory for `user` with `flags`.
    fn open_dir(
        &self,
        user: &User,
        flags: u32,
        dotdot: &Option<Arc<SendRight>>,
    ) -> Result<(u32, String, PortArg), Errno> {
        if flags & O_WRITE != 0 {
            return Err(Errno::EISDIR);
        }
        let port = self.new_protid(user.clone(), flags & (O_READ | O_EXEC), dotdot.clone())?;
        Ok((FS_RETRY_NORMAL, String::new(), PortArg::MoveSend(port)))
    }

    /// `ENOENT` unless `key` may be an entry.
    fn check_key(&self, key: &str) -> Result<(), Errno> {
        if !self.config.kind.valid(key) {
            tracing::debug!(key, "not a valid name");
            return Err(Errno::ENOENT);
        }
        if self.config.known_only && self.config.kind == Kind::User {
            let passwd = std::fs::read_to_string("/etc/passwd").map_err(|_| Errno::ENOENT)?;
            if !passwd_has(&passwd, key) {
                return Err(Errno::ENOENT);
            }
        }
        Ok(())
    }

    /// The box for `key`, made if new (`true`).
    fn entry(&self, key: &str) -> (Arc<TransBox>, bool) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some(tb) => (Arc::clone(tb), false),
            None => {
                let tb = Arc::new(TransBox::new());
                entries.insert(key.to_string(), Arc::clone(&tb));
                (tb, true)
            }
        }
    }

    /// Drops `key` if its translator never ran (so the listing shows started ones only).
    fn forget_idle(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.get(key).is_some_and(|tb| !tb.is_active()) {
            entries.remove(key);
        }
    }

    /// `dir_lookup(path)` from the directory for `p`.
    fn lookup(&self, p: &Protid, path: &str, flags: u32) -> Result<(u32, String, PortArg), Errno> {
        if path.len() > PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut path = path.trim_start_matches('/');
        loop {
            if path.is_empty() {
                return self.open_dir(&p.user, flags, &p.dotdot);
            }
            let (key, rest) = match path.find('/') {
                Some(i) => (&path[..i], path[i + 1..].trim_start_matches('/')),
                None => (path, ""),
            };
            match key {
                "." => path = rest,
                ".." => match &p.dotdot {
                    Some(parent) => {
                        let port = parent.try_clone().map_err(Errno::from)?;
                        return Ok((FS_RETRY_REAUTH, rest.to_string(), PortArg::MoveSend(port)));
                    }
                    // The root's own `..` is itself.
                    None => path = rest,
                },
                _ => return self.cross(p, key, rest, flags),
            }
        }
    }

    /// Crosses into `key`'s translator, starting it if need be.
    fn cross(
        &self,
        p: &Protid,
        key: &str,
        rest: &str,
        flags: u32,
    ) -> Result<(u32, String, PortArg), Errno> {
        self.check_key(key)?;
        let argv = self.config.kind.command(&self.config.template, key);
        let (tb, new) = self.entry(key);
        // The translator's `..`: this directory, for the user looking up.
        let dotdot = self.new_protid(p.user.clone(), 0, p.dotdot.clone())?;
        let crossing = Crossing {
            task: self.task(),
            launcher: &self.launcher,
            user: &p.user,
            flags: if rest.is_empty() { flags } else { 0 },
            dotdot: Some(&dotdot),
        };
        let answer = tb.fetch_root(&crossing, Some(&argv), &mut || Ok(PortArg::Null));
        if new {
            tracing::info!(key, ?argv, ok = answer.is_ok(), "started a translator");
        }
        match answer {
            Ok(Some(r)) => {
                // Listed even if a failed start dropped the key meanwhile.
                self.entries
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(key.to_string())
                    .or_insert(tb);
                let port = r.port.into_send().map_or(PortArg::Null, PortArg::MoveSend);
                let do_retry = match r.do_retry {
                    FS_RETRY_NORMAL => FS_RETRY_REAUTH,
                    other => other,
                };
                Ok((do_retry, join_path(&r.name, rest), port))
            }
            Ok(None) => Err(Errno::ENOENT),
            Err(e) => {
                tracing::info!(key, ?argv, %e, "translator did not answer");
                self.forget_idle(key);
                Err(e)
            }
        }
    }

    /// The names listed, after `.` and `..`.
    fn names(&self) -> Vec<String> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.keys().cloned().collect()
    }

    fn options_words(&self) -> Vec<String> {
        let mut words = vec![self.config.kind.name().to_string()];
        if self.config.known_only {
            words.push("--known-only".into());
        }
        words.extend(self.config.template.iter().cloned());
        words
    }
}

impl FsServer for Inner {
    fn dir_lookup(
        &self,
        req: &Request,
        file_name: String,
        flags: u32,
        _mode: u32,
    ) -> Result<(u32, String, PortArg), Errno> {
        let p = self.protid(req.dest)?;
        self.lookup(p.object(), &file_name, flags)
    }

    fn dir_readdir(
        &self,
        req: &Request,
        entry: i32,
        nentries: i32,
        bufsiz: u64,
    ) -> Result<(Vec<u8>, i32), Errno> {
        let p = self.protid(req.dest)?;
        if p.object().modes & O_READ == 0 {
            return Err(Errno::EBADF);
        }
        let skip = usize::try_from(entry).map_err(|_| Errno::EINVAL)?;
        let want = usize::try_from(nentries).unwrap_or(usize::MAX);
        let limit = match bufsiz {
            0 => IO_MAX as usize,
            n => n.min(IO_MAX) as usize,
        };
        let all = [".".to_string(), "..".to_string()]
            .into_iter()
            .chain(self.names());
        let (mut data, mut count) = (Vec::new(), 0);
        for (i, name) in all.enumerate().skip(skip).take(want) {
            let d = Dirent {
                ino: i as u64 + 1,
                kind: DT_DIR,
                name,
            };
            if data.len() + d.encoded_len() > limit {
                if count == 0 {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            dirent::encode_into(&mut data, &d);
            count += 1;
        }
        Ok((data, count))
    }

    fn dir_mkdir(&self, req: &Request, _name: String, _mode: u32) -> Result<(), Errno> {
        self.protid(req.dest)?;
        Err(Errno::EROFS)
    }

    fn dir_rmdir(&self, req: &Request, _name: String) -> Result<(), Errno> {
        self.protid(req.dest)?;
        Err(Errno::EROFS)
    }

    fn dir_unlink(&self, req: &Request, _name: String) -> Result<(), Errno> {
        self.protid(req.dest)?;
        Err(Errno::EROFS)
    }

    fn file_get_fs_options(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.protid(req.dest)?;
        Ok(argz::join(&self.options_words()))
    }
}

impl IoServer for Inner {
    fn io_stat(&self, req: &Request) -> Result<Stat, Errno> {
        self.protid(req.dest)?;
        Ok(Stat {
            fstype: FSTYPE_MISC,
            ino: 1,
            mode: S_IFDIR | 0o555,
            nlink: 2,
            uid: self.owner.0,
            gid: self.owner.1,
            author: self.owner.0,
            blksize: 4096,
            ..Stat::default()
        })
    }

    fn io_get_openmodes(&self, req: &Request) -> Result<u32, Errno> {
        Ok(self.protid(req.dest)?.object().modes)
    }

    fn io_restrict_auth(
        &self,
        req: &Request,
        uids: Vec<u32>,
        gids: Vec<u32>,
    ) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        let p = p.object();
        let user = p.user.restrict(&uids, &gids)?;
        self.new_protid(user, p.modes, p.dotdot.clone())
            .map(PortArg::MoveSend)
    }

    fn io_duplicate(&self, req: &Request) -> Result<PortArg, Errno> {
        let p = self.protid(req.dest)?;
        let p = p.object();
        self.new_protid(p.user.clone(), p.modes, p.dotdot.clone())
            .map(PortArg::MoveSend)
    }

    fn io_server_version(&self, req: &Request) -> Result<(String, i32, i32, i32), Errno> {
        self.protid(req.dest)?;
        Ok((self.config.kind.name().to_string(), 0, 1, 0))
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
        let dotdot = dotdot.into_send().map(Arc::new);
        self.open_dir(&user, flags, &dotdot)
    }

    fn fsys_goaway(&self, req: &Request, flags: u32) -> Result<(), Errno> {
        self.check_control(req.dest)?;
        if flags & FSYS_GOAWAY_FORCE == 0 && self.protids.count() > 0 {
            return Err(Errno::EBUSY);
        }
        // The translators it started go with it.
        let boxes: Vec<Arc<TransBox>> = {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            entries.values().cloned().collect()
        };
        for tb in boxes {
            if let Err(e) = tb.goaway(self.task(), flags | FSYS_GOAWAY_FORCE, GOAWAY_TIMEOUT) {
                tracing::info!(%e, "a translator refused to go away");
            }
        }
        tracing::info!(flags, "going away");
        self.bucket.shutdown();
        Ok(())
    }

    fn fsys_get_options(&self, req: &Request) -> Result<Vec<u8>, Errno> {
        self.check_control(req.dest)?;
        Ok(argz::join(&self.options_words()))
    }
}

/// Runs a mux as a translator until it is asked to go away.
pub fn run(config: Config) -> Result<()> {
    let name = config.kind.name();
    let task =
        Task::from_env(name).context("joining the kernel (start translators with settrans)")?;
    let bootstrap = *task
        .initial_ports()
        .first()
        .context("no bootstrap port: start this translator with settrans")?;
    let bootstrap = SendRight::from_name(&task, bootstrap);
    let mut launcher = Launcher::current_exe().context("finding the herd binary")?;
    if let Ok(log) = std::env::var("HERD_LOG") {
        launcher = launcher.env(vec![format!("HERD_LOG={log}")]);
    }
    let bucket = Bucket::new(&task).context("making the server's ports")?;
    let control = bucket
        .create_port(&Class::new("mux-control"), Control)
        .context("making the control port")?;
    let send = control.make_send().context("making the control port")?;
    // The node it sits on is not needed: the directory has its own modes.
    let _realnode = herd_fshelp::bootstrap::startup(&task, &bootstrap, send)
        .with_context(|| format!("starting {name} as a translator"))?;
    let inner = Arc::new(Inner {
        config,
        launcher,
        bucket,
        protids: Class::new("mux-protid"),
        control,
        entries: Mutex::new(BTreeMap::new()),
        owner: (
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw(),
        ),
    });
    tracing::info!(translator = name, task = task.id(), "serving");
    let (a, b, c) = (Arc::clone(&inner), Arc::clone(&inner), Arc::clone(&inner));
    let demux = Demuxer::new()
        .with(move |m| ioi::try_dispatch(&*a, m))
        .with(move |m| fsi::try_dispatch(&*b, m))
        .with(move |m| fsysi::try_dispatch(&*c, m));
    let opts = ServeOptions {
        thread_name: name.to_string(),
        ..ServeOptions::default()
    };
    match inner.bucket.serve(demux, opts) {
        Ok(()) => tracing::info!(translator = name, "gone away"),
        Err(ServeError::Kern(KernError::InvalidTask)) => {
            tracing::info!(translator = name, "the kernel is gone")
        }
        Err(e) => return Err(e).with_context(|| format!("{name} stopped serving")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn host_names() {
        for ok in ["alpha", "a-b.example.org", "x1", "1.2.3.4"] {
            assert!(Kind::Host.valid(ok), "{ok}");
        }
        let long = "a".repeat(HOST_MAX + 1);
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a_b",
            "a/b",
            "é",
            "-",
            "a.-b",
            long.as_str(),
        ] {
            assert!(!Kind::Host.valid(bad), "{bad}");
        }
    }

    #[test]
    fn user_names() {
        for ok in ["alice", "_x", "bob-2", "a_b"] {
            assert!(Kind::User.valid(ok), "{ok}");
        }
        let long = "a".repeat(USER_MAX + 1);
        for bad in ["", "Alice", "1x", "-x", "a.b", long.as_str()] {
            assert!(!Kind::User.valid(bad), "{bad}");
        }
        assert!(passwd_has(
            "root:x:0:0::/root:/bin/sh\nbob:x:1:1::/:/bin/sh\n",
            "bob"
        ));
        assert!(!passwd_has("root:x:0:0::/root:/bin/sh\n", "bo"));
    }

    #[test]
    fn commands() {
        let t = words(&["/hurd/symlink", "/data/%h"]);
        assert_eq!(
            Kind::Host.command(&t, "alpha"),
            ["/hurd/symlink", "/data/alpha"]
        );
        let t = words(&["/hurd/symlink"]);
        assert_eq!(Kind::User.command(&t, "bob"), ["/hurd/symlink", "bob"]);
        let t = words(&["/hurd/x", "%u-%u"]);
        assert_eq!(Kind::User.command(&t, "b"), ["/hurd/x", "b-b"]);
    }
}
