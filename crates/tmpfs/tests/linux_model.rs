//! Model test against Linux: random sequences of operations run on herd's tmpfs and, the
//! same paths, on a real directory (under `/dev/shm`, Linux's tmpfs, when there is one).
//! Every answer (errno values included), every `lstat`, listing and read must agree, and so
//! must the whole trees at the end. Then everything is removed through tmpfs and its
//! accounting must be back to an empty root.
//!
//! The test runs as whatever user runs it; the tmpfs side uses the same uid and groups, so
//! permission answers are compared too when that user is not root, e.g.
//! `setpriv --reuid 1000 --regid 1000 --clear-groups target/debug/deps/linux_model-HASH`.
//! Path resolution, with symlinks, is done by a small walker over [`Fs::lookup`] here (the
//! server layer's job), checking what Linux's path walk checks.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use herd_tmpfs::{
    Access, Error, Fs, Identity, Ino, Kind, Limits, ManualClock, RenameMode, Timestamp,
};
use proptest::prelude::*;
use rustix::fs::{renameat_with, RenameFlags, CWD};

const ELOOP: i32 = 40;
const MAX_SYMLINKS: u32 = 40;

type NamePath = Vec<&'static str>;

#[derive(Debug, Clone)]
enum Op {
    Mkdir(NamePath, u32),
    Create(NamePath, u32),
    Symlink(NamePath, &'static str),
    Link(NamePath, NamePath),
    Unlink(NamePath),
    Rmdir(NamePath),
    Rename(NamePath, NamePath, RenameMode),
    Write(NamePath, u64, usize, u8),
    Truncate(NamePath, u64),
    Chmod(NamePath, u32),
    Stat(NamePath),
    Readdir(NamePath),
    Read(NamePath, u64, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Unit,
    Count(usize),
    Bytes(Vec<u8>),
    Stat {
        kind: Kind,
        perm: u32,
        size: u64,
        nlink: u32,
    },
    Names(Vec<(Vec<u8>, Kind)>),
}

type Answer = Result<Out, i32>;

/// Every node by path: kind, permission bits, size, links, and file data or symlink target.
type Snapshot = BTreeMap<Vec<u8>, (Kind, u32, u64, u32, Vec<u8>)>;

fn path() -> impl Strategy<Value = NamePath> {
    let name = || prop::sample::select(vec!["a", "b", "c"]);
    prop_oneof![
        4 => prop::collection::vec(name(), 1),
        3 => prop::collection::vec(name(), 2),
        1 => prop::collection::vec(name(), 3),
    ]
}

fn perm() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![
        0o755, 0o700, 0o644, 0o600, 0o000, 0o1777, 0o2755, 0o4711,
    ])
}

fn op() -> impl Strategy<Value = Op> {
    let target = prop::sample::select(vec!["a", "b", "a/b", "c/a", "zz", ".", "b/."]);
    let mode = prop::sample::select(vec![
        RenameMode::Replace,
        RenameMode::Replace,
        RenameMode::NoReplace,
        RenameMode::Exchange,
    ]);
    prop_oneof![
        3 => (path(), perm()).prop_map(|(p, m)| Op::Mkdir(p, m)),
        3 => (path(), perm()).prop_map(|(p, m)| Op::Create(p, m)),
        1 => (path(), target).prop_map(|(p, t)| Op::Symlink(p, t)),
        1 => (path(), path()).prop_map(|(a, b)| Op::Link(a, b)),
        2 => path().prop_map(Op::Unlink),
        2 => path().prop_map(Op::Rmdir),
        3 => (path(), path(), mode).prop_map(|(a, b, m)| Op::Rename(a, b, m)),
        3 => (path(), 0u64..20_000, 0usize..9_000, any::<u8>())
            .prop_map(|(p, o, l, b)| Op::Write(p, o, l, b)),
        1 => (path(), 0u64..20_000).prop_map(|(p, s)| Op::Truncate(p, s)),
        1 => (path(), perm()).prop_map(|(p, m)| Op::Chmod(p, m)),
        2 => path().prop_map(Op::Stat),
        1 => path().prop_map(Op::Readdir),
        1 => (path(), 0u64..20_000, 0usize..9_000).prop_map(|(p, o, l)| Op::Read(p, o, l)),
    ]
}

