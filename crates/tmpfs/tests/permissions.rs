//! Permission rules, each tried with an owner, a group member, another user and the
//! superuser.

mod common;

use common::*;
use herd_tmpfs::{mode, Access, Error, Identity, Ino, SetTime, Special, Timestamp, TRANSLATOR_MAX};

#[test]
fn search_permission_guards_lookup_and_everything_below() {
    let (mut fs, _) = fresh();
    let d = owned_dir(&mut fs, b"d", &alice(), 0o700);
    fs.create(&alice(), d, b"f", 0o644, true).unwrap();
    assert!(fs.lookup(&alice(), d, b"f").is_ok());
    assert!(fs.lookup(&root(), d, b"f").is_ok());
    assert_eq!(fs.lookup(&bob(), d, b"f"), Err(Error::AccessDenied));
    assert_eq!(fs.lookup(&bob(), d, b"."), Err(Error::AccessDenied));
    assert_eq!(
        fs.create(&bob(), d, b"g", 0o644, true),
        Err(Error::AccessDenied)
    );
    assert_eq!(fs.unlink(&bob(), d, b"f"), Err(Error::AccessDenied));
    // Group bits apply to a group member who is not the owner, and only to them.
    fs.chmod(&alice(), d, 0o750).unwrap();
    fs.chown(&alice(), d, None, Some(50)).unwrap();
    assert!(fs.lookup(&bob(), d, b"f").is_ok());
    assert_eq!(fs.lookup(&carol(), d, b"f"), Err(Error::AccessDenied));
    // The owner gets the owner bits even if the others' bits would allow more.
    fs.chmod(&alice(), d, 0o077).unwrap();
    assert_eq!(fs.lookup(&alice(), d, b"f"), Err(Error::AccessDenied));
    assert!(fs.lookup(&bob(), d, b"f").is_ok());
    // Search without read: lookup works.
    fs.chmod(&alice(), d, 0o711).unwrap();
    assert!(fs.lookup(&carol(), d, b"f").is_ok());
    assert_eq!(
        fs.access(&carol(), d, Access::READ),
        Err(Error::AccessDenied)
    );
}

#[test]
fn creating_and_removing_need_write_and_search() {
    let (mut fs, _) = fresh();
    let d = owned_dir(&mut fs, b"d", &alice(), 0o755);
    fs.create(&alice(), d, b"f", 0o666, true).unwrap();
    assert_eq!(
        fs.create(&bob(), d, b"g", 0o644, true),
        Err(Error::AccessDenied)
    );
    assert_eq!(fs.mkdir(&bob(), d, b"g", 0o755), Err(Error::AccessDenied));
    assert_eq!(fs.symlink(&bob(), d, b"g", b"t"), Err(Error::AccessDenied));
    assert_eq!(
        fs.mknod(&bob(), d, b"g", Special::Fifo, 0o644),
        Err(Error::AccessDenied)
    );
    assert_eq!(fs.unlink(&bob(), d, b"f"), Err(Error::AccessDenied));
    let f = fs.lookup(&bob(), d, b"f").unwrap();
    assert_eq!(fs.link(&bob(), f, d, b"g"), Err(Error::AccessDenied));
    // EEXIST is reported before EACCES, as on Linux.
    assert_eq!(fs.create(&bob(), d, b"f", 0o644, true), Err(Error::Exists));
    // An existing file may be "created" without write permission on the directory.
    assert_eq!(fs.create(&bob(), d, b"f", 0o644, false), Ok((f, false)));
    // Write without search is not enough.
    fs.chmod(&alice(), d, 0o766).unwrap();
    assert_eq!(
        fs.create(&bob(), d, b"g", 0o644, true),
        Err(Error::AccessDenied)
    );
    fs.chmod(&alice(), d, 0o777).unwrap();
    fs.create(&bob(), d, b"g", 0o644, true).unwrap();
    // Without the sticky bit anyone with write permission removes anyone's file.
    fs.unlink(&bob(), d, b"f").unwrap();
    fs.unlink(&carol(), d, b"g").unwrap();
    // The superuser needs no bits.
    fs.chmod(&alice(), d, 0).unwrap();
    fs.create(&root(), d, b"h", 0o644, true).unwrap();
    fs.unlink(&root(), d, b"h").unwrap();
}

