//! trivfs against a real kernel in this process: the bootstrap handshake, opens for
//! different users, io, status changes, bad input and go-away.
//!
//! The translator runs on threads of the test's own task (each thread has its own
//! connection); translators as separate processes are tested in the herd binary.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::Duration;

use herd_interfaces::types::argz;
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::open::{O_APPEND, O_NONBLOCK, O_RDWR, O_READ, O_WRITE};
use herd_interfaces::types::consts::retry::FS_RETRY_NORMAL;
use herd_interfaces::types::consts::seek::{SEEK_END, SEEK_SET};
use herd_interfaces::types::consts::{mode, IO_MAX, UTIME_NOW, UTIME_OMIT};
use herd_interfaces::types::Timespec;
use herd_interfaces::{fs, fsys, io};
use herd_kernel::KernelHandle;
use herd_runtime::{Errno, OutMessage, PortArg, SendRight, ServeOptions, Task};
use herd_testing::kernel;
use herd_trivfs::bootstrap::{accept_startup, AcceptError};
use herd_trivfs::{Attrs, Node, Trivfs, User};

const LONG: Duration = Duration::from_secs(20);
const OWNER: u32 = 1000;

/// A node that keeps what is written, and numbers its opens.
struct Memo {
    data: Mutex<Vec<u8>>,
    opens: AtomicUsize,
    options: Mutex<Vec<String>>,
}

impl Node for Memo {
    type Open = usize;

    fn name(&self) -> &str {
        "memo"
    }

    fn file_type(&self) -> u32 {
        mode::S_IFREG
    }

    fn open(&self, _user: &User, _flags: u32) -> Result<usize, Errno> {
        Ok(self.opens.fetch_add(1, Ordering::SeqCst))
    }

    fn read(&self, _open: &usize, offset: u64, amount: usize) -> Result<Vec<u8>, Errno> {
        let data = self.data.lock().unwrap();
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(amount).min(data.len());
        Ok(data[start..end].to_vec())
    }

    fn write(&self, _open: &usize, offset: u64, bytes: &[u8]) -> Result<u64, Errno> {
        let mut data = self.data.lock().unwrap();
        let offset = offset as usize;
        if data.len() < offset + bytes.len() {
            data.resize(offset + bytes.len(), 0);
        }
        data[offset..offset + bytes.len()].copy_from_slice(bytes);
        Ok(bytes.len() as u64)
    }

    fn size(&self, _open: &usize) -> u64 {
        self.data.lock().unwrap().len() as u64
    }

    fn options(&self) -> Vec<String> {
        self.options.lock().unwrap().clone()
    }

    fn set_options(&self, words: &[String]) -> Result<(), Errno> {
        if words.iter().any(|w| !w.starts_with("--")) {
            return Err(Errno::EINVAL);
        }
        *self.options.lock().unwrap() = words.to_vec();
        Ok(())
    }
}

struct Running {
    /// The kernel, if this translator's test owns it.
    _kernel: Option<KernelHandle>,
    task: Task,
    control: SendRight,
    served: Mutex<mpsc::Receiver<()>>,
}

/// Starts a Memo translator through the bootstrap handshake.
fn start(label: &str) -> Running {
    let (kernel, task) = kernel(label);
    start_in(Some(kernel), task, PortArg::Null)
}

/// Starts a Memo translator in `task`, on `realnode`.
fn start_in(kernel: Option<KernelHandle>, task: Task, realnode: PortArg) -> Running {
    let bootstrap = task.allocate_port().unwrap();
    let send = bootstrap.make_send().unwrap();
    let (done, served) = mpsc::channel();
    let t = task.clone();
    thread::spawn(move || {
        let node = Memo {
            data: Mutex::new(Vec::new()),
            opens: AtomicUsize::new(0),
            options: Mutex::new(Vec::new()),
        };
        let attrs = Attrs {
            uid: OWNER,
            gid: OWNER,
            mode: 0o644,
        };
        let server = Trivfs::startup_with(&t, node, send, attrs).expect("startup");
        let _ = server.serve(ServeOptions::default());
        let _ = done.send(());
    });
    let started = accept_startup(&task, &bootstrap, realnode, LONG).expect("fsys_startup");
    assert_eq!(started.openflags, 0);
    Running {
        _kernel: kernel,
        task,
        control: started.control,
        served: Mutex::new(served),
    }
}