fn kind_of(t: fs::FileType) -> Kind {
    if t.is_dir() {
        Kind::Directory
    } else if t.is_symlink() {
        Kind::Symlink
    } else if t.is_file() {
        Kind::File
    } else {
        Kind::Fifo
    }
}

// ---------------------------------------------------------------- the Linux side

struct Linux {
    root: PathBuf,
}

fn os(r: io::Result<Out>) -> Answer {
    r.map_err(|e| e.raw_os_error().unwrap_or(-1))
}

impl Linux {
    fn new() -> Linux {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let root = base.join(format!("herd-tmpfs-model-{}-{n}", std::process::id()));
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o1777)).unwrap();
        Linux { root }
    }

    fn at(&self, p: &[&str]) -> PathBuf {
        self.root.join(p.join("/"))
    }

    fn apply(&self, op: &Op) -> Answer {
        os(match op {
            Op::Mkdir(p, m) => fs::DirBuilder::new()
                .mode(*m)
                .create(self.at(p))
                .map(|_| Out::Unit),
            Op::Create(p, m) => OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(*m)
                .open(self.at(p))
                .map(|_| Out::Unit),
            Op::Symlink(p, t) => std::os::unix::fs::symlink(t, self.at(p)).map(|_| Out::Unit),
            Op::Link(a, b) => fs::hard_link(self.at(a), self.at(b)).map(|_| Out::Unit),
            Op::Unlink(p) => fs::remove_file(self.at(p)).map(|_| Out::Unit),
            Op::Rmdir(p) => fs::remove_dir(self.at(p)).map(|_| Out::Unit),
            Op::Rename(a, b, m) => {
                let flags = match m {
                    RenameMode::Replace => RenameFlags::empty(),
                    RenameMode::NoReplace => RenameFlags::NOREPLACE,
                    RenameMode::Exchange => RenameFlags::EXCHANGE,
                };
                renameat_with(CWD, self.at(a), CWD, self.at(b), flags)
                    .map(|_| Out::Unit)
                    .map_err(io::Error::from)
            }
            Op::Write(p, off, len, byte) => OpenOptions::new()
                .write(true)
                .open(self.at(p))
                .and_then(|f| f.write_at(&vec![*byte; *len], *off))
                .map(Out::Count),
            Op::Truncate(p, size) => OpenOptions::new()
                .write(true)
                .open(self.at(p))
                .and_then(|f| f.set_len(*size))
                .map(|_| Out::Unit),
            Op::Chmod(p, m) => {
                fs::set_permissions(self.at(p), fs::Permissions::from_mode(*m)).map(|_| Out::Unit)
            }
            Op::Stat(p) => fs::symlink_metadata(self.at(p)).map(|m| {
                use std::os::unix::fs::MetadataExt;
                Out::Stat {
                    kind: kind_of(m.file_type()),
                    perm: m.mode() & 0o7777,
                    size: m.size(),
                    nlink: m.nlink() as u32,
                }
            }),
            Op::Readdir(p) => fs::read_dir(self.at(p)).and_then(|rd| {
                let mut v = Vec::new();
                for e in rd {
                    let e = e?;
                    v.push((e.file_name().as_bytes().to_vec(), kind_of(e.file_type()?)));
                }
                v.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Out::Names(v))
            }),
            Op::Read(p, off, len) => fs::File::open(self.at(p)).and_then(|f| {
                let mut buf = vec![0u8; *len];
                // At least one read, as a zero-length read still answers EISDIR.
                let mut done = 0;
                loop {
                    match f.read_at(&mut buf[done..], *off + done as u64)? {
                        0 => break,
                        n => done += n,
                    }
                    if done == buf.len() {
                        break;
                    }
                }
                buf.truncate(done);
                Ok(Out::Bytes(buf))
            }),
        })
    }

    /// Give the owner read and write (and search, on directories) on everything, so a
    /// non-root user can take a snapshot.
    fn open_up(&self, dir: &Path) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let m = fs::symlink_metadata(e.path()).unwrap();
            let extra = match kind_of(m.file_type()) {
                Kind::Directory => 0o700,
                Kind::File => 0o600,
                _ => continue,
            };
            let perm = m.permissions().mode() & 0o7777;
            fs::set_permissions(e.path(), fs::Permissions::from_mode(perm | extra)).unwrap();
            if extra == 0o700 {
                self.open_up(&e.path());
            }
        }
    }

    /// Every node under the root by path: kind, permission bits, size, links, and contents
    /// (file data or symlink target).
    fn snapshot(&self) -> Snapshot {
        use std::os::unix::fs::MetadataExt;
        let mut out = BTreeMap::new();
        let mut todo = vec![(self.root.clone(), Vec::new())];
        while let Some((dir, prefix)) = todo.pop() {
            for e in fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                let mut name = prefix.clone();
                name.extend_from_slice(e.file_name().as_bytes());
                let m = fs::symlink_metadata(e.path()).unwrap();
                let kind = kind_of(m.file_type());
                let content = match kind {
                    Kind::File => fs::read(e.path()).unwrap(),
                    Kind::Symlink => fs::read_link(e.path())
                        .unwrap()
                        .as_os_str()
                        .as_bytes()
                        .to_vec(),
                    _ => Vec::new(),
                };
                out.insert(
                    name.clone(),
                    (kind, m.mode() & 0o7777, m.size(), m.nlink() as u32, content),
                );
                if kind == Kind::Directory {
                    let mut sub = name;
                    sub.push(b'/');
                    todo.push((e.path(), sub));
                }
            }
        }
        out
    }
}

