//! Argz vectors: a list of words as one byte string, each word ended by a NUL (how
//! `fsys_set_options`, `fsys_get_options` and `file_set_translator` carry command lines,
//! as on the Hurd).

/// The words, each followed by a NUL.
pub fn join<S: AsRef<str>>(words: &[S]) -> Vec<u8> {
    let mut out = Vec::new();
    for w in words {
        out.extend_from_slice(w.as_ref().as_bytes());
        out.push(0);
    }
    out
}

/// The words of an argz vector (a missing final NUL is tolerated; empty words are kept);
/// `None` if a word is not UTF-8.
pub fn split(argz: &[u8]) -> Option<Vec<String>> {
    if argz.is_empty() {
        return Some(Vec::new());
    }
    let body = argz.strip_suffix(&[0]).unwrap_or(argz);
    body.split(|b| *b == 0)
        .map(|w| std::str::from_utf8(w).ok().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        let words = ["herd", "null", "", "--full"];
        assert_eq!(join(&words), b"herd\0null\0\0--full\0");
        assert_eq!(split(&join(&words)).unwrap(), words);
        assert_eq!(split(b"a\0b").unwrap(), ["a", "b"]);
        assert_eq!(split(b"").unwrap(), Vec::<String>::new());
        assert_eq!(split(b"\xff\0"), None);
    }
}