fn root(r: &Running, user: (&[u32], &[u32]), flags: u32) -> Result<SendRight, Errno> {
    let (retry, name, file) =
        fsys::fsys_getroot(&r.task, &r.control, PortArg::Null, user.0, user.1, flags)?;
    assert_eq!((retry, name.as_str()), (FS_RETRY_NORMAL, ""));
    Ok(file.into_send().expect("a root port"))
}

const OWNER_IDS: (&[u32], &[u32]) = (&[OWNER], &[OWNER]);
const OTHER_IDS: (&[u32], &[u32]) = (&[2000], &[2000]);

#[test]
fn reads_writes_seeks_and_status() {
    let r = start("io");
    let f = root(&r, OWNER_IDS, O_RDWR).unwrap();
    let t = &r.task;
    assert_eq!(io::io_write(t, &f, b"hello", -1), Ok(5));
    assert_eq!(io::io_write(t, &f, b"J", 0), Ok(1));
    assert_eq!(io::io_read(t, &f, 0, 100), Ok(b"Jello".to_vec()));
    // The file pointer moved past the first write only.
    assert_eq!(io::io_read(t, &f, -1, 100), Ok(Vec::new()));
    assert_eq!(io::io_seek(t, &f, 1, SEEK_SET), Ok(1));
    assert_eq!(io::io_readable(t, &f), Ok(4));
    assert_eq!(io::io_read(t, &f, -1, 2), Ok(b"el".to_vec()));
    assert_eq!(io::io_seek(t, &f, -1, SEEK_END), Ok(4));
    assert_eq!(io::io_seek(t, &f, -10, SEEK_SET), Err(Errno::EINVAL));
    assert_eq!(io::io_seek(t, &f, 0, 7), Err(Errno::EINVAL));
    // A duplicate shares the pointer; appending writes at the end.
    let dup = io::io_duplicate(t, &f).unwrap().into_send().unwrap();
    assert_eq!(io::io_read(t, &dup, -1, 10), Ok(b"o".to_vec()));
    io::io_set_some_openmodes(t, &dup, O_APPEND | O_NONBLOCK).unwrap();
    assert_eq!(
        io::io_get_openmodes(t, &f),
        Ok(O_RDWR | O_APPEND | O_NONBLOCK)
    );
    assert_eq!(io::io_write(t, &f, b"!", -1), Ok(1));
    assert_eq!(io::io_read(t, &f, 0, 100), Ok(b"Jello!".to_vec()));
    io::io_clear_some_openmodes(t, &f, O_APPEND | O_READ).unwrap();
    assert_eq!(io::io_get_openmodes(t, &f), Ok(O_RDWR | O_NONBLOCK));
    let st = io::io_stat(t, &f).unwrap();
    assert_eq!(st.mode, mode::S_IFREG | 0o644);
    assert_eq!((st.uid, st.gid, st.size, st.nlink), (OWNER, OWNER, 6, 1));
    assert_eq!(
        io::io_server_version(t, &f).unwrap(),
        ("memo".to_string(), 0, 1, 0)
    );
    let (id1, _fsid, fileno) = io::io_identity(t, &f).unwrap();
    let (id2, _, _) = io::io_identity(t, &dup).unwrap();
    assert_eq!(id1.name(), id2.name(), "one node, one identity port");
    assert_eq!(fileno, 1);
    assert_eq!(fs::file_check_access(t, &f), Ok(O_READ | O_WRITE));
    assert_eq!(fs::file_statfs(t, &f).unwrap().bsize, IO_MAX);
    // A re-open through dir_lookup with an empty name; any other name is not a directory.
    let (retry, rest, again) = fs::dir_lookup(t, &f, "", O_READ, 0).unwrap();
    assert_eq!((retry, rest.as_str()), (FS_RETRY_NORMAL, ""));
    let again = again.into_send().unwrap();
    assert_eq!(io::io_read(t, &again, -1, 5), Ok(b"Jello".to_vec()));
    assert_eq!(io::io_write(t, &again, b"x", -1), Err(Errno::EBADF));
    assert_eq!(
        fs::dir_lookup(t, &f, "x", O_READ, 0).err(),
        Some(Errno::ENOTDIR)
    );
}

