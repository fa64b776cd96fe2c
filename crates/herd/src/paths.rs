//! Where a node keeps its runtime files (the kernel socket), and how a command finds the
//! node it should talk to.

use std::path::{Path, PathBuf};

/// The kernel socket's file name in a runtime directory.
pub const KERNEL_SOCKET: &str = "kernel.sock";

/// The runtime directory: `$HERD_RUNTIME`, else `$HERD_RUNTIME_DIR`, else
/// `$XDG_RUNTIME_DIR/herd`, else `/tmp/herd-UID`.
pub fn runtime_dir() -> PathBuf {
    for var in ["HERD_RUNTIME", "HERD_RUNTIME_DIR"] {
        if let Some(d) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            return PathBuf::from(d);
        }
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR") {
        return PathBuf::from(d).join("herd");
    }
    PathBuf::from(format!("/tmp/herd-{}", rustix::process::getuid().as_raw()))
}

/// The default kernel socket: `$HERD_KERNEL`, else `kernel.sock` in the runtime directory.
pub fn kernel_socket() -> PathBuf {
    std::env::var_os("HERD_KERNEL")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| runtime_dir().join(KERNEL_SOCKET))
}

/// The kernel socket a command was pointed at: `--socket PATH`, else `kernel.sock` in
/// `--runtime DIR`, else [`kernel_socket`].
pub fn chosen_socket(socket: Option<&Path>, runtime: Option<&Path>) -> PathBuf {
    match (socket, runtime) {
        (Some(s), _) => s.to_path_buf(),
        (None, Some(dir)) => dir.join(KERNEL_SOCKET),
        (None, None) => kernel_socket(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_come_before_the_environment() {
        let s = chosen_socket(Some(Path::new("/x/k.sock")), Some(Path::new("/r")));
        assert_eq!(s, Path::new("/x/k.sock"));
        let r = chosen_socket(None, Some(Path::new("/r")));
        assert_eq!(r, Path::new("/r/kernel.sock"));
    }
}
