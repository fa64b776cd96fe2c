//! The one-node translators (`herd null`, `zero`, `random`, `fortune`) as real processes:
//! started by a kernel (in this process) with a bootstrap port, as settrans will start
//! them; then used through the generated stubs, fed bad input, sent away and killed.

use std::time::{Duration, Instant};

use herd_interfaces::types::argz;
use herd_interfaces::types::consts::fstype::{FSTYPE_DEV, FSTYPE_MISC};
use herd_interfaces::types::consts::goaway::FSYS_GOAWAY_FORCE;
use herd_interfaces::types::consts::mode::{S_IFCHR, S_IFREG};
use herd_interfaces::types::consts::open::{O_RDWR, O_READ, O_WRITE};
use herd_interfaces::types::consts::IO_MAX;
use herd_interfaces::{fsys, io};
use herd_kernel::KernelHandle;
use herd_runtime::{
    CallValue, Disposition, Errno, OutMessage, PortArg, PortCall, PortDescriptor, SendRight, Task,
};
use herd_testing::kernel;
use herd_trivfs::bootstrap::accept_startup;

const LONG: Duration = Duration::from_secs(20);

/// A kernel in this process and a translator it started.
struct Translator {
    task: Task,
    control: SendRight,
    pid: u32,
    ids: (Vec<u32>, Vec<u32>),
    _kernel: KernelHandle,
}

/// Our own uid and gid, which the translators' nodes belong to.
fn own_ids() -> (Vec<u32>, Vec<u32>) {
    use std::os::unix::fs::MetadataExt;
    let me = std::fs::metadata("/proc/self").expect("/proc/self");
    (vec![me.uid()], vec![me.gid()])
}

