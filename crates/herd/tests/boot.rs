//! `herd boot` and `herd halt` as a user runs them: a detached node, its skeleton, files
//! through the CLI, a clean halt, and the errors for booting twice or halting nothing.

use std::path::PathBuf;
use std::process::{Command, Output};

fn herd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_herd"))
        .args(args)
        .env("HERD_LOG", "off")
        .output()
        .expect("run herd")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A runtime directory whose node is halted (if still up) and removed at the end.
struct Runtime(PathBuf);

impl Runtime {
    fn new(name: &str) -> Runtime {
        let dir = std::env::temp_dir().join(format!("herd-boot-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Runtime(dir)
    }
    fn arg(&self) -> &str {
        self.0.to_str().expect("utf-8 temp dir")
    }
    fn socket(&self) -> String {
        self.0.join("kernel.sock").display().to_string()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = herd(&["halt", "--runtime", self.arg()]);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn boot_gives_a_working_node_and_halt_stops_it() {
    let rt = Runtime::new("up");
    let up = herd(&[
        "boot",
        "--detach",
        "--runtime",
        rt.arg(),
        "--size",
        "1048576",
    ]);
    assert!(up.status.success(), "{}", text(&up));
    assert!(text(&up).contains("node up"), "{}", text(&up));
    let log = std::fs::read_to_string(rt.0.join("boot.log")).unwrap();
    assert!(log.contains("auth server up"), "{log}");
    let socket = rt.socket();
    let ls = herd(&["ls", "--socket", &socket, "/"]);
    assert!(ls.status.success(), "{}", text(&ls));
    for dir in ["dev", "etc", "hurd", "servers", "tmp"] {
        assert!(text(&ls).contains(dir), "{dir} missing: {}", text(&ls));
    }
    let show = herd(&["showtrans", "--socket", &socket, "/dev/zero"]);
    assert_eq!(String::from_utf8_lossy(&show.stdout).trim(), "/hurd/zero");
    let null = herd(&["cat", "--socket", &socket, "/dev/null"]);
    assert!(
        null.status.success() && null.stdout.is_empty(),
        "{}",
        text(&null)
    );
    let host = rt.0.join("hello.txt");
    std::fs::write(&host, b"hello, herd\n").unwrap();
    let put = herd(&[
        "put",
        "--socket",
        &socket,
        host.to_str().unwrap(),
        "/tmp/hello",
    ]);
    assert!(put.status.success(), "{}", text(&put));
    let cat = herd(&["cat", "--socket", &socket, "/tmp/hello"]);
    assert_eq!(cat.stdout, b"hello, herd\n");
    // The size limit holds.
    let big = rt.0.join("big");
    std::fs::write(&big, vec![7u8; 2 << 20]).unwrap();
    let put = herd(&[
        "put",
        "--socket",
        &socket,
        big.to_str().unwrap(),
        "/tmp/big",
    ]);
    assert!(!put.status.success());
    assert!(text(&put).contains("ENOSPC"), "{}", text(&put));
    // Booting again on the same runtime directory is refused.
    let again = herd(&["boot", "--runtime", rt.arg()]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already running"), "{}", text(&again));
    let down = herd(&["halt", "--runtime", rt.arg()]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(herd_channel::Channel::connect(std::path::Path::new(&socket)).is_err());
    let log = std::fs::read_to_string(rt.0.join("boot.log")).unwrap();
    assert!(log.contains("node stopped"), "{log}");
}

#[test]
fn halting_or_using_a_node_that_is_not_there_is_a_clear_error() {
    let rt = Runtime::new("none");
    let down = herd(&["halt", "--runtime", rt.arg()]);
    assert!(!down.status.success());
    assert!(text(&down).contains("no node answers"), "{}", text(&down));
    let ls = herd(&["ls", "--socket", &rt.socket(), "/"]);
    assert!(!ls.status.success());
}