#[test]
fn sticky_directories() {
    let (mut fs, _) = fresh();
    let tmp = owned_dir(&mut fs, b"tmp", &carol(), 0o1777);
    let (f, _) = fs.create(&alice(), tmp, b"alices", 0o666, true).unwrap();
    fs.mkdir(&alice(), tmp, b"alicedir", 0o777).unwrap();
    assert_eq!(fs.unlink(&bob(), tmp, b"alices"), Err(Error::NotPermitted));
    assert_eq!(fs.rmdir(&bob(), tmp, b"alicedir"), Err(Error::NotPermitted));
    assert_eq!(
        fs.rename(&bob(), tmp, b"alices", tmp, b"mine", Default::default()),
        Err(Error::NotPermitted)
    );
    // Bob may still write the file, since its mode allows.
    assert!(fs.access(&bob(), f, Access::WRITE).is_ok());
    // Nor may Bob replace Alice's file by renaming his own over it.
    fs.create(&bob(), tmp, b"bobs", 0o644, true).unwrap();
    assert_eq!(
        fs.rename(&bob(), tmp, b"bobs", tmp, b"alices", Default::default()),
        Err(Error::NotPermitted)
    );
    // The file's owner, the directory's owner and the superuser may.
    fs.rename(
        &alice(),
        tmp,
        b"alices",
        tmp,
        b"alices2",
        Default::default(),
    )
    .unwrap();
    fs.unlink(&carol(), tmp, b"alices2").unwrap();
    fs.rmdir(&root(), tmp, b"alicedir").unwrap();
    fs.unlink(&bob(), tmp, b"bobs").unwrap();
}

#[test]
fn setgid_directories_pass_their_group() {
    let (mut fs, _) = fresh();
    let shared = owned_dir(&mut fs, b"shared", &alice(), 0o2777);
    fs.chown(&alice(), shared, None, Some(50)).unwrap();
    fs.chmod(&alice(), shared, 0o2777).unwrap();
    // Carol is not in group 50 but her files get it.
    let (f, _) = fs.create(&carol(), shared, b"f", 0o644, true).unwrap();
    assert_eq!(
        (fs.stat(f).unwrap().uid, fs.stat(f).unwrap().gid),
        (1002, 50)
    );
    // Subdirectories get the group and the setgid bit.
    let sub = fs.mkdir(&carol(), shared, b"sub", 0o755).unwrap();
    let st = fs.stat(sub).unwrap();
    assert_eq!((st.gid, st.perm), (50, 0o2755));
    // A group-executable setgid file made by a non-member loses the setgid bit; a member
    // keeps it.
    let (g, _) = fs.create(&carol(), shared, b"g", 0o2755, true).unwrap();
    assert_eq!(fs.stat(g).unwrap().perm, 0o755);
    let (h, _) = fs.create(&bob(), shared, b"h", 0o2755, true).unwrap();
    assert_eq!(fs.stat(h).unwrap().perm, 0o2755);
    // Outside a setgid directory files get the creator's primary group.
    let (k, _) = fs.create(&bob(), Ino::ROOT, b"k", 0o644, true).unwrap();
    assert_eq!(fs.stat(k).unwrap().gid, 1001);
    let plain = fs.mkdir(&bob(), Ino::ROOT, b"plain", 0o755).unwrap();
    assert_eq!(fs.stat(plain).unwrap().perm & mode::S_ISGID, 0);
}

#[test]
fn chmod_by_owner_or_superuser() {
    let (mut fs, clock) = fresh();
    let (f, _) = fs.create(&alice(), Ino::ROOT, b"f", 0o644, true).unwrap();
    assert_eq!(fs.chmod(&bob(), f, 0o777), Err(Error::NotPermitted));
    clock.advance(1, 0);
    fs.chmod(&alice(), f, 0o4755).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!((st.perm, st.ctime), (0o4755, Timestamp::new(1001, 0)));
    fs.chmod(&root(), f, 0o600).unwrap();
    assert_eq!(fs.stat(f).unwrap().perm, 0o600);
    // Setting setgid on a file of a group the owner is not in: the bit is dropped.
    fs.chown(&root(), f, None, Some(7)).unwrap();
    fs.chmod(&alice(), f, 0o2755).unwrap();
    assert_eq!(fs.stat(f).unwrap().perm, 0o755);
    fs.chmod(&root(), f, 0o2755).unwrap();
    assert_eq!(fs.stat(f).unwrap().perm, 0o2755);
}

