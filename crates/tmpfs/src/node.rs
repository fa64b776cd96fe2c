//! A node: its kind and contents, its attributes, and the permission rule that reads them;
//! and the public views of it ([`Stat`], [`Kind`]).

use crate::dir::{DirData, DIRENT_SIZE};
use crate::file::{FileData, CHUNK_SIZE};
use crate::lock::Locks;
use crate::types::{mode, Access, Identity, Ino, Timestamp};

/// What kind of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A named pipe (metadata only; the server layer makes it a pipe).
    Fifo,
    /// A character device node (metadata only).
    CharDevice,
    /// A block device node (metadata only).
    BlockDevice,
    /// A socket node (metadata only).
    Socket,
}

impl Kind {
    /// The `S_IFMT` bits of `st_mode` for this kind (Linux values).
    pub fn type_bits(self) -> u32 {
        match self {
            Kind::Fifo => 0o010000,
            Kind::CharDevice => 0o020000,
            Kind::Directory => 0o040000,
            Kind::BlockDevice => 0o060000,
            Kind::File => 0o100000,
            Kind::Symlink => 0o120000,
            Kind::Socket => 0o140000,
        }
    }
}

/// A node that `mknod` makes: it holds only metadata here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Special {
    /// A named pipe.
    Fifo,
    /// A socket.
    Socket,
    /// A character device with this device number.
    CharDevice(u64),
    /// A block device with this device number.
    BlockDevice(u64),
}

impl Special {
    fn kind(self) -> Kind {
        match self {
            Special::Fifo => Kind::Fifo,
            Special::Socket => Kind::Socket,
            Special::CharDevice(_) => Kind::CharDevice,
            Special::BlockDevice(_) => Kind::BlockDevice,
        }
    }
}

/// A node's attributes, as `io_stat` reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Inode number.
    pub ino: Ino,
    /// Kind of node.
    pub kind: Kind,
    /// Permission bits (`0o7777` at most); [`Stat::mode`] adds the type bits.
    pub perm: u32,
    /// Number of names (for a directory: 2 plus its subdirectories).
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (a directory's is [`DIRENT_SIZE`] per entry, `.` and `..` included; a
    /// symlink's is its target's length).
    pub size: u64,
    /// 512-byte blocks of memory held.
    pub blocks: u64,
    /// Preferred I/O size.
    pub block_size: u32,
    /// Device number of a device node, else 0.
    pub rdev: u64,
    /// Last access.
    pub atime: Timestamp,
    /// Last change of contents.
    pub mtime: Timestamp,
    /// Last change of attributes or contents.
    pub ctime: Timestamp,
    /// Whether a passive translator is recorded on the node (the Hurd's `S_IPTRANS`).
    pub translated: bool,
}

impl Stat {
    /// `st_mode`: type bits and permission bits.
    pub fn mode(&self) -> u32 {
        self.kind.type_bits() | self.perm
    }
}

/// What a node holds.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    File(FileData),
    Directory(DirData),
    Symlink(Vec<u8>),
    Special(Special),
}

/// A live node.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) body: Body,
    pub(crate) perm: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) nlink: u32,
    pub(crate) atime: Timestamp,
    pub(crate) mtime: Timestamp,
    pub(crate) ctime: Timestamp,
    /// The passive translator record (an argz command line); empty if none.
    pub(crate) translator: Vec<u8>,
    /// Open references held by the server layer.
    pub(crate) opens: u64,
    pub(crate) locks: Locks,
}

impl Node {
    /// A new node stamped with `now`, with no links yet.
    pub(crate) fn new(body: Body, perm: u32, uid: u32, gid: u32, now: Timestamp) -> Node {
        Node {
            body,
            perm: perm & mode::PERMS,
            uid,
            gid,
            nlink: 0,
            atime: now,
            mtime: now,
            ctime: now,
            translator: Vec::new(),
            opens: 0,
            locks: Locks::default(),
        }
    }

    /// The node's kind.
    pub(crate) fn kind(&self) -> Kind {
        match &self.body {
            Body::File(_) => Kind::File,
            Body::Directory(_) => Kind::Directory,
            Body::Symlink(_) => Kind::Symlink,
            Body::Special(s) => s.kind(),
        }
    }

    /// The directory contents, if this is a directory.
    pub(crate) fn dir(&self) -> Option<&DirData> {
        match &self.body {
            Body::Directory(d) => Some(d),
            _ => None,
        }
    }

    /// The directory contents, mutably, if this is a directory.
    pub(crate) fn dir_mut(&mut self) -> Option<&mut DirData> {
        match &mut self.body {
            Body::Directory(d) => Some(d),
            _ => None,
        }
    }

    /// Bytes this node holds against the size limit (entry names are charged to their
    /// directory's account only while they exist, so an empty directory holds none).
    pub(crate) fn charged_bytes(&self) -> u64 {
        let body = match &self.body {
            Body::File(f) => f.chunk_count() * CHUNK_SIZE as u64,
            Body::Directory(d) => d.entries().map(|e| e.name.len() as u64).sum(),
            Body::Symlink(t) => t.len() as u64,
            Body::Special(_) => 0,
        };
        body + self.translator.len() as u64
    }

    /// Whether `who` may have `want` access, by the Linux rule: the superuser may read and
    /// write anything, and execute a file with any execute bit or search any directory;
    /// others get the owner's bits if they own it, else the group's if in its group, else
    /// the rest's.
    pub(crate) fn permits(&self, who: &Identity, want: Access) -> bool {
        if who.is_superuser() {
            return !want.contains(Access::EXEC)
                || matches!(self.body, Body::Directory(_))
                || self.perm & 0o111 != 0;
        }
        let bits = if who.has_uid(self.uid) {
            self.perm >> 6
        } else if who.in_group(self.gid) {
            self.perm >> 3
        } else {
            self.perm
        } & 7;
        bits & want.bits() == want.bits()
    }

    /// The public attributes.
    pub(crate) fn stat(&self, ino: Ino) -> Stat {
        let (size, blocks, rdev) = match &self.body {
            Body::File(f) => (f.size(), f.chunk_count() * (CHUNK_SIZE as u64 / 512), 0),
            Body::Directory(d) => ((d.len() as u64 + 2) * DIRENT_SIZE, 0, 0),
            Body::Symlink(t) => (t.len() as u64, 0, 0),
            Body::Special(Special::CharDevice(r) | Special::BlockDevice(r)) => (0, 0, *r),
            Body::Special(_) => (0, 0, 0),
        };
        Stat {
            ino,
            kind: self.kind(),
            perm: self.perm,
            nlink: self.nlink,
            uid: self.uid,
            gid: self.gid,
            size,
            blocks,
            block_size: CHUNK_SIZE as u32,
            rdev,
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
            translated: !self.translator.is_empty(),
        }
    }

    /// Stamp `mtime` and `ctime`.
    pub(crate) fn touch_modified(&mut self, now: Timestamp) {
        self.mtime = now;
        self.ctime = now;
    }

    /// Stamp `atime` the `relatime` way: only if it is not newer than `mtime` or `ctime`,
    /// or is a day old.
    pub(crate) fn touch_accessed(&mut self, now: Timestamp) {
        if self.atime <= self.mtime
            || self.atime <= self.ctime
            || now.sec.saturating_sub(self.atime.sec) >= 24 * 3600
        {
            self.atime = now;
        }
    }
}
