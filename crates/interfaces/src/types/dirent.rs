//! The directory entries `dir_readdir` answers with: records laid end to end, each `u64`
//! file serial number, `u8` type (`DT_*`), `u16` name length and the name's UTF-8 bytes,
//! all little-endian. Decoding checks every length and never panics.

use thiserror::Error;

/// Unknown type.
pub const DT_UNKNOWN: u8 = 0;
/// A fifo.
pub const DT_FIFO: u8 = 1;
/// A character device.
pub const DT_CHR: u8 = 2;
/// A directory.
pub const DT_DIR: u8 = 4;
/// A block device.
pub const DT_BLK: u8 = 6;
/// A regular file.
pub const DT_REG: u8 = 8;
/// A symbolic link.
pub const DT_LNK: u8 = 10;
/// A socket.
pub const DT_SOCK: u8 = 12;

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirent {
    /// The node's serial number.
    pub ino: u64,
    /// Its type (`DT_*`).
    pub kind: u8,
    /// Its name (at most `u16::MAX` bytes).
    pub name: String,
}

/// The bytes before the name in a record.
const HEADER: usize = 8 + 1 + 2;

impl Dirent {
    /// How many bytes the record takes.
    pub fn encoded_len(&self) -> usize {
        HEADER + self.name.len().min(usize::from(u16::MAX))
    }

    /// The `DT_*` type for a `Stat::mode`.
    pub fn kind_of_mode(mode: u32) -> u8 {
        use super::consts::mode::*;
        match mode & S_IFMT {
            S_IFIFO => DT_FIFO,
            S_IFCHR => DT_CHR,
            S_IFDIR => DT_DIR,
            S_IFBLK => DT_BLK,
            S_IFREG => DT_REG,
            S_IFLNK => DT_LNK,
            S_IFSOCK => DT_SOCK,
            _ => DT_UNKNOWN,
        }
    }
}

/// Why `dir_readdir` data did not decode.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DirentError {
    /// A record ends past the data.
    #[error("directory entry at offset {0} is truncated")]
    Truncated(usize),
    /// A name is not UTF-8.
    #[error("directory entry at offset {0} has a name that is not UTF-8")]
    BadName(usize),
}

/// Appends `entry`'s record to `out` (a name longer than `u16::MAX` bytes is cut at a
/// character boundary).
pub fn encode_into(out: &mut Vec<u8>, entry: &Dirent) {
    let mut end = entry.name.len().min(usize::from(u16::MAX));
    while !entry.name.is_char_boundary(end) {
        end -= 1;
    }
    let name = &entry.name.as_bytes()[..end];
    out.extend_from_slice(&entry.ino.to_le_bytes());
    out.push(entry.kind);
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(name);
}

/// The records of `entries`, end to end.
pub fn encode(entries: &[Dirent]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(Dirent::encoded_len).sum());
    for e in entries {
        encode_into(&mut out, e);
    }
    out
}

/// The entries in `data`.
pub fn decode(data: &[u8]) -> Result<Vec<Dirent>, DirentError> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let header = data
            .get(at..at + HEADER)
            .ok_or(DirentError::Truncated(at))?;
        let (ino, rest) = header.split_at(8);
        let ino = u64::from_le_bytes(ino.try_into().map_err(|_| DirentError::Truncated(at))?);
        let kind = rest[0];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]]));
        let name = data
            .get(at + HEADER..at + HEADER + len)
            .ok_or(DirentError::Truncated(at))?;
        let name = std::str::from_utf8(name).map_err(|_| DirentError::BadName(at))?;
        entries.push(Dirent {
            ino,
            kind,
            name: name.to_string(),
        });
        at += HEADER + len;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_bad_data_is_an_error() {
        let entries = vec![
            Dirent {
                ino: 1,
                kind: DT_DIR,
                name: ".".into(),
            },
            Dirent {
                ino: u64::MAX,
                kind: DT_REG,
                name: "é".into(),
            },
        ];
        let data = encode(&entries);
        assert_eq!(data.len(), entries.iter().map(Dirent::encoded_len).sum());
        assert_eq!(decode(&data), Ok(entries));
        assert_eq!(
            decode(&data[..data.len() - 1]),
            Err(DirentError::Truncated(12))
        );
        assert_eq!(decode(&data[..5]), Err(DirentError::Truncated(0)));
        let mut bad = data.clone();
        let last = bad.len() - 1;
        bad[last] = 0xff;
        assert_eq!(decode(&bad), Err(DirentError::BadName(12)));
        assert_eq!(decode(&[]), Ok(vec![]));
        assert_eq!(Dirent::kind_of_mode(0o20666), DT_CHR);
    }
}
