//! File contents: sparse files, the size limit, the largest file size, times.

mod common;

use common::*;
use herd_tmpfs::{Error, Ino, Limits, Timestamp, CHUNK_SIZE, MAX_FILE_SIZE, MAX_READ};

const CHUNK: u64 = CHUNK_SIZE as u64;

#[test]
fn read_write_and_holes() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    assert_eq!(fs.read(f, 0, 10).unwrap(), b"");
    assert_eq!(fs.write(&r, f, 0, b"hello").unwrap(), 5);
    assert_eq!(fs.write(&r, f, 10, b"world").unwrap(), 5);
    assert_eq!(fs.read(f, 0, 100).unwrap(), b"hello\0\0\0\0\0world");
    assert_eq!(fs.read(f, 3, 4).unwrap(), b"lo\0\0");
    assert_eq!(fs.read(f, 15, 4).unwrap(), b"");
    assert_eq!(fs.read(f, 0, 0).unwrap(), b"");
    assert_eq!(fs.read(f, u64::MAX, 4).unwrap(), b"");
    let st = fs.stat(f).unwrap();
    assert_eq!((st.size, st.blocks, st.block_size), (15, 8, 4096));
    assert_eq!(fs.write(&r, f, 3, b"").unwrap(), 0);
    assert_eq!(fs.stat(f).unwrap().size, 15);
}

#[test]
fn a_gibibyte_of_hole_costs_nothing() {
    let (mut fs, _) = with_limits(Limits {
        max_bytes: 2 * CHUNK,
        max_inodes: 10,
    });
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    fs.set_size(&r, f, 1 << 30).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!((st.size, st.blocks), (1 << 30, 0));
    assert_eq!(fs.used_bytes(), 1);
    assert_eq!(fs.read(f, 500 << 20, 8).unwrap(), vec![0; 8]);
    // Writing in the middle allocates only the chunk written.
    fs.write(&r, f, 700 << 20, b"x").unwrap();
    assert_eq!(fs.stat(f).unwrap().blocks, 8);
    // Reads are capped.
    assert_eq!(fs.read(f, 0, usize::MAX).unwrap().len(), MAX_READ);
}

#[test]
fn the_size_limit_gives_short_writes_then_enospc() {
    let (mut fs, _) = with_limits(Limits {
        max_bytes: 3 * CHUNK + 1,
        max_inodes: 10,
    });
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    // One byte for the name; three chunks for data.
    let big = vec![9u8; 5 * CHUNK_SIZE];
    assert_eq!(fs.write(&r, f, 100, &big).unwrap(), 3 * CHUNK_SIZE - 100);
    assert_eq!(fs.stat(f).unwrap().size, 3 * CHUNK);
    assert_eq!(fs.write(&r, f, 3 * CHUNK, b"more"), Err(Error::NoSpace));
    assert_eq!(fs.write(&r, f, 10 * CHUNK, b"far"), Err(Error::NoSpace));
    assert_eq!(fs.stat(f).unwrap().size, 3 * CHUNK);
    // Overwriting allocated chunks needs no space.
    assert_eq!(fs.write(&r, f, 0, &big[..CHUNK_SIZE]).unwrap(), CHUNK_SIZE);
    assert_eq!(fs.statfs().free_bytes, 0);
    // Truncating returns space.
    fs.set_size(&r, f, CHUNK + 1).unwrap();
    assert_eq!(fs.used_bytes(), 2 * CHUNK + 1);
    assert_eq!(fs.write(&r, f, 5 * CHUNK, b"ok").unwrap(), 2);
    fs.unlink(&r, Ino::ROOT, b"f").unwrap();
    assert_eq!((fs.used_bytes(), fs.used_inodes()), (0, 1));
}

#[test]
fn the_largest_file_size() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    assert_eq!(fs.write(&r, f, MAX_FILE_SIZE, b"x"), Err(Error::FileTooBig));
    assert_eq!(fs.write(&r, f, u64::MAX, b"x"), Err(Error::FileTooBig));
    // A write that would pass it is cut short.
    assert_eq!(fs.write(&r, f, MAX_FILE_SIZE - 2, b"abcd").unwrap(), 2);
    assert_eq!(fs.stat(f).unwrap().size, MAX_FILE_SIZE);
    assert_eq!(fs.read(f, MAX_FILE_SIZE - 2, 10).unwrap(), b"ab");
    assert_eq!(
        fs.set_size(&r, f, MAX_FILE_SIZE + 1),
        Err(Error::FileTooBig)
    );
    fs.set_size(&r, f, 0).unwrap();
    assert_eq!(fs.used_bytes(), 1);
}

#[test]
fn truncate_then_extend_reads_zeros() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    fs.write(&r, f, 0, &[0xaa; 10_000]).unwrap();
    fs.set_size(&r, f, 4097).unwrap();
    fs.set_size(&r, f, 20_000).unwrap();
    let data = fs.read(f, 0, 20_000).unwrap();
    assert!(data[..4097].iter().all(|&b| b == 0xaa));
    assert!(data[4097..].iter().all(|&b| b == 0));
    assert_eq!(fs.stat(f).unwrap().blocks, 16);
}

#[test]
fn times_follow_contents() {
    let (mut fs, clock) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    clock.set(Timestamp::new(2000, 7));
    fs.write(&r, f, 0, b"abc").unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!(
        (st.mtime, st.ctime, st.atime),
        (
            Timestamp::new(2000, 7),
            Timestamp::new(2000, 7),
            Timestamp::new(1000, 0)
        )
    );
    clock.set(Timestamp::new(2001, 0));
    fs.read(f, 0, 1).unwrap();
    assert_eq!(fs.stat(f).unwrap().atime, Timestamp::new(2001, 0));
    // Setting the size it already has changes nothing.
    clock.set(Timestamp::new(2002, 0));
    fs.set_size(&r, f, 3).unwrap();
    assert_eq!(fs.stat(f).unwrap().mtime, Timestamp::new(2000, 7));
    fs.set_size(&r, f, 2).unwrap();
    assert_eq!(fs.stat(f).unwrap().mtime, Timestamp::new(2002, 0));
    // The parent directory is untouched by writes.
    assert_eq!(fs.stat(Ino::ROOT).unwrap().mtime, Timestamp::new(1000, 0));
}

#[test]
fn lowering_the_limit_below_use() {
    let (mut fs, _) = fresh();
    let r = root();
    let (f, _) = fs.create(&r, Ino::ROOT, b"f", 0o644, true).unwrap();
    fs.write(&r, f, 0, &[1; 3 * CHUNK_SIZE]).unwrap();
    fs.set_limits(Limits {
        max_bytes: CHUNK,
        max_inodes: 1,
    });
    assert_eq!(fs.limits().max_bytes, CHUNK);
    let sf = fs.statfs();
    assert_eq!((sf.free_bytes, sf.free_inodes), (0, 0));
    assert_eq!(fs.write(&r, f, 10 * CHUNK, b"x"), Err(Error::NoSpace));
    assert_eq!(
        fs.create(&r, Ino::ROOT, b"g", 0o644, true),
        Err(Error::NoSpace)
    );
    // What is held may still be rewritten and freed.
    fs.write(&r, f, 0, b"x").unwrap();
    fs.unlink(&r, Ino::ROOT, b"f").unwrap();
    assert_eq!(fs.used_bytes(), 0);
}