impl Drop for Linux {
    fn drop(&mut self) {
        fn open_up(dir: &Path) {
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
            if let Ok(rd) = fs::read_dir(dir) {
                for e in rd.flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        open_up(&e.path());
                    }
                }
            }
        }
        open_up(&self.root);
        let _ = fs::remove_dir_all(&self.root);
    }
}

// ---------------------------------------------------------------- the tmpfs side

struct Model {
    fs: Fs,
    who: Identity,
}

fn e(err: Error) -> i32 {
    err.errno().0
}

impl Model {
    fn new(who: Identity) -> Model {
        let mut fs = Fs::new(Limits::UNLIMITED, ManualClock::new(Timestamp::new(1, 0)));
        // The root as the Linux side's: owned by the user, mode 1777.
        fs.chown(
            &Identity::root(),
            Ino::ROOT,
            who.uids.first().copied(),
            who.gids.first().copied(),
        )
        .unwrap();
        Model { fs, who }
    }

    fn kind(&self, ino: Ino) -> Result<Kind, i32> {
        self.fs.stat(ino).map(|s| s.kind).map_err(e)
    }

    /// Walk `comps` from `cur`, following symlinks in every component but the last, and
    /// in the last too if `follow_last`.
    fn walk(
        &mut self,
        mut cur: Ino,
        comps: &[&[u8]],
        follow_last: bool,
        links: &mut u32,
    ) -> Result<Ino, i32> {
        for (i, c) in comps.iter().enumerate() {
            let mut ino = self.fs.lookup(&self.who, cur, c).map_err(e)?;
            let last = i + 1 == comps.len();
            if self.kind(ino)? == Kind::Symlink && (!last || follow_last) {
                *links += 1;
                if *links > MAX_SYMLINKS {
                    return Err(ELOOP);
                }
                let target = self.fs.readlink(ino).map_err(e)?;
                let start = if target.starts_with(b"/") {
                    Ino::ROOT
                } else {
                    cur
                };
                let parts: Vec<&[u8]> = target
                    .split(|&b| b == b'/')
                    .filter(|s| !s.is_empty())
                    .collect();
                ino = self.walk(start, &parts, true, links)?;
            }
            cur = ino;
        }
        Ok(cur)
    }

    fn resolve(&mut self, p: &[&str], follow: bool) -> Result<Ino, i32> {
        let comps: Vec<&[u8]> = p.iter().map(|s| s.as_bytes()).collect();
        self.walk(Ino::ROOT, &comps, follow, &mut 0)
    }