#[test]
fn opens_and_changes_are_checked_against_the_user() {
    let r = start("perm");
    let t = &r.task;
    assert_eq!(root(&r, OTHER_IDS, O_WRITE).err(), Some(Errno::EACCES));
    let theirs = root(&r, OTHER_IDS, O_READ).unwrap();
    assert_eq!(io::io_write(t, &theirs, b"x", 0), Err(Errno::EBADF));
    assert_eq!(fs::file_chmod(t, &theirs, 0o666), Err(Errno::EPERM));
    assert_eq!(
        fs::file_chown(t, &theirs, 2000, u32::MAX),
        Err(Errno::EPERM)
    );
    assert_eq!(fs::file_getcontrol(t, &theirs).err(), Some(Errno::EPERM));
    let now = Timespec {
        sec: 0,
        nsec: UTIME_NOW,
    };
    assert_eq!(fs::file_utimes(t, &theirs, now, now), Err(Errno::EPERM));
    let mine = root(&r, (&[OWNER], &[OWNER, 50]), O_READ).unwrap();
    assert_eq!(fs::file_chmod(t, &mine, 0o100_666 | mode::S_ISGID), Ok(()));
    assert_eq!(
        io::io_stat(t, &mine).unwrap().mode,
        mode::S_IFREG | 0o666 | mode::S_ISGID
    );
    // Now anyone may write.
    assert!(root(&r, OTHER_IDS, O_WRITE).is_ok());
    assert_eq!(fs::file_chown(t, &mine, 2000, u32::MAX), Err(Errno::EPERM));
    assert_eq!(fs::file_chown(t, &mine, u32::MAX, 51), Err(Errno::EPERM));
    assert_eq!(fs::file_chown(t, &mine, u32::MAX, 50), Ok(()));
    let set = Timespec { sec: 7, nsec: 8 };
    let omit = Timespec {
        sec: 0,
        nsec: UTIME_OMIT,
    };
    assert_eq!(fs::file_utimes(t, &mine, set, omit), Ok(()));
    let st = io::io_stat(t, &mine).unwrap();
    assert_eq!((st.gid, st.atime), (50, set));
    assert_ne!(st.mtime, set);
    let bad = Timespec {
        sec: 0,
        nsec: 2_000_000_000,
    };
    assert_eq!(fs::file_utimes(t, &mine, bad, omit), Err(Errno::EINVAL));
    // Root may do anything; a restricted port of root's is just the ids given.
    let root_port = root(&r, (&[0], &[0]), O_READ).unwrap();
    assert_eq!(fs::file_chown(t, &root_port, 3000, 3000), Ok(()));
    let cut = io::io_restrict_auth(t, &root_port, &[4000], &[4000])
        .unwrap()
        .into_send()
        .unwrap();
    assert_eq!(fs::file_chmod(t, &cut, 0o600), Err(Errno::EPERM));
    assert!(fs::file_getcontrol(t, &root_port).is_ok());
}

#[test]
fn bad_input_is_refused_with_clear_errors() {
    let r = start("bad");
    let t = &r.task;
    let f = root(&r, OWNER_IDS, O_RDWR).unwrap();
    let raw = |dest: &SendRight, id: u32, data: &[u8]| {
        let mut m = OutMessage::new(PortArg::CopySend(dest.name()), id);
        m.data = data.to_vec();
        let reply = t.rpc(m, None).unwrap();
        Errno(i32::from_le_bytes(reply.data[..4].try_into().unwrap()))
    };
    assert_eq!(raw(&f, 4242, b""), Errno::MIG_BAD_ID);
    assert_eq!(
        raw(&f, io::ids::IO_READ, b"\x01\x02"),
        Errno::MIG_BAD_ARGUMENTS
    );
    assert_eq!(
        raw(&r.control, fsys::ids::FSYS_GETROOT, &[0xff; 9]),
        Errno::MIG_BAD_ARGUMENTS
    );
    // A huge id list is refused before anything is allocated.
    let mut huge = u32::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(&[0; 8]);
    assert_eq!(
        raw(&r.control, fsys::ids::FSYS_GETROOT, &huge),
        Errno::MIG_BAD_ARGUMENTS
    );
    // Absurd sizes are bounded; negative offsets are invalid.
    io::io_write(t, &f, &vec![7u8; IO_MAX as usize + 10], 0).unwrap();
    assert_eq!(
        io::io_read(t, &f, 0, u64::MAX).unwrap().len(),
        IO_MAX as usize
    );
    assert_eq!(io::io_read(t, &f, -5, 1), Err(Errno::EINVAL));
    assert_eq!(io::io_write(t, &f, b"x", i64::MIN), Err(Errno::EINVAL));
    // Routines on the wrong kind of port.
    assert_eq!(io::io_read(t, &r.control, 0, 1), Err(Errno::EOPNOTSUPP));
    assert_eq!(fsys::fsys_goaway(t, &f, 0), Err(Errno::EOPNOTSUPP));
    assert_eq!(fs::dir_mkdir(t, &f, "d", 0o755), Err(Errno::EOPNOTSUPP));
    // Options: a bad one is refused, a good one kept.
    let opts = |words: &[&str]| fsys::fsys_set_options(t, &r.control, &argz::join(words), false);
    assert_eq!(opts(&["bogus"]), Err(Errno::EINVAL));
    assert_eq!(opts(&["memo", "--loud"]), Ok(()));
    assert_eq!(
        fsys::fsys_set_options(t, &r.control, b"\xff\0", false),
        Err(Errno::EINVAL)
    );
    let got = fsys::fsys_get_options(t, &r.control).unwrap();
    assert_eq!(argz::split(&got).unwrap(), ["memo", "--loud"]);
    assert_eq!(
        argz::split(&fs::file_get_fs_options(t, &f).unwrap()).unwrap(),
        ["memo", "--loud"]
    );
}

