//! What operations changed, kept for the server layer to turn into `dir_notice_changes` and
//! `file_notice_changes` messages.

use crate::types::Ino;

/// How many changes are kept before the log stops recording and reports [`Change::Lost`].
pub const CHANGE_LOG_MAX: usize = 65_536;

/// One change, in the order it happened. A failed operation records nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An entry appeared in a directory (the Hurd's `DIR_CHANGED_NEW`).
    Added {
        /// The directory.
        dir: Ino,
        /// The new entry's name.
        name: Vec<u8>,
    },
    /// An entry went away (`DIR_CHANGED_UNLINK`).
    Removed {
        /// The directory.
        dir: Ino,
        /// The removed entry's name.
        name: Vec<u8>,
    },
    /// An entry moved; an entry it replaced at the destination is gone (the Hurd reports
    /// an unlink in the source and a new entry, or a renumbered one, in the destination).
    Renamed {
        /// The source directory.
        from_dir: Ino,
        /// The source name.
        from_name: Vec<u8>,
        /// The destination directory.
        to_dir: Ino,
        /// The destination name.
        to_name: Vec<u8>,
    },
    /// Two entries swapped nodes (rename with exchange).
    Exchanged {
        /// The first directory.
        dir_a: Ino,
        /// The first name.
        name_a: Vec<u8>,
        /// The second directory.
        dir_b: Ino,
        /// The second name.
        name_b: Vec<u8>,
    },
    /// Bytes `start..end` of a file were written (`FILE_CHANGED_WRITE`).
    Written {
        /// The file.
        ino: Ino,
        /// First byte written.
        start: u64,
        /// One past the last byte written.
        end: u64,
    },
    /// A file's size changed by `set_size` (`FILE_CHANGED_EXTEND` / `FILE_CHANGED_TRUNCATE`).
    Resized {
        /// The file.
        ino: Ino,
        /// Its size before.
        old: u64,
        /// Its size now.
        new: u64,
    },
    /// Other metadata changed: mode, owner, times, link count, translator
    /// (`FILE_CHANGED_META`).
    Attributes {
        /// The node.
        ino: Ino,
    },
    /// The log was full and changes after this point were not recorded; the caller should
    /// treat everything as changed.
    Lost,
}

/// The log of changes since the caller last drained it.
#[derive(Debug, Default)]
pub(crate) struct ChangeLog {
    items: Vec<Change>,
    lost: bool,
}

impl ChangeLog {
    /// Record one change (or, once full, note that changes are being lost).
    pub(crate) fn push(&mut self, change: Change) {
        if self.lost {
            return;
        }
        if self.items.len() + 1 >= CHANGE_LOG_MAX {
            self.items.push(Change::Lost);
            self.lost = true;
            return;
        }
        self.items.push(change);
    }

    /// Everything recorded, oldest first; the log starts afresh.
    pub(crate) fn take(&mut self) -> Vec<Change> {
        self.lost = false;
        std::mem::take(&mut self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_bounded_and_says_so() {
        let mut log = ChangeLog::default();
        for _ in 0..CHANGE_LOG_MAX + 10 {
            log.push(Change::Attributes { ino: Ino::ROOT });
        }
        let items = log.take();
        assert_eq!(items.len(), CHANGE_LOG_MAX);
        assert_eq!(items.last(), Some(&Change::Lost));
        log.push(Change::Attributes { ino: Ino::ROOT });
        assert_eq!(log.take(), vec![Change::Attributes { ino: Ino::ROOT }]);
    }
}
