//! Generates one module per `idl/*.defs` file with herd-idl, into `OUT_DIR`:
//! `interfaces.rs` (the modules) and `interface_list.rs` (the reflection list).
//!
//! A file that does not parse, two subsystems with the same name, or message ids that
//! collide across subsystems stop the build with the file and position named.

use std::path::{Path, PathBuf};

/// Names a subsystem may not take: the crate's own modules, and crates its code names.
const TAKEN: &[&str] = &[
    "reflect", "support", "types", "tests", "std", "core", "alloc",
];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let idl = manifest.join("../../idl");
    let idl = idl.canonicalize().unwrap_or(idl);
    println!("cargo:rerun-if-changed={}", idl.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&idl)
        .unwrap_or_else(|e| {
            fail(&format!(
                "{}: cannot read the idl folder: {e}",
                idl.display()
            ))
        })
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "defs"))
        .collect();
    files.sort();

    let mut modules = String::new();
    let mut list = Vec::new();
    let mut used: Vec<(u32, String)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let src = std::fs::read_to_string(path)
            .unwrap_or_else(|e| fail(&format!("{}: cannot read: {e}", path.display())));
        let iface =
            herd_idl::parse(&src).unwrap_or_else(|e| fail(&format!("{}:{e}", path.display())));
        if TAKEN.contains(&iface.name.as_str()) || names.contains(&iface.name) {
            fail(&format!(
                "{}: subsystem name `{}` is already taken",
                path.display(),
                iface.name
            ));
        }
        names.push(iface.name.clone());
        for r in &iface.routines {
            let mut ids = vec![(r.id, format!("{}.{}", iface.name, r.name))];
            if r.has_reply() {
                ids.push((
                    r.reply_id(),
                    format!("the reply of {}.{}", iface.name, r.name),
                ));
            }
            for (id, what) in ids {
                if let Some((_, other)) = used.iter().find(|(u, _)| *u == id) {
                    fail(&format!(
                        "{}: message id {id} of {what} is also {other}",
                        path.display()
                    ));
                }
                used.push((id, what));
            }
        }
        modules.push_str(&herd_idl::generate(&iface));
        modules.push('\n');
        list.push(format!("&crate::{}::INTERFACE", iface.name));
    }

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    write(&out.join("interfaces.rs"), &modules);
    write(
        &out.join("interface_list.rs"),
        &format!("&[{}]\n", list.join(", ")),
    );
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text)
        .unwrap_or_else(|e| fail(&format!("{}: cannot write: {e}", path.display())));
}

/// Stops the build with `message` (cargo shows a build script's panic message).
fn fail(message: &str) -> ! {
    panic!("{message}");
}
