//! An open's mode bits as the io interface's openmodes calls change them: only the
//! `CHANGEABLE` bits (append, async, fsync, nonblock, noatime) move; the access bits a
//! port was opened with never do.

use std::sync::atomic::{AtomicU32, Ordering};

use herd_interfaces::types::consts::open::{CHANGEABLE, O_EXEC, O_READ, O_WRITE};

/// `io_get_openmodes`: the access bits and the changeable ones.
pub fn get(modes: &AtomicU32) -> u32 {
    modes.load(Ordering::Acquire) & (CHANGEABLE | O_READ | O_WRITE | O_EXEC)
}

/// `io_set_all_openmodes`: the changeable bits become `newbits`'.
pub fn set_all(modes: &AtomicU32, newbits: u32) {
    let _ = modes.fetch_update(Ordering::AcqRel, Ordering::Acquire, |m| {
        Some((m & !CHANGEABLE) | (newbits & CHANGEABLE))
    });
}

/// `io_set_some_openmodes`: sets the changeable bits among `bits`.
pub fn set_some(modes: &AtomicU32, bits: u32) {
    modes.fetch_or(bits & CHANGEABLE, Ordering::AcqRel);
}

/// `io_clear_some_openmodes`: clears the changeable bits among `bits`.
pub fn clear_some(modes: &AtomicU32, bits: u32) {
    modes.fetch_and(!(bits & CHANGEABLE), Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use super::*;
    use herd_interfaces::types::consts::open::O_APPEND;

    #[test]
    fn only_changeable_bits_move() {
        let m = AtomicU32::new(O_READ | O_APPEND);
        set_all(&m, O_WRITE);
        assert_eq!(
            get(&m),
            O_READ,
            "access bits stay, append cleared, write refused"
        );
        set_some(&m, O_APPEND | O_EXEC);
        assert_eq!(get(&m), O_READ | O_APPEND);
        clear_some(&m, O_APPEND | O_READ);
        assert_eq!(get(&m), O_READ);
    }
}