#[test]
fn chown_rules() {
    let (mut fs, _) = fresh();
    let (f, _) = fs.create(&alice(), Ino::ROOT, b"f", 0o644, true).unwrap();
    // Only the superuser gives a file away.
    assert_eq!(
        fs.chown(&alice(), f, Some(1001), None),
        Err(Error::NotPermitted)
    );
    assert_eq!(
        fs.chown(&bob(), f, Some(1001), None),
        Err(Error::NotPermitted)
    );
    // "Changing" the owner to itself is allowed to the owner.
    fs.chown(&alice(), f, Some(1000), None).unwrap();
    // The owner may change the group to one of its groups only.
    fs.chown(&alice(), f, None, Some(50)).unwrap();
    assert_eq!(fs.stat(f).unwrap().gid, 50);
    assert_eq!(
        fs.chown(&alice(), f, None, Some(1001)),
        Err(Error::NotPermitted)
    );
    // A group member who is not the owner may not.
    assert_eq!(
        fs.chown(&bob(), f, None, Some(1001)),
        Err(Error::NotPermitted)
    );
    fs.chown(&root(), f, Some(1001), Some(1001)).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!((st.uid, st.gid), (1001, 1001));
    // chown clears setuid, and setgid on a group-executable file, even for the superuser.
    fs.chmod(&root(), f, 0o6755).unwrap();
    fs.chown(&root(), f, None, None).unwrap();
    assert_eq!(fs.stat(f).unwrap().perm, 0o755);
    fs.chmod(&root(), f, 0o2745).unwrap();
    fs.chown(&root(), f, Some(3), None).unwrap();
    assert_eq!(fs.stat(f).unwrap().perm, 0o2745);
    // ...but not on a directory.
    let d = fs.mkdir(&root(), Ino::ROOT, b"d", 0o755).unwrap();
    fs.chmod(&root(), d, 0o6755).unwrap();
    fs.chown(&root(), d, Some(5), Some(5)).unwrap();
    assert_eq!(fs.stat(d).unwrap().perm, 0o6755);
}

#[test]
fn utimes_rules() {
    let (mut fs, clock) = fresh();
    let (f, _) = fs.create(&alice(), Ino::ROOT, b"f", 0o646, true).unwrap();
    let t = Timestamp::new(5, 123_456_789);
    clock.set(Timestamp::new(3000, 1));
    // Explicit times: owner or superuser.
    fs.utimes(&alice(), f, SetTime::At(t), SetTime::Omit)
        .unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!(
        (st.atime, st.mtime, st.ctime),
        (t, Timestamp::new(1000, 0), Timestamp::new(3000, 1))
    );
    assert_eq!(
        fs.utimes(&bob(), f, SetTime::Omit, SetTime::At(t)),
        Err(Error::NotPermitted)
    );
    fs.utimes(&root(), f, SetTime::Omit, SetTime::At(t))
        .unwrap();
    assert_eq!(fs.stat(f).unwrap().mtime, t);
    // "Now" for both: anyone who may write (Carol, through the other bits).
    clock.set(Timestamp::new(4000, 0));
    fs.utimes(&carol(), f, SetTime::Now, SetTime::Now).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!(
        (st.atime, st.mtime),
        (Timestamp::new(4000, 0), Timestamp::new(4000, 0))
    );
    // Bob is in no class that may write (group bits r--): EACCES.
    fs.chown(&root(), f, None, Some(50)).unwrap();
    assert_eq!(
        fs.utimes(&bob(), f, SetTime::Now, SetTime::Now),
        Err(Error::AccessDenied)
    );
    // "Now" beside "omit" needs ownership, as on Linux.
    assert_eq!(
        fs.utimes(&carol(), f, SetTime::Now, SetTime::Omit),
        Err(Error::NotPermitted)
    );
    // Both omitted: nothing, for anyone.
    clock.set(Timestamp::new(5000, 0));
    fs.utimes(&bob(), f, SetTime::Omit, SetTime::Omit).unwrap();
    assert_eq!(fs.stat(f).unwrap().ctime, Timestamp::new(4000, 0));
    // Nanoseconds of a second or more: EINVAL.
    let bad = SetTime::At(Timestamp {
        sec: 1,
        nsec: 1_000_000_000,
    });
    assert_eq!(
        fs.utimes(&alice(), f, bad, SetTime::Omit),
        Err(Error::Invalid)
    );
    assert_eq!(
        fs.utimes(&alice(), f, SetTime::Omit, bad),
        Err(Error::Invalid)
    );
}

