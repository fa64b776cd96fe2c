//! `herd bench fs --quick --json` as a smoke test: it runs to the end, prints one JSON
//! object with every figure beside its /dev/shm baseline and the ratio, and leaves no
//! scratch directory or translator process behind. Not a timed test: it checks structure, not speed.

use std::process::{Command, Stdio};

/// Every figure the benchmark must report.
const FIGURES: [&str; 8] = [
    "lookup_10c_3t_per_s",
    "lookup_10c_0t_per_s",
    "create_per_s",
    "stat_per_s",
    "unlink_per_s",
    "create_stat_unlink_files_per_s",
    "write_1mib_mib_per_s",
    "read_1mib_mib_per_s",
];

#[test]
fn quick_json_has_every_figure_with_a_baseline_and_a_ratio() {
    let child = Command::new(env!("CARGO_BIN_EXE_herd"))
        .args(["bench", "fs", "--quick", "--json"])
        .env("HERD_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run herd bench fs");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait for herd bench fs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "herd bench fs failed: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v["bench"], "fs");
    let figures = v["figures"].as_object().expect("figures");
    assert_eq!(figures.len(), FIGURES.len(), "{figures:?}");
    for key in FIGURES {
        let f = &figures[key];
        let value = f["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: value"));
        let base = f["baseline_value"]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: baseline_value"));
        let ratio = f["ratio"]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: ratio"));
        assert!(value > 0.0 && base > 0.0, "{key}: {f}");
        assert!(
            (ratio - value / base).abs() <= 1e-9 * ratio.abs().max(1.0),
            "{key}: {f}"
        );
        assert_eq!(f["baseline"], "dev_shm", "{key}");
        assert_eq!(f["better"], "higher", "{key}");
    }
    assert!(v["lookup_3t_ratio_dev_shm"].as_f64().is_some());
    // Nothing left behind: the /dev/shm tree and the node's directory are gone.
    let name = format!("herd-bench-fs-{pid}");
    for dir in [std::path::Path::new("/dev/shm"), &std::env::temp_dir()] {
        assert!(
            !dir.join(&name).exists(),
            "{} left behind",
            dir.join(&name).display()
        );
    }
    // And no translator of that node still runs (their environment names its socket).
    assert_eq!(
        processes_naming(&name),
        Vec::<u32>::new(),
        "translators left running"
    );
}

/// The pids of processes whose environment mentions `word`.
fn processes_naming(word: &str) -> Vec<u32> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(word.len()).any(|w| w == word.as_bytes()))
        })
        .collect()
}