#[test]
fn goaway_waits_for_users_unless_forced() {
    let r = start("goaway");
    let t = &r.task;
    let f = root(&r, OWNER_IDS, O_READ).unwrap();
    assert_eq!(fsys::fsys_goaway(t, &r.control, 0), Err(Errno::EBUSY));
    assert_eq!(io::io_read(t, &f, 0, 1), Ok(Vec::new()), "still serving");
    drop(f);
    // The open goes once its no-senders notification is handled.
    let deadline = std::time::Instant::now() + LONG;
    loop {
        match fsys::fsys_goaway(t, &r.control, 0) {
            Ok(()) => break,
            Err(Errno::EBUSY) if std::time::Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(2))
            }
            other => panic!("goaway: {other:?}"),
        }
    }
    r.served
        .lock()
        .unwrap()
        .recv_timeout(LONG)
        .expect("serving ends");
    assert_eq!(
        fsys::fsys_getroot(t, &r.control, PortArg::Null, &[], &[], 0).err(),
        Some(Errno::EDIED)
    );
}

#[test]
fn forced_goaway_leaves_clients_with_edied() {
    let r = start("force");
    let t = &r.task;
    let f = root(&r, OWNER_IDS, O_READ).unwrap();
    assert_eq!(fsys::fsys_goaway(t, &r.control, FSYS_GOAWAY_FORCE), Ok(()));
    r.served
        .lock()
        .unwrap()
        .recv_timeout(LONG)
        .expect("serving ends");
    assert_eq!(io::io_read(t, &f, 0, 1), Err(Errno::EDIED));
}

#[test]
fn a_parent_learns_of_a_translator_that_never_starts() {
    let (_kernel, task) = kernel("never");
    let bootstrap = task.allocate_port().unwrap();
    // Nobody holds a send right: the translator "died".
    drop(bootstrap.make_send().unwrap());
    assert!(matches!(
        accept_startup(&task, &bootstrap, PortArg::Null, LONG),
        Err(AcceptError::Died)
    ));
    // One that holds the right but never calls: a timeout.
    let bootstrap = task.allocate_port().unwrap();
    let _held = bootstrap.make_send().unwrap();
    assert!(matches!(
        accept_startup(&task, &bootstrap, PortArg::Null, Duration::from_millis(50)),
        Err(AcceptError::TimedOut(_))
    ));
}

#[test]
fn a_translator_on_a_node_takes_its_owner_and_mode_from_it() {
    // The node underneath is another trivfs server (uid 1000, mode 644).
    let below = start("below");
    let node = root(&below, OWNER_IDS, 0).unwrap();
    let above = start_in(None, below.task.clone(), PortArg::MoveSend(node));
    let t = &above.task;
    let mine = root(&above, OWNER_IDS, O_READ).unwrap();
    let st = io::io_stat(t, &mine).unwrap();
    assert_eq!((st.uid, st.mode), (OWNER, mode::S_IFREG | 0o644));
    // chmod goes to the node below, after the owner check.
    assert_eq!(fs::file_chmod(t, &mine, 0o600), Ok(()));
    let below_root = root(&below, OWNER_IDS, 0).unwrap();
    assert_eq!(io::io_stat(t, &below_root).unwrap().mode & 0o7777, 0o600);
    assert_eq!(io::io_stat(t, &mine).unwrap().mode & 0o7777, 0o600);
    let theirs = root(&above, OTHER_IDS, 0).unwrap();
    assert_eq!(fs::file_chmod(t, &theirs, 0o777), Err(Errno::EPERM));
    assert_eq!(root(&above, OTHER_IDS, O_READ).err(), Some(Errno::EACCES));
}