    fn parent<'p>(&mut self, p: &'p [&str]) -> Result<(Ino, &'p [u8]), i32> {
        let (last, dirs) = p.split_last().ok_or(e(Error::NotFound))?;
        let dir = self.resolve(dirs, true)?;
        if self.kind(dir)? != Kind::Directory {
            return Err(e(Error::NotDirectory));
        }
        // Linux checks search permission on the parent while finding it.
        self.fs.access(&self.who, dir, Access::EXEC).map_err(e)?;
        Ok((dir, last.as_bytes()))
    }

    /// Linux's `open` checks for a node about to be read or written.
    fn open(&mut self, p: &[&str], want: Access) -> Result<Ino, i32> {
        let ino = self.resolve(p, true)?;
        if want.contains(Access::WRITE) && self.kind(ino)? == Kind::Directory {
            return Err(e(Error::IsDirectory));
        }
        self.fs.access(&self.who, ino, want).map_err(e)?;
        Ok(ino)
    }

    fn apply(&mut self, op: &Op) -> Answer {
        let who = self.who.clone();
        match op {
            Op::Mkdir(p, m) => {
                let (d, n) = self.parent(p)?;
                self.fs.mkdir(&who, d, n, *m).map(|_| Out::Unit).map_err(e)
            }
            Op::Create(p, m) => {
                let (d, n) = self.parent(p)?;
                self.fs
                    .create(&who, d, n, *m, true)
                    .map(|_| Out::Unit)
                    .map_err(e)
            }
            Op::Symlink(p, t) => {
                let (d, n) = self.parent(p)?;
                self.fs
                    .symlink(&who, d, n, t.as_bytes())
                    .map(|_| Out::Unit)
                    .map_err(e)
            }
            Op::Link(a, b) => {
                let src = self.resolve(a, false)?;
                let (d, n) = self.parent(b)?;
                self.fs.link(&who, src, d, n).map(|_| Out::Unit).map_err(e)
            }
            Op::Unlink(p) => {
                let (d, n) = self.parent(p)?;
                self.fs.unlink(&who, d, n).map(|_| Out::Unit).map_err(e)
            }
            Op::Rmdir(p) => {
                let (d, n) = self.parent(p)?;
                self.fs.rmdir(&who, d, n).map(|_| Out::Unit).map_err(e)
            }
            Op::Rename(a, b, m) => {
                let (fd, fname) = self.parent(a)?;
                let (td, tname) = self.parent(b)?;
                self.fs
                    .rename(&who, fd, fname, td, tname, *m)
                    .map(|_| Out::Unit)
                    .map_err(e)
            }
            Op::Write(p, off, len, byte) => {
                let ino = self.open(p, Access::WRITE)?;
                self.fs
                    .write(&who, ino, *off, &vec![*byte; *len])
                    .map(Out::Count)
                    .map_err(e)
            }
            Op::Truncate(p, size) => {
                let ino = self.open(p, Access::WRITE)?;
                self.fs
                    .set_size(&who, ino, *size)
                    .map(|_| Out::Unit)
                    .map_err(e)
            }
            Op::Chmod(p, m) => {
                let ino = self.resolve(p, true)?;
                self.fs.chmod(&who, ino, *m).map(|_| Out::Unit).map_err(e)
            }
            Op::Stat(p) => {
                let ino = self.resolve(p, false)?;
                let st = self.fs.stat(ino).map_err(e)?;
                Ok(Out::Stat {
                    kind: st.kind,
                    perm: st.perm,
                    size: st.size,
                    nlink: st.nlink,
                })
            }
            Op::Readdir(p) => {
                let ino = self.resolve(p, true)?;
                if self.kind(ino)? != Kind::Directory {
                    return Err(e(Error::NotDirectory));
                }
                self.fs.access(&who, ino, Access::READ).map_err(e)?;
                let mut v: Vec<_> = self
                    .fs
                    .readdir(ino, 2, usize::MAX)
                    .map_err(e)?
                    .into_iter()
                    .map(|d| (d.name, d.kind))
                    .collect();
                v.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Out::Names(v))
            }
            Op::Read(p, off, len) => {
                let ino = self.open(p, Access::READ)?;
                self.fs.read(ino, *off, *len).map(Out::Bytes).map_err(e)
            }
        }
    }

    fn snapshot(&mut self) -> Snapshot {
        let mut out = BTreeMap::new();
        let mut todo = vec![(Ino::ROOT, Vec::new())];
        while let Some((dir, prefix)) = todo.pop() {
            for d in self.fs.readdir(dir, 2, usize::MAX).unwrap() {
                let mut name = prefix.clone();
                name.extend_from_slice(&d.name);
                let st = self.fs.stat(d.ino).unwrap();
                let content = match st.kind {
                    Kind::File => self.fs.read(d.ino, 0, st.size as usize).unwrap(),
                    Kind::Symlink => self.fs.readlink(d.ino).unwrap(),
                    _ => Vec::new(),
                };
                out.insert(name.clone(), (st.kind, st.perm, st.size, st.nlink, content));
                if st.kind == Kind::Directory {
                    let mut sub = name;
                    sub.push(b'/');
                    todo.push((d.ino, sub));
                }
            }
        }
        out
    }

    /// What [`Linux::open_up`] does, done the same way here.
    fn open_up(&mut self, dir: Ino) {
        let who = self.who.clone();
        for d in self.fs.readdir(dir, 2, usize::MAX).unwrap() {
            let extra = match d.kind {
                Kind::Directory => 0o700,
                Kind::File => 0o600,
                _ => continue,
            };
            let perm = self.fs.stat(d.ino).unwrap().perm;
            self.fs.chmod(&who, d.ino, perm | extra).unwrap();
            if extra == 0o700 {
                self.open_up(d.ino);
            }
        }
    }

    /// Remove everything, as the superuser, through tmpfs.
    fn clear(&mut self, dir: Ino) {
        let r = Identity::root();
        for d in self.fs.readdir(dir, 2, usize::MAX).unwrap() {
            if d.kind == Kind::Directory {
                self.clear(d.ino);
                self.fs.rmdir(&r, dir, &d.name).unwrap();
            } else {
                self.fs.unlink(&r, dir, &d.name).unwrap();
            }
        }
    }
}

