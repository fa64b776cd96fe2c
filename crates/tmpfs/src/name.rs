//! Checking one path component: names are arbitrary bytes except `/` and NUL, 1 to
//! [`NAME_MAX`] bytes long; `.` and `..` are recognised so each operation can answer them
//! as Linux does.

use crate::error::{Error, Result};

/// The longest name, in bytes.
pub const NAME_MAX: usize = 255;

/// A checked component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Component<'a> {
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// Any other valid name.
    Name(&'a [u8]),
}

/// Check a component: empty is `ENOENT` (as Linux answers an empty path), over
/// [`NAME_MAX`] bytes `ENAMETOOLONG`, containing `/` or NUL `EINVAL`.
pub(crate) fn component(name: &[u8]) -> Result<Component<'_>> {
    if name.is_empty() {
        return Err(Error::NotFound);
    }
    if name.len() > NAME_MAX {
        return Err(Error::NameTooLong);
    }
    if name.iter().any(|&b| b == b'/' || b == 0) {
        return Err(Error::Invalid);
    }
    Ok(match name {
        b"." => Component::Dot,
        b".." => Component::DotDot,
        _ => Component::Name(name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        assert_eq!(component(b""), Err(Error::NotFound));
        assert_eq!(component(b"."), Ok(Component::Dot));
        assert_eq!(component(b".."), Ok(Component::DotDot));
        assert_eq!(component(b"..."), Ok(Component::Name(b"...")));
        assert_eq!(component(b"a/b"), Err(Error::Invalid));
        assert_eq!(component(b"a\0b"), Err(Error::Invalid));
        assert_eq!(component(&[b'x'; 255]), Ok(Component::Name(&[b'x'; 255])));
        assert_eq!(component(&[b'x'; 256]), Err(Error::NameTooLong));
        assert_eq!(component(&[0xff, 0xfe]), Ok(Component::Name(&[0xff, 0xfe])));
    }
}