/// Starts `herd ARGS...` as a task with a bootstrap port and waits for its fsys_startup.
fn start(args: &[&str]) -> Translator {
    let (kernel, task) = kernel(args[0]);
    let bootstrap = task.allocate_port().unwrap();
    let mut argv = vec!["herd".to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let spawned = task
        .call(PortCall::Spawn {
            program: env!("CARGO_BIN_EXE_herd").into(),
            args: argv,
            // The kernel goes at the end of each test, under the translator's feet.
            env: vec!["HERD_LOG=off".into()],
            rights: vec![PortDescriptor::send(
                bootstrap.name(),
                Disposition::MakeSend,
            )],
        })
        .expect("spawn");
    let CallValue::Spawned { pid, .. } = spawned else {
        panic!("spawn answered {spawned:?}");
    };
    let started = accept_startup(&task, &bootstrap, PortArg::Null, LONG).expect("fsys_startup");
    Translator {
        task,
        control: started.control,
        pid,
        ids: own_ids(),
        _kernel: kernel,
    }
}

impl Translator {
    fn open(&self, flags: u32) -> Result<SendRight, Errno> {
        let (_, _, file) = fsys::fsys_getroot(
            &self.task,
            &self.control,
            PortArg::Null,
            &self.ids.0,
            &self.ids.1,
            flags,
        )?;
        Ok(file.into_send().expect("a port"))
    }

    /// Waits until the translator process is gone.
    fn wait_exit(&self) {
        let deadline = Instant::now() + LONG;
        let stat = format!("/proc/{}/stat", self.pid);
        loop {
            // Gone, or a zombie the kernel has not reaped yet.
            match std::fs::read_to_string(&stat) {
                Err(_) => return,
                Ok(s) if s.split_whitespace().nth(2) == Some("Z") => return,
                Ok(_) => {}
            }
            assert!(
                Instant::now() < deadline,
                "translator {} did not exit",
                self.pid
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The return code of a raw request.
fn raw_code(task: &Task, dest: &SendRight, id: u32, data: &[u8]) -> Errno {
    let mut m = OutMessage::new(PortArg::CopySend(dest.name()), id);
    m.data = data.to_vec();
    let reply = task.rpc(m, Some(LONG)).expect("a reply");
    Errno(i32::from_le_bytes(reply.data[..4].try_into().unwrap()))
}

#[test]
fn null_reads_eof_and_swallows_writes() {
    let t = start(&["null"]);
    let f = t.open(O_RDWR).unwrap();
    assert_eq!(io::io_read(&t.task, &f, -1, 100), Ok(Vec::new()));
    assert_eq!(io::io_write(&t.task, &f, b"gone", -1), Ok(4));
    assert_eq!(io::io_read(&t.task, &f, 0, u64::MAX), Ok(Vec::new()));
    let st = io::io_stat(&t.task, &f).unwrap();
    assert_eq!(st.mode, S_IFCHR | 0o666);
    assert_eq!((st.uid, st.fstype, st.size), (t.ids.0[0], FSTYPE_DEV, 0));
    assert_eq!(
        io::io_server_version(&t.task, &f).unwrap().0,
        "null".to_string()
    );
    // fsysopts: --full makes writes fail.
    let set =
        |words: &[&str]| fsys::fsys_set_options(&t.task, &t.control, &argz::join(words), false);
    assert_eq!(set(&["--full"]), Ok(()));
    assert_eq!(io::io_write(&t.task, &f, b"x", -1), Err(Errno::ENOSPC));
    let opts = fsys::fsys_get_options(&t.task, &t.control).unwrap();
    assert_eq!(argz::split(&opts).unwrap(), ["null", "--full"]);
    assert_eq!(set(&["--bogus"]), Err(Errno::EINVAL));
    assert_eq!(set(&["--no-full"]), Ok(()));
    assert_eq!(io::io_write(&t.task, &f, b"x", -1), Ok(1));
}

#[test]
fn zero_gives_zeros_and_bounds_absurd_reads() {
    let t = start(&["zero", "--mode", "600"]);
    let f = t.open(O_RDWR).unwrap();
    assert_eq!(io::io_read(&t.task, &f, -1, 100), Ok(vec![0; 100]));
    let big = io::io_read(&t.task, &f, 0, u64::MAX).unwrap();
    assert_eq!(big.len(), IO_MAX as usize);
    assert!(big.iter().all(|b| *b == 0));
    assert_eq!(io::io_write(&t.task, &f, &[1; 1000], -1), Ok(1000));
    assert_eq!(io::io_read(&t.task, &f, -5, 1), Err(Errno::EINVAL));
    assert_eq!(io::io_stat(&t.task, &f).unwrap().mode, S_IFCHR | 0o600);
    // Many clients at once.
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (task, f) = (t.task.clone(), f.clone());
            std::thread::spawn(move || {
                for _ in 0..50 {
                    assert_eq!(io::io_read(&task, &f, 0, 64), Ok(vec![0; 64]));
                }
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
}

#[test]
fn random_gives_new_bytes_every_read() {
    let t = start(&["random"]);
    let f = t.open(O_RDWR).unwrap();
    let a = io::io_read(&t.task, &f, -1, 64).unwrap();
    let b = io::io_read(&t.task, &f, -1, 64).unwrap();
    assert_eq!((a.len(), b.len()), (64, 64));
    assert_ne!(a, b);
    assert_eq!(
        io::io_read(&t.task, &f, 0, 1 << 40).unwrap().len(),
        IO_MAX as usize
    );
    assert_eq!(io::io_write(&t.task, &f, b"entropy?", -1), Ok(8));
    assert_eq!(io::io_readable(&t.task, &f), Ok(IO_MAX));
}

#[test]
fn fortune_shows_a_different_saying_on_each_open() {
    let t = start(&["fortune"]);
    let read_all = |f: &SendRight| io::io_read(&t.task, f, 0, 4096).unwrap();
    let (a, b) = (t.open(O_READ).unwrap(), t.open(O_READ).unwrap());
    let (text_a, text_b) = (read_all(&a), read_all(&b));
    assert_ne!(text_a, text_b);
    assert!(text_a.ends_with(b"\n"));
    assert_eq!(read_all(&a), text_a, "one open, one saying");
    let st = io::io_stat(&t.task, &a).unwrap();
    assert_eq!((st.mode, st.fstype), (S_IFREG | 0o444, FSTYPE_MISC));
    assert_eq!(st.size, text_a.len() as u64);
    // Others may not write (mode 444); root may, but the node refuses.
    let open_as = |uid: u32, flags| {
        fsys::fsys_getroot(&t.task, &t.control, PortArg::Null, &[uid], &[uid], flags).err()
    };
    assert_eq!(open_as(12345, O_WRITE), Some(Errno::EACCES));
    assert_eq!(open_as(0, O_WRITE), Some(Errno::EOPNOTSUPP));
    assert_eq!(open_as(12345, O_READ), None);
}

#[test]
fn bad_requests_get_mig_codes_from_a_real_translator() {
    let t = start(&["null"]);
    let f = t.open(O_READ).unwrap();
    assert_eq!(raw_code(&t.task, &f, 4242, b""), Errno::MIG_BAD_ID);
    assert_eq!(
        raw_code(&t.task, &f, io::ids::IO_WRITE, &[9; 3]),
        Errno::MIG_BAD_ARGUMENTS
    );
    assert_eq!(
        raw_code(&t.task, &t.control, fsys::ids::FSYS_GETROOT, &[0xff; 40]),
        Errno::MIG_BAD_ARGUMENTS
    );
    assert_eq!(io::io_write(&t.task, &f, b"x", -1), Err(Errno::EBADF));
    // Still serving after all that.
    assert_eq!(io::io_read(&t.task, &f, -1, 1), Ok(Vec::new()));
}

#[test]
fn goaway_refuses_while_open_then_the_translator_exits() {
    let t = start(&["zero"]);
    let f = t.open(O_READ).unwrap();
    assert_eq!(fsys::fsys_goaway(&t.task, &t.control, 0), Err(Errno::EBUSY));
    drop(f);
    let deadline = Instant::now() + LONG;
    loop {
        match fsys::fsys_goaway(&t.task, &t.control, 0) {
            Ok(()) => break,
            Err(Errno::EBUSY) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2))
            }
            other => panic!("goaway: {other:?}"),
        }
    }
    t.wait_exit();
    assert_eq!(t.open(O_READ).err(), Some(Errno::EDIED));
}

#[test]
fn forced_goaway_and_a_killed_translator_give_edied_not_a_hang() {
    let t = start(&["random"]);
    let f = t.open(O_READ).unwrap();
    assert_eq!(
        fsys::fsys_goaway(&t.task, &t.control, FSYS_GOAWAY_FORCE),
        Ok(())
    );
    t.wait_exit();
    assert_eq!(io::io_read(&t.task, &f, -1, 1), Err(Errno::EDIED));

    let t = start(&["null"]);
    let f = t.open(O_READ).unwrap();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(t.pid as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    t.wait_exit();
    assert_eq!(io::io_read(&t.task, &f, -1, 1), Err(Errno::EDIED));
    assert_eq!(io::io_stat(&t.task, &f).err(), Some(Errno::EDIED));
    assert_eq!(
        fsys::fsys_goaway(&t.task, &t.control, 0).err(),
        Some(Errno::EDIED)
    );
}

#[test]
fn a_translator_without_a_bootstrap_port_says_so() {
    let socket =
        std::env::temp_dir().join(format!("herd-trans-{}-lonely.sock", std::process::id()));
    let _k = KernelHandle::start(&socket).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herd"))
        .arg("null")
        .env("HERD_KERNEL", &socket)
        .env("HERD_LOG", "off")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no bootstrap port"), "{err}");
    let bad_mode = std::process::Command::new(env!("CARGO_BIN_EXE_herd"))
        .args(["null", "--mode", "999"])
        .output()
        .expect("runs");
    assert!(!bad_mode.status.success());
    assert!(String::from_utf8_lossy(&bad_mode.stderr).contains("not octal"));
}
