//! The auth server with a real kernel: ids, makeauth's rules, and the rendezvous handshake
//! in both orders, with a caller that gives up while waiting.

use std::time::Duration;

use herd_auth::{AuthServer, Ids};
use herd_interfaces::auth;
use herd_runtime::{Errno, PortArg, Right, SendRight, ServeOptions, Task};
use herd_testing::{kernel, wait_until};

fn user(uid: u32, gid: u32) -> Ids {
    Ids {
        euids: vec![uid],
        auids: vec![uid],
        egids: vec![gid],
        agids: vec![gid],
    }
}

fn start(task: &Task) -> AuthServer {
    let server = AuthServer::new(task).expect("auth server");
    let serving = server.clone();
    std::thread::spawn(move || serving.serve(ServeOptions::default()));
    server
}

fn getids(task: &Task, h: &SendRight) -> Ids {
    let (euids, auids, egids, agids) = auth::auth_getids(task, h).expect("getids");
    Ids {
        euids,
        auids,
        egids,
        agids,
    }
}

fn makeauth(task: &Task, h: &SendRight, other: PortArg, want: &Ids) -> Result<SendRight, Errno> {
    auth::auth_makeauth(
        task,
        h,
        other,
        &want.euids,
        &want.auids,
        &want.egids,
        &want.agids,
    )
    .map(|r| r.into_send().expect("a handle"))
}

#[test]
fn ids_and_makeauth_follow_the_rules() {
    let (_k, task) = kernel("auth-ids");
    let server = start(&task);
    let root = server.handle(Ids::root()).unwrap();
    assert_eq!(getids(&task, &root), Ids::root());
    // The superuser makes any identity.
    let alice = makeauth(&task, &root, PortArg::Null, &user(1000, 100)).unwrap();
    let bob = makeauth(&task, &root, PortArg::Null, &user(1001, 101)).unwrap();
    assert_eq!(getids(&task, &alice), user(1000, 100));
    // A user may restrict, not invent.
    let less = Ids {
        euids: vec![1000],
        ..Ids::default()
    };
    let restricted = makeauth(&task, &alice, PortArg::Null, &less).unwrap();
    assert_eq!(getids(&task, &restricted), less);
    assert_eq!(
        makeauth(&task, &alice, PortArg::Null, &user(0, 0)).err(),
        Some(Errno::EPERM)
    );
    assert_eq!(
        makeauth(&task, &alice, PortArg::Null, &user(1001, 101)).err(),
        Some(Errno::EPERM)
    );
    // Merging in another handle grants its ids too.
    let both = Ids {
        euids: vec![1000, 1001],
        auids: vec![],
        egids: vec![100, 101],
        agids: vec![],
    };
    let merged = makeauth(&task, &alice, PortArg::CopySend(bob.name()), &both).unwrap();
    assert_eq!(getids(&task, &merged), both);
    // A port that is not an auth handle is not a handle to merge.
    let stranger = task.allocate_port().unwrap();
    assert_eq!(
        makeauth(&task, &alice, PortArg::MakeSend(stranger.name()), &less).err(),
        Some(Errno::EINVAL)
    );
    server.shutdown();
}

/// Runs the handshake with the user's half first (`user_first`) or the server's.
fn handshake(user_first: bool) {
    let (_k, task) = kernel("auth-hs");
    let server = start(&task);
    let root = server.handle(Ids::root()).unwrap();
    let alice = makeauth(&task, &root, PortArg::Null, &user(1000, 100)).unwrap();
    let server_auth = root.clone();
    // The client's rendezvous port, and the port the file server makes for this client.
    let rendezvous = task.allocate_port().unwrap();
    let for_client = task.allocate_port().unwrap();
    let (r, np) = (rendezvous.name(), for_client.name());
    let user_half = {
        let (task, alice) = (task.clone(), alice.clone());
        move || auth::auth_user_authenticate(&task, &alice, PortArg::MakeSend(r))
    };
    let server_half = {
        let task = task.clone();
        move || {
            auth::auth_server_authenticate(
                &task,
                &server_auth,
                PortArg::MakeSend(r),
                PortArg::MakeSend(np),
            )
        }
    };
    let (got_port, got_ids) = if user_first {
        let u = std::thread::spawn(user_half);
        wait_until("the user's half waits", || server.waiting() == 1);
        let ids = server_half().expect("server half");
        (u.join().unwrap().expect("user half"), ids)
    } else {
        let s = std::thread::spawn(server_half);
        wait_until("the server's half waits", || server.waiting() == 1);
        let port = user_half().expect("user half");
        (port, s.join().unwrap().expect("server half"))
    };
    assert_eq!(got_ids, (vec![1000], vec![1000], vec![100], vec![100]));
    match got_port {
        Right::Send(s) => assert_eq!(s.name(), np, "the client gets the server's port"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.waiting(), 0);
    server.shutdown();
}

#[test]
fn the_handshake_matches_user_first() {
    handshake(true);
}

#[test]
fn the_handshake_matches_server_first() {
    handshake(false);
}

#[test]
fn a_caller_that_gives_up_is_forgotten() {
    let (_k, task) = kernel("auth-gone");
    let server = start(&task);
    let root = server.handle(Ids::root()).unwrap();
    let rendezvous = task.allocate_port().unwrap();
    // A user half whose caller stops waiting (its reply port is destroyed on timeout).
    let msg = auth::codec::encode_auth_user_authenticate_request(
        PortArg::CopySend(root.name()),
        PortArg::MakeSend(rendezvous.name()),
    );
    assert!(task.rpc(msg, Some(Duration::from_millis(100))).is_err());
    wait_until("the abandoned half is forgotten", || server.waiting() == 0);
    // The same rendezvous can be used again afterwards.
    let s = server.clone();
    let t = task.clone();
    let r = rendezvous.name();
    let u = std::thread::spawn(move || {
        let root = s.handle(Ids::root()).unwrap();
        auth::auth_user_authenticate(&t, &root, PortArg::MakeSend(r))
    });
    wait_until("the new half waits", || server.waiting() == 1);
    let np = task.allocate_port().unwrap();
    auth::auth_server_authenticate(
        &task,
        &root,
        PortArg::MakeSend(r),
        PortArg::MakeSend(np.name()),
    )
    .unwrap();
    assert!(u.join().unwrap().is_ok());
    server.shutdown();
}
