//! Any text given to the IDL parser: an error with a position or an interface, never a
//! panic; what parses also generates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(iface) = herd_idl::parse(text) {
            let _ = herd_idl::generate(&iface);
        }
    }
});