#[test]
fn passive_translators_belong_to_the_owner() {
    let (mut fs, clock) = fresh();
    let (f, _) = fs.create(&alice(), Ino::ROOT, b"f", 0o666, true).unwrap();
    let cmd = b"/hurd/ext2fs\0file:disk.img\0";
    assert_eq!(fs.set_translator(&bob(), f, cmd), Err(Error::NotPermitted));
    clock.advance(1, 0);
    fs.set_translator(&alice(), f, cmd).unwrap();
    assert_eq!(fs.translator(f).unwrap(), cmd);
    let st = fs.stat(f).unwrap();
    assert!(st.translated);
    assert_eq!(st.ctime, Timestamp::new(1001, 0));
    assert_eq!(fs.used_bytes(), cmd.len() as u64 + 1);
    fs.set_translator(&root(), f, b"/hurd/null\0").unwrap();
    assert_eq!(fs.translator(f).unwrap(), b"/hurd/null\0");
    assert_eq!(
        fs.set_translator(&alice(), f, &vec![b'x'; TRANSLATOR_MAX + 1]),
        Err(Error::NameTooLong)
    );
    fs.set_translator(&alice(), f, b"").unwrap();
    assert_eq!(fs.translator(f).unwrap(), b"");
    assert!(!fs.stat(f).unwrap().translated);
    assert_eq!(fs.used_bytes(), 1);
    // Directories and other kinds carry them too.
    fs.set_translator(&root(), Ino::ROOT, b"/hurd/tmpfs\0")
        .unwrap();
    assert_eq!(fs.translator(Ino::ROOT).unwrap(), b"/hurd/tmpfs\0");
}

#[test]
fn access_for_opening() {
    let (mut fs, _) = fresh();
    let (f, _) = fs.create(&alice(), Ino::ROOT, b"f", 0o640, true).unwrap();
    fs.chown(&root(), f, None, Some(50)).unwrap();
    assert!(fs.access(&alice(), f, Access::READ | Access::WRITE).is_ok());
    assert!(fs.access(&bob(), f, Access::READ).is_ok());
    assert_eq!(
        fs.access(&bob(), f, Access::WRITE),
        Err(Error::AccessDenied)
    );
    assert_eq!(
        fs.access(&carol(), f, Access::READ),
        Err(Error::AccessDenied)
    );
    assert!(fs.access(&carol(), f, Access::NONE).is_ok());
    // The superuser reads and writes anything, but executes only what some x bit allows.
    assert!(fs.access(&root(), f, Access::READ | Access::WRITE).is_ok());
    assert_eq!(
        fs.access(&root(), f, Access::EXEC),
        Err(Error::AccessDenied)
    );
    fs.chmod(&root(), f, 0o601).unwrap();
    assert!(fs.access(&root(), f, Access::EXEC).is_ok());
    // An identity with several uids is the owner if any of them owns the node, and uid 0
    // among them makes it the superuser.
    let two = Identity {
        uids: vec![7, 1000],
        gids: vec![],
    };
    assert!(fs.access(&two, f, Access::READ).is_ok());
    let nobody = Identity::default();
    assert_eq!(
        fs.access(&nobody, f, Access::READ),
        Err(Error::AccessDenied)
    );
    assert!(Identity {
        uids: vec![5, 0],
        gids: vec![]
    }
    .is_superuser());
}

#[test]
fn identities_without_ids_create_as_the_directory() {
    let (mut fs, _) = fresh();
    let d = owned_dir(&mut fs, b"d", &alice(), 0o777);
    let nobody = Identity::default();
    let (f, _) = fs.create(&nobody, d, b"f", 0o4755, true).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!((st.uid, st.gid, st.perm), (1000, 1000, 0o755));
}

#[test]
fn writes_by_others_clear_setuid() {
    let (mut fs, _) = fresh();
    let (f, _) = fs.create(&alice(), Ino::ROOT, b"f", 0o6777, true).unwrap();
    fs.write(&root(), f, 0, b"x").unwrap();
    assert_eq!(fs.stat(f).unwrap().perm, 0o6777);
    fs.write(&alice(), f, 0, b"x").unwrap();
    assert_eq!(fs.stat(f).unwrap().perm, 0o777);
    fs.chmod(&root(), f, 0o6747).unwrap();
    fs.set_size(&bob(), f, 10).unwrap();
    // Not group-executable: setgid (mandatory-locking marker) stays.
    assert_eq!(fs.stat(f).unwrap().perm, 0o2747);
}
