//! A regular file's contents: fixed-size chunks in a map, so holes cost nothing and read as
//! zeros, and a file extended to a gibibyte holds no memory until it is written.
//!
//! Invariant: every byte of an allocated chunk at or past the file's size is zero, so
//! growing a file never exposes old data.

use std::collections::BTreeMap;

/// The unit of allocation for file data, and what one chunk costs against the size limit.
pub const CHUNK_SIZE: usize = 4096;
const CHUNK: u64 = CHUNK_SIZE as u64;

/// The largest file size (Linux's `MAX_LFS_FILESIZE` on 64-bit machines).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// A file's bytes.
#[derive(Debug, Default, Clone)]
pub(crate) struct FileData {
    size: u64,
    chunks: BTreeMap<u64, Box<[u8; CHUNK_SIZE]>>,
}

impl FileData {
    /// The size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// How many chunks hold memory.
    pub(crate) fn chunk_count(&self) -> u64 {
        self.chunks.len() as u64
    }

    /// Up to `len` bytes from `offset`; fewer at the end of the file, none past it.
    pub(crate) fn read(&self, offset: u64, len: usize) -> Vec<u8> {
        if offset >= self.size || len == 0 {
            return Vec::new();
        }
        let n = (self.size - offset).min(len as u64) as usize;
        let mut out = vec![0u8; n];
        let end = offset + n as u64;
        for (&index, chunk) in self.chunks.range(offset / CHUNK..=(end - 1) / CHUNK) {
            let chunk_start = index * CHUNK;
            let from = offset.max(chunk_start);
            let to = end.min(chunk_start + CHUNK);
            let src = &chunk[(from - chunk_start) as usize..(to - chunk_start) as usize];
            out[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
        }
        out
    }

    /// Write `data` at `offset`, allocating at most `new_chunks` chunks. Returns the bytes
    /// written (short if chunks ran out: the write stops where the first chunk it could not
    /// allocate begins) and the chunks allocated. The caller has checked that
    /// `offset + data.len()` does not pass [`MAX_FILE_SIZE`].
    pub(crate) fn write(&mut self, offset: u64, data: &[u8], new_chunks: u64) -> (usize, u64) {
        let mut done = 0usize;
        let mut allocated = 0u64;
        while done < data.len() {
            let pos = offset + done as u64;
            let index = pos / CHUNK;
            let within = (pos % CHUNK) as usize;
            let n = (CHUNK_SIZE - within).min(data.len() - done);
            let chunk = match self.chunks.entry(index) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    if allocated >= new_chunks {
                        break;
                    }
                    allocated += 1;
                    e.insert(Box::new([0u8; CHUNK_SIZE]))
                }
            };
            chunk[within..within + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
        if done > 0 {
            self.size = self.size.max(offset + done as u64);
        }
        (done, allocated)
    }

    /// Truncate or extend to `size` (extending allocates nothing). Returns the chunks freed.
    pub(crate) fn set_size(&mut self, size: u64) -> u64 {
        let mut freed = 0;
        if size < self.size {
            let keep = size.div_ceil(CHUNK);
            let dropped = self.chunks.split_off(&keep);
            freed = dropped.len() as u64;
            let within = (size % CHUNK) as usize;
            if within != 0 {
                if let Some(chunk) = self.chunks.get_mut(&(size / CHUNK)) {
                    chunk[within..].fill(0);
                }
            }
        }
        self.size = size;
        freed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_read_as_zeros_and_cost_nothing() {
        let mut f = FileData::default();
        f.set_size(1 << 30);
        assert_eq!(f.chunk_count(), 0);
        assert_eq!(f.read(12345, 4), vec![0; 4]);
        assert_eq!(f.read(0, 0), Vec::<u8>::new());
        assert_eq!(f.write(CHUNK * 3 - 2, b"abcd", 10), (4, 2));
        assert_eq!(f.read(CHUNK * 3 - 3, 6), b"\0abcd\0");
        assert_eq!(f.size(), 1 << 30);
    }

    #[test]
    fn writes_stop_at_the_chunk_budget() {
        let mut f = FileData::default();
        let data = vec![7u8; CHUNK_SIZE * 3];
        assert_eq!(f.write(10, &data, 2), (CHUNK_SIZE * 2 - 10, 2));
        assert_eq!(f.size(), CHUNK * 2);
        assert_eq!(f.write(CHUNK * 5, b"x", 0), (0, 0));
        assert_eq!(f.size(), CHUNK * 2);
        assert_eq!(f.write(0, b"", 0), (0, 0));
    }

    #[test]
    fn truncation_zeroes_the_tail_so_extension_reads_zeros() {
        let mut f = FileData::default();
        f.write(0, &[1u8; 10_000], 10);
        assert_eq!(f.chunk_count(), 3);
        assert_eq!(f.set_size(5000), 1);
        assert_eq!(f.set_size(9000), 0);
        let back = f.read(0, 20_000);
        assert_eq!(back.len(), 9000);
        assert!(back[..5000].iter().all(|&b| b == 1));
        assert!(back[5000..].iter().all(|&b| b == 0));
        assert_eq!(f.set_size(0), 2);
        assert_eq!(f.read(0, 10), Vec::<u8>::new());
    }

    #[test]
    fn far_offsets_do_not_overflow() {
        let mut f = FileData::default();
        assert_eq!(f.write(MAX_FILE_SIZE - 3, b"abc", 1), (3, 1));
        assert_eq!(f.size(), MAX_FILE_SIZE);
        assert_eq!(f.read(MAX_FILE_SIZE - 3, usize::MAX), b"abc");
        assert_eq!(f.read(MAX_FILE_SIZE, 5), Vec::<u8>::new());
        assert_eq!(f.set_size(0), 1);
    }
}
