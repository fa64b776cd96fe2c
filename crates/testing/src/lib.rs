//! Fixtures the workspace's tests share: a kernel running in-process on a fresh socket with
//! a task attached to it, and waiting for a condition with a deadline (never a sleep as a
//! guess at readiness).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use herd_kernel::KernelHandle;
use herd_runtime::Task;

/// How long a test waits for something that should happen promptly before it fails.
pub const LONG: Duration = Duration::from_secs(20);

/// A socket path no other test in this process (or another process) uses.
pub fn fresh_socket(label: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "herd-test-{}-{}-{label}.sock",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A kernel on a fresh socket (stopped when the handle drops) and a task attached to it.
pub fn kernel(label: &str) -> (KernelHandle, Task) {
    let path = fresh_socket(label);
    let kernel = KernelHandle::start(&path).expect("kernel starts");
    let task = Task::attach(&path, label).expect("task attaches");
    (kernel, task)
}

/// Polls `cond` until it holds, failing the test after [`LONG`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LONG;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}
