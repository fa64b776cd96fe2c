//! Error numbers for the client side: the two the lookup answers that
//! `herd_runtime::Errno` has no constant for (Linux numbering, as every server answers),
//! and the text a tool prints for any errno: `ENOENT (No such file or directory)`.

use herd_runtime::{Errno, KernError};

/// Protocol error: a server answered a lookup with something the protocol does not allow
/// (glibc's `EGRATUITOUS`, which Linux numbering lacks).
pub const EPROTO: Errno = Errno(71);
/// A path that is not UTF-8 (herd's `dir_lookup` carries names as UTF-8 strings).
pub const EILSEQ: Errno = Errno(84);

/// Linux's symbolic names, indexed by number (empty where Linux has none).
const NAMES: [&str; 134] = [
    "",
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "",
    "ENOMSG",
    "EIDRM",
    "ECHRNG",
    "EL2NSYNC",
    "EL3HLT",
    "EL3RST",
    "ELNRNG",
    "EUNATCH",
    "ENOCSI",
    "EL2HLT",
    "EBADE",
    "EBADR",
    "EXFULL",
    "ENOANO",
    "EBADRQC",
    "EBADSLT",
    "",
    "EBFONT",
    "ENOSTR",
    "ENODATA",
    "ETIME",
    "ENOSR",
    "ENONET",
    "ENOPKG",
    "EREMOTE",
    "ENOLINK",
    "EADV",
    "ESRMNT",
    "ECOMM",
    "EPROTO",
    "EMULTIHOP",
    "EDOTDOT",
    "EBADMSG",
    "EOVERFLOW",
    "ENOTUNIQ",
    "EBADFD",
    "EREMCHG",
    "ELIBACC",
    "ELIBBAD",
    "ELIBSCN",
    "ELIBMAX",
    "ELIBEXEC",
    "EILSEQ",
    "ERESTART",
    "ESTRPIPE",
    "EUSERS",
    "ENOTSOCK",
    "EDESTADDRREQ",
    "EMSGSIZE",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EOPNOTSUPP",
    "EPFNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "ENETUNREACH",
    "ENETRESET",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "EISCONN",
    "ENOTCONN",
    "ESHUTDOWN",
    "ETOOMANYREFS",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "ESTALE",
    "EUCLEAN",
    "ENOTNAM",
    "ENAVAIL",
    "EISNAM",
    "EREMOTEIO",
    "EDQUOT",
    "ENOMEDIUM",
    "EMEDIUMTYPE",
    "ECANCELED",
    "ENOKEY",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EOWNERDEAD",
    "ENOTRECOVERABLE",
    "ERFKILL",
    "EHWPOISON",
];

/// The symbolic name of `e` (`ENOENT`, `EDIED`, `MIG_BAD_ID`, a Mach code's name), or
/// `errno N` for a number nobody names.
pub fn name(e: Errno) -> String {
    if let Some(s) = e.symbol() {
        return s.to_string();
    }
    if let Some(s) = usize::try_from(e.0)
        .ok()
        .and_then(|i| NAMES.get(i))
        .filter(|s| !s.is_empty())
    {
        return (*s).to_string();
    }
    match kern_error(e) {
        Some(k) if !matches!(k, KernError::Unknown(_)) => k.symbol().to_string(),
        _ => format!("errno {}", e.0),
    }
}

/// What `e` means, in words (`No such file or directory`).
pub fn meaning(e: Errno) -> String {
    match e {
        Errno::EDIED => return "the server died".into(),
        Errno::MIG_BAD_ID => return "the server does not implement this call".into(),
        Errno::MIG_BAD_ARGUMENTS => return "the server could not decode the request".into(),
        Errno::MIG_TYPE_ERROR => return "the server's reply did not decode".into(),
        _ => {}
    }
    if (1..4096).contains(&e.0) {
        let text = std::io::Error::from_raw_os_error(e.0).to_string();
        let suffix = format!(" (os error {})", e.0);
        return text.strip_suffix(&suffix).unwrap_or(&text).to_string();
    }
    match kern_error(e) {
        Some(k) => k.to_string(),
        None => format!("unknown error {}", e.0),
    }
}

/// `NAME (meaning)`, as the CLI prints an error: `ENOENT (No such file or directory)`.
pub fn describe(e: Errno) -> String {
    format!("{} ({})", name(e), meaning(e))
}

/// The kernel return code `e` carries, if it is in Mach's range.
fn kern_error(e: Errno) -> Option<KernError> {
    u32::try_from(e.0)
        .ok()
        .filter(|c| *c >= 0x1000_0000)
        .and_then(KernError::from_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_meanings() {
        assert_eq!(
            describe(Errno::ENOENT),
            "ENOENT (No such file or directory)"
        );
        assert_eq!(name(EPROTO), "EPROTO");
        assert_eq!(name(EILSEQ), "EILSEQ");
        assert_eq!(name(Errno(131)), "ENOTRECOVERABLE");
        assert_eq!(name(Errno(133)), "EHWPOISON");
        assert_eq!(name(Errno::EDIED), "EDIED");
        assert_eq!(meaning(Errno::EDIED), "the server died");
        assert_eq!(name(Errno(99999)), "errno 99999");
        assert_eq!(name(Errno(-7)), "errno -7");
        assert!(meaning(Errno(-7)).contains("unknown"));
        assert_eq!(NAMES[110], "ETIMEDOUT");
        assert_eq!(NAMES[95], "EOPNOTSUPP");
        assert_eq!(NAMES[39], "ENOTEMPTY");
    }
}
