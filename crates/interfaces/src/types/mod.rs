//! Values the interfaces carry beyond plain scalars: the fixed structs (`stat`, `statfs`,
//! `timespec` in `.defs` files) with their wire layout, the constants of the io, fs and
//! fsys interfaces ([`consts`]), the directory entry format of `dir_readdir`
//! ([`dirent`]) and the argz word lists of options and translator command lines
//! ([`argz`]).
//!
//! A fixed struct is written field by field, little-endian, with no padding or length;
//! its layout is declared once (by `fixed_struct!` below), which gives both the Rust type
//! and the [`StructInfo`] table that [`crate::reflect::describe`] reads messages with.

pub mod argz;
pub mod consts;
pub mod dirent;

use crate::reflect::{FieldInfo, FieldType, StructInfo};

/// A value that is one field of a fixed struct: a scalar or a nested fixed struct.
pub trait Field: Sized + Copy {
    /// Its size on the wire.
    const SIZE: usize;
    /// Its type, as the reflection table shows it.
    const TYPE: FieldType;
    /// Appends the value.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads the value from the front of `input`, advancing it; `None` if too short.
    fn get(input: &mut &[u8]) -> Option<Self>;
}

/// A fixed struct type of the IDL.
pub trait Fixed: Field {
    /// Its layout.
    const INFO: &'static StructInfo;
}

macro_rules! scalar_field {
    ($ty:ty, $variant:ident) => {
        impl Field for $ty {
            const SIZE: usize = std::mem::size_of::<$ty>();
            const TYPE: FieldType = FieldType::$variant;
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(input: &mut &[u8]) -> Option<Self> {
                let (bytes, rest) = input.split_first_chunk::<{ std::mem::size_of::<$ty>() }>()?;
                *input = rest;
                Some(<$ty>::from_le_bytes(*bytes))
            }
        }
    };
}

scalar_field!(u32, U32);
scalar_field!(u64, U64);
scalar_field!(i64, I64);

/// Declares a fixed struct: the Rust type (public fields, in wire order) and its layout.
macro_rules! fixed_struct {
    (
        $(#[$meta:meta])*
        $name:ident = $keyword:literal {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl Field for $name {
            const SIZE: usize = 0 $( + <$ty as Field>::SIZE )*;
            const TYPE: FieldType = FieldType::Struct(<$name as Fixed>::INFO);
            fn put(&self, out: &mut Vec<u8>) {
                $( Field::put(&self.$field, out); )*
            }
            fn get(input: &mut &[u8]) -> Option<Self> {
                Some($name { $( $field: <$ty as Field>::get(input)?, )* })
            }
        }

        impl Fixed for $name {
            const INFO: &'static StructInfo = &StructInfo {
                name: $keyword,
                size: <$name as Field>::SIZE,
                fields: &[ $( FieldInfo { name: stringify!($field), ty: <$ty as Field>::TYPE }, )* ],
            };
        }
    };
}

fixed_struct! {
    /// A point in time: seconds and nanoseconds since the epoch (`timespec`). In
    /// `file_utimes`, `nsec` may be [`consts::UTIME_NOW`] or [`consts::UTIME_OMIT`].
    Timespec = "timespec" {
        /// Seconds.
        sec: i64,
        /// Nanoseconds (below 1e9, or a `UTIME_*` value).
        nsec: u32,
    }
}

fixed_struct! {
    /// A file's status (`stat`, the Hurd's `io_statbuf_t`), as `io_stat` returns it.
    Stat = "stat" {
        /// The kind of server ([`consts::fstype::FSTYPE_DEV`], ...).
        fstype: u32,
        /// The file system's id.
        fsid: u64,
        /// The file's serial number in its file system.
        ino: u64,
        /// The file's generation number.
        gen: u32,
        /// The device a device file stands for.
        rdev: u64,
        /// Type and permission bits (`S_IF*`, `0o7777`).
        mode: u32,
        /// Hard links.
        nlink: u64,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
        /// Size in bytes.
        size: u64,
        /// Last access.
        atime: Timespec,
        /// Last modification of the contents.
        mtime: Timespec,
        /// Last change of the status.
        ctime: Timespec,
        /// Preferred I/O size.
        blksize: u32,
        /// 512-byte blocks allocated.
        blocks: u64,
        /// The Hurd's author (who may change the file's translator); usually the owner.
        author: u32,
        /// File flags (`file_chflags`).
        flags: u32,
    }
}

fixed_struct! {
    /// A file system's status (`statfs`, the Hurd's `fsys_statfsbuf_t`).
    StatFs = "statfs" {
        /// The kind of server (`FSTYPE_*`).
        fstype: u32,
        /// Block size.
        bsize: u64,
        /// Blocks in all.
        blocks: u64,
        /// Free blocks.
        bfree: u64,
        /// Free blocks an unprivileged user may use.
        bavail: u64,
        /// Files (nodes) in all.
        files: u64,
        /// Free file nodes.
        ffree: u64,
        /// The file system's id.
        fsid: u64,
        /// The longest name.
        namelen: u64,
        /// Fragment size.
        frsize: u64,
        /// Mount flags (`ST_RDONLY` ...).
        flag: u64,
    }
}

impl Timespec {
    /// The current time.
    pub fn now() -> Timespec {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timespec {
            sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nsec: d.subsec_nanos(),
        }
    }
}

/// The wire bytes of a fixed struct.
pub fn to_bytes<T: Fixed>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(T::SIZE);
    value.put(&mut out);
    out
}

/// A fixed struct from exactly its wire bytes (`None` for any other length).
pub fn from_bytes<T: Fixed>(bytes: &[u8]) -> Option<T> {
    if bytes.len() != T::SIZE {
        return None;
    }
    let mut input = bytes;
    T::get(&mut input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_packed_and_round_trip() {
        assert_eq!(Timespec::SIZE, 12);
        assert_eq!(
            Stat::SIZE,
            4 + 8 + 8 + 4 + 8 + 4 + 8 + 4 + 4 + 8 + 3 * 12 + 4 + 8 + 4 + 4
        );
        assert_eq!(Stat::INFO.size, Stat::SIZE);
        assert_eq!(StatFs::SIZE, 4 + 10 * 8);
        let st = Stat {
            mode: 0o20666,
            size: u64::MAX,
            mtime: Timespec { sec: -1, nsec: 7 },
            flags: 9,
            ..Stat::default()
        };
        let bytes = to_bytes(&st);
        assert_eq!(bytes.len(), Stat::SIZE);
        assert_eq!(from_bytes::<Stat>(&bytes), Some(st));
        assert_eq!(from_bytes::<Stat>(&bytes[1..]), None);
        assert_eq!(Stat::INFO.fields[10].name, "atime");
        assert_eq!(Stat::INFO.fields[10].ty, FieldType::Struct(Timespec::INFO));
    }
}
