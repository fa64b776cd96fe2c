//! rpctrace's decoder on arbitrary messages: any id, body, rights and regions give text,
//! never a panic.
#![no_main]

use herd_wire::{PortDescriptor, PortName};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let id = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let nports = (data[4] % 8) as usize;
    let nool = (data[5] % 4) as usize;
    let ports: Vec<PortDescriptor> = (0..nports)
        .map(|i| PortDescriptor { name: PortName(i as u32 * 257), kind: data.get(6 + i).copied().unwrap_or(0) })
        .collect();
    let ool: Vec<u64> = (0..nool).map(|i| (i as u64) << 20).collect();
    let body = data.get(6 + nports..).unwrap_or(&[]);
    let text = herd_interfaces::reflect::describe(id, body, &ports, &ool);
    assert!(!text.is_empty());
});