fn identity() -> Identity {
    let mut gids = vec![rustix::process::getegid().as_raw()];
    if let Ok(groups) = rustix::process::getgroups() {
        gids.extend(groups.iter().map(|g| g.as_raw()));
    }
    Identity {
        uids: vec![rustix::process::geteuid().as_raw()],
        gids,
    }
}

fn clear_umask() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        rustix::process::umask(rustix::fs::Mode::empty());
    });
}

proptest! {
    // 256 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn tmpfs_answers_as_linux_does(ops in prop::collection::vec(op(), 1..60)) {
        clear_umask();
        let linux = Linux::new();
        let mut model = Model::new(identity());
        for (i, op) in ops.iter().enumerate() {
            let want = linux.apply(op);
            let got = model.apply(op);
            prop_assert_eq!(&got, &want, "op {} {:?}", i, op);
            if let Err(problem) = model.fs.check_consistency() {
                prop_assert!(false, "after op {} {:?}: {}", i, op, problem);
            }
        }
        let root_perm = fs::metadata(&linux.root).unwrap().permissions().mode() & 0o7777;
        fs::set_permissions(&linux.root, fs::Permissions::from_mode(root_perm | 0o700)).unwrap();
        let who = model.who.clone();
        let root_perm = model.fs.stat(Ino::ROOT).unwrap().perm;
        model.fs.chmod(&who, Ino::ROOT, root_perm | 0o700).unwrap();
        linux.open_up(&linux.root);
        model.open_up(Ino::ROOT);
        prop_assert_eq!(model.snapshot(), linux.snapshot());
        model.clear(Ino::ROOT);
        prop_assert_eq!((model.fs.used_inodes(), model.fs.used_bytes()), (1, 0));
        prop_assert_eq!(model.fs.stat(Ino::ROOT).unwrap().nlink, 2);
        prop_assert!(model.fs.check_consistency().is_ok());
    }
}
