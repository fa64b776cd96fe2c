//! Checks on the paths a client looks up, before any server sees them: length limits
//! (`ENAMETOOLONG`), embedded NULs (`EINVAL`), UTF-8 (herd's names are strings:
//! `EILSEQ`), and splitting a path into its directory and last name for the calls that
//! take one component (`dir_mkdir`, `dir_unlink`, ...).

use herd_interfaces::types::consts::NAME_MAX;
use herd_runtime::Errno;

use crate::errno::EILSEQ;

/// The longest path, in bytes, counting a terminating NUL as POSIX does: a path of
/// `PATH_MAX` bytes or more is `ENAMETOOLONG`.
pub const PATH_MAX: usize = 4096;

/// `path` as a string, if it may be looked up: not empty (`ENOENT`), shorter than
/// [`PATH_MAX`] with no component over `NAME_MAX` bytes (`ENAMETOOLONG`), no NUL
/// (`EINVAL`), UTF-8 (`EILSEQ`).
pub fn check(path: &[u8]) -> Result<&str, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.contains(&0) {
        return Err(Errno::EINVAL);
    }
    let text = std::str::from_utf8(path).map_err(|_| EILSEQ)?;
    check_name(text)?;
    Ok(text)
}

/// The length checks of [`check`], for a name a server answered with (a retry name may
/// be empty).
pub fn check_name(name: &str) -> Result<(), Errno> {
    if name.len() >= PATH_MAX || name.split('/').any(|c| c.len() > NAME_MAX) {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// Splits `path` into the directory holding its last component and that component's name
/// (trailing slashes ignored): `a/b/c` is (`a/b/`, `c`), `c` is (`.`, `c`), `/c` is
/// (`/`, `c`). A path that names the root, or ends in `.` or `..`, has no name to give
/// (`EINVAL`).
pub fn split_parent(path: &[u8]) -> Result<(&str, &str), Errno> {
    let text = check(path)?;
    let trimmed = text.trim_end_matches('/');
    let (parent, name) = match trimmed.rfind('/') {
        Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
        None => (".", trimmed),
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err(Errno::EINVAL);
    }
    Ok((parent, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        assert_eq!(check(b"/a/b"), Ok("/a/b"));
        assert_eq!(check(b""), Err(Errno::ENOENT));
        assert_eq!(check(b"a\0b"), Err(Errno::EINVAL));
        assert_eq!(check(b"\xff"), Err(EILSEQ));
        assert_eq!(check(&vec![b'a'; NAME_MAX]), Ok(&*"a".repeat(NAME_MAX)));
        assert_eq!(check(&vec![b'a'; NAME_MAX + 1]), Err(Errno::ENAMETOOLONG));
        let long = "a/".repeat(PATH_MAX / 2);
        assert_eq!(check(long.as_bytes()), Err(Errno::ENAMETOOLONG));
        assert_eq!(check(&long.as_bytes()[1..]), Ok(&long[1..]));
        assert_eq!(check_name(""), Ok(()));
    }

    #[test]
    fn parents_and_names() {
        assert_eq!(split_parent(b"a/b/c"), Ok(("a/b/", "c")));
        assert_eq!(split_parent(b"c"), Ok((".", "c")));
        assert_eq!(split_parent(b"/c//"), Ok(("/", "c")));
        assert_eq!(split_parent(b"/"), Err(Errno::EINVAL));
        assert_eq!(split_parent(b"a/.."), Err(Errno::EINVAL));
        assert_eq!(split_parent(b""), Err(Errno::ENOENT));
    }
}
