//! Message translation under attack: three tasks send arbitrary frames (forged names,
//! bad dispositions, random calls) to one kernel; it must never panic and every count
//! must stay exact; when the tasks die nothing may be left.
#![no_main]

use std::time::{Duration, Instant};

use herd_channel::PeerCredentials;
use herd_kernel::{Action, Input, Kernel};
use herd_wire::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::now();
    let mut k = Kernel::new(now, 1000);
    let conns = [10u64, 11, 12];
    let mut spawned: Vec<u64> = Vec::new();
    for &c in &conns {
        k.handle(now, Input::Connected { conn: c, creds: PeerCredentials { pid: c as u32, uid: 1000, gid: 1000 } });
        k.handle(now, Input::Frame { conn: c, request: Request::NewTask { label: "f".into() }, fds: Vec::new() });
    }
    // Frames are length-prefixed chunks: [conn selector][len u8][bytes...].
    let mut rest = data;
    while rest.len() >= 2 {
        let conn = conns[rest[0] as usize % conns.len()];
        let len = (rest[1] as usize).min(rest.len() - 2);
        let chunk = &rest[2..2 + len];
        rest = &rest[2 + len..];
        match Request::decode(chunk) {
            Ok(request) => k.handle(now, Input::Frame { conn, request, fds: Vec::new() }),
            Err(error) => k.handle(now, Input::Malformed { conn, error }),
        }
        now += Duration::from_millis(3);
        k.tick(now);
        // A spawned program "starts" at once; its connection closes at the end.
        for action in k.take_actions() {
            if let Action::Spawn(order) = action {
                spawned.push(order.child);
                k.handle(now, Input::Spawned { child: order.child, result: Ok(4242) });
            }
        }
        k.take_actions();
        k.check_invariants().expect("invariants hold");
    }
    for &c in conns.iter().chain(spawned.iter()) {
        k.handle(now, Input::Closed { conn: c });
    }
    k.take_actions();
    let st = k.stats();
    assert_eq!((st.tasks, st.ports, st.port_sets, st.names, st.send_rights, st.send_once_rights), (0, 0, 0, 0, 0, 0));
});
