//! Where a node keeps its runtime files (the kernel socket) by default.

use std::path::PathBuf;

/// The runtime directory: `$HERD_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/herd`, else
/// `/tmp/herd-UID`.
pub fn runtime_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HERD_RUNTIME_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR") {
        return PathBuf::from(d).join("herd");
    }
    PathBuf::from(format!("/tmp/herd-{}", rustix::process::getuid().as_raw()))
}

/// The default kernel socket: `$HERD_KERNEL`, else `kernel.sock` in the runtime directory.
pub fn kernel_socket() -> PathBuf {
    std::env::var_os("HERD_KERNEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| runtime_dir().join("kernel.sock"))
}
