//! Any bytes given to the frame parsers: no panic, and what parses re-encodes to itself.
#![no_main]

use herd_wire::{Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Request::decode(data) {
        let again = req.encode();
        assert_eq!(Request::decode(&again).as_ref(), Ok(&req));
    }
    if let Ok(resp) = Response::decode(data) {
        let again = resp.encode();
        assert_eq!(Response::decode(&again).as_ref(), Ok(&resp));
    }
});
