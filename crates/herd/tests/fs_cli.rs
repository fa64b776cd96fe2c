//! The namespace CLI end to end: a kernel in this process, `herd tmpfs` started through
//! fshelp's launcher and published as the node's root (special port `root`), then the
//! `herd` binary run as a user would: mkdir, put, cat, get, ls, stat, rm, settrans,
//! showtrans, fsysopts, and bad input of every kind.

mod lookup_boot;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lookup_boot::Node;

/// How long any one command may take.
const DEADLINE: Duration = Duration::from_secs(60);

/// What a command did.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Running the `herd` binary against a node.
trait Herd {
    fn herd_with_input(&self, args: &[&str], stdin: &[u8]) -> Run;
    fn herd(&self, args: &[&str]) -> Run;
    fn ok(&self, args: &[&str]) -> String;
    fn fails(&self, args: &[&str]) -> String;
}

impl Herd for Node {
    /// Runs `herd ARGS...` against this node, with `stdin` as standard input.
    fn herd_with_input(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herd"))
            .args(args)
            .env("HERD_KERNEL", &self.socket)
            .env("HERD_LOG", "off")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("herd runs");
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_vec();
        let feeder = std::thread::spawn(move || {
            use std::io::Write;
            let _ = input.write_all(&data);
        });
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = out.read_to_end(&mut s);
            s
        });
        let mut stderr = String::new();
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("herd {args:?} did not finish within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let _ = err.read_to_string(&mut stderr);
        feeder.join().unwrap();
        Run {
            status: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&reader.join().unwrap()).into_owned(),
            stderr,
        }
    }

    fn herd(&self, args: &[&str]) -> Run {
        self.herd_with_input(args, b"")
    }

    /// Runs a command that must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.herd(args);
        assert_eq!(
            run.status, 0,
            "herd {args:?} failed: {}{}",
            run.stderr, run.stdout
        );
        run.stdout
    }

    /// Runs a command that must fail; its standard error.
    fn fails(&self, args: &[&str]) -> String {
        let run = self.herd(args);
        assert_ne!(run.status, 0, "herd {args:?} succeeded: {}", run.stdout);
        run.stderr
    }
}

#[test]
fn files_and_directories_round_trip() {
    let node = Node::boot("files");
    node.ok(&["mkdir", "-p", "/a/b/c"]);
    node.ok(&["mkdir", "-p", "/a/b"]);
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let src = node.host("src");
    std::fs::write(&src, &data).unwrap();
    node.ok(&["put", src.to_str().unwrap(), "/a/b/f"]);
    let back = node.host("back");
    node.ok(&["get", "/a/b/f", back.to_str().unwrap()]);
    assert_eq!(std::fs::read(&back).unwrap(), data);
    // put into a directory keeps the name; put from standard input.
    node.ok(&["put", src.to_str().unwrap(), "/a"]);
    let run = node.herd_with_input(&["put", "-", "/a/hello"], b"hello, herd\n");
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        node.ok(&["cat", "/a/hello", "/a/hello"]),
        "hello, herd\nhello, herd\n"
    );
    // A shorter file over a longer one: truncated.
    let run = node.herd_with_input(&["put", "-", "/a/src"], b"short\n");
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(node.ok(&["cat", "/a/src"]), "short\n");

    assert_eq!(node.ok(&["ls", "/a"]), "b\nhello\nsrc\n");
    assert_eq!(node.ok(&["ls", "a/b"]), "c\nf\n");
    let long = node.ok(&["ls", "-l", "/a/b"]);
    assert!(long.contains("drwxr-xr-x"), "{long}");
    assert!(
        long.contains("-rw-r--r--") && long.contains(" 100000 "),
        "{long}"
    );
    let st = node.ok(&["stat", "/a/b/f"]);
    assert!(
        st.contains("Size: 100000") && st.contains("regular file"),
        "{st}"
    );

    // Names: symlinks (followed by cat, not by rm), hard links, renames; loops end.
    node.ok(&["ln", "-s", "/a/hello", "/a/link"]);
    assert_eq!(node.ok(&["cat", "/a/link"]), "hello, herd\n");
    assert!(node
        .ok(&["stat", "--no-follow", "/a/link"])
        .contains("symbolic link"));
    node.ok(&["ln", "-s", "loop", "/a/loop"]);
    let err = node.fails(&["cat", "/a/loop"]);
    assert!(err.contains("/a/loop: ELOOP"), "{err}");
    node.ok(&["ln", "/a/hello", "/a/hard"]);
    node.ok(&["mv", "/a/hard", "/a/b/moved"]);
    assert_eq!(node.ok(&["cat", "/a/b/moved"]), "hello, herd\n");
    node.ok(&["rm", "/a/link", "/a/loop", "/a/b/moved"]);
    assert_eq!(node.ok(&["cat", "/a/hello"]), "hello, herd\n");

    let err = node.fails(&["rm", "/a"]);
    assert!(err.contains("/a: is a directory"), "{err}");
    node.ok(&["rm", "/a/b/f"]);
    let err = node.fails(&["cat", "/a/b/f"]);
    assert_eq!(err, "herd: /a/b/f: ENOENT (No such file or directory)\n");
    node.ok(&["rm", "-r", "/a"]);
    node.ok(&["rm", "-f", "/a"]);
    assert!(!node.ok(&["ls", "/"]).contains('a'));
}

