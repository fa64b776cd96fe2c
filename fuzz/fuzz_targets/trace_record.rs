//! rpctrace's record parser on arbitrary bytes: no panic, and what parses re-encodes to the
//! same record.
#![no_main]

use herd_wire::trace::{record_id, TraceRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let ids = [record_id::SEND, record_id::RECEIVE, record_id::EXIT, record_id::SPAWNED, record_id::WAITING, 0];
    let id = ids[which as usize % ids.len()];
    if let Ok(record) = TraceRecord::decode(id, body) {
        assert_eq!(record.id(), id);
        let again = TraceRecord::decode(id, &record.encode()).expect("re-encoded record parses");
        assert_eq!(again, record);
    }
});