#[test]
fn translators_set_shown_used_and_sent_away() {
    let node = Node::boot("trans");
    node.ok(&["mkdir", "/dev"]);
    node.ok(&["settrans", "-c", "/dev/null", "/hurd/null"]);
    assert_eq!(node.ok(&["showtrans", "/dev/null"]), "/hurd/null\n");
    // The first lookup starts it: reads are empty, writes vanish.
    assert_eq!(node.ok(&["cat", "/dev/null"]), "");
    let run = node.herd_with_input(&["put", "-", "/dev/null"], b"gone");
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(node.ok(&["fsysopts", "/dev/null"]), "null\n");
    node.ok(&["fsysopts", "/dev/null", "--full"]);
    let run = node.herd_with_input(&["put", "-", "/dev/null"], b"full");
    assert_ne!(run.status, 0);
    assert!(run.stderr.contains("/dev/null: ENOSPC"), "{}", run.stderr);
    let st = node.ok(&["stat", "/dev/null"]);
    assert!(st.contains("character device"), "{st}");

    // Active only: started now, nothing stored.
    node.ok(&["settrans", "-ac", "/dev/fortune", "/hurd/fortune"]);
    assert_eq!(node.ok(&["showtrans", "/dev/fortune"]), "");
    assert!(node.ok(&["cat", "/dev/fortune"]).ends_with('\n'));

    // Both: stored and started now.
    node.ok(&["settrans", "-apc", "/dev/zero", "/hurd/zero"]);
    assert_eq!(node.ok(&["showtrans", "/dev/zero"]), "/hurd/zero\n");
    assert!(node.ok(&["stat", "/dev/zero"]).contains("character device"));
    assert_eq!(node.ok(&["fsysopts", "/"]), "tmpfs\n");

    // Go away (forced: it may still be open somewhere) and clear.
    node.ok(&["settrans", "-fg", "/dev/null"]);
    assert_eq!(node.ok(&["showtrans", "/dev/null"]), "");
    let st = node.ok(&["stat", "/dev/null"]);
    assert!(st.contains("regular file"), "{st}");
    // The listing shows the nodes themselves, starting nothing.
    assert_eq!(node.ok(&["ls", "/dev"]), "fortune\nnull\nzero\n");
}

#[test]
fn bad_input_gets_clear_errors() {
    let node = Node::boot("bad");
    let err = node.fails(&["settrans", "-ac", "/x", "/hurd/no-such-server"]);
    assert!(err.contains("/hurd/no-such-server"), "{err}");
    let long = format!("/{}", "n".repeat(300));
    let err = node.fails(&["mkdir", &long]);
    assert!(err.contains("ENAMETOOLONG"), "{err}");
    let err = node.fails(&["cat", "/"]);
    assert!(err.contains("herd: /: EISDIR"), "{err}");
    let err = node.fails(&["ls", "/nothing", "/"]);
    assert!(err.contains("herd: /nothing: ENOENT"), "{err}");
    // clap's own errors: exit status 2 and a usage line.
    let run = node.herd(&["mkdir"]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("Usage"), "{}", run.stderr);
    let run = node.herd(&["ls", "--timeout", "0", "/"]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("not a number of seconds"),
        "{}",
        run.stderr
    );
    let run = node.herd(&["mkdir", "-m", "999", "/d"]);
    assert_eq!(run.status, 2);

    // No root published, no kernel at all.
    let bare = Node::bare("bare");
    let err = bare.fails(&["ls", "/"]);
    assert!(err.contains("publishes no root"), "{err}");
    let nowhere = node.host("nowhere.sock");
    let err = node.fails(&["ls", "--socket", nowhere.to_str().unwrap(), "/"]);
    assert!(err.contains("connecting to the kernel"), "{err}");
}
