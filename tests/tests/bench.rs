//! The benchmark script runs end to end on a tiny count and writes a well-formed report, so that
//! `make bench` cannot rot between the times someone runs it.

use std::fs;
use std::path::Path;
use std::process::Command;

use orbital_tests::{bin_dir, require_root, TempDir};

const TOOLS: [&str; 5] = ["orbital", "unshare + chroot", "bwrap", "crun", "runc"];

#[test]
fn bench_script_writes_a_complete_report_on_a_tiny_count() {
    require_root();
    let out = TempDir::new("bench");
    let report_path = out.path().join("BENCHMARKS.md");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/bench.py");
    let result = Command::new("python3")
        .arg(&script)
        .args([
            "--runs",
            "3",
            "--warmup",
            "1",
            "--throughput",
            "3",
            "--output",
        ])
        .arg(&report_path)
        .arg("--bin-dir")
        .arg(bin_dir())
        .output()
        .expect("run python3 (install it: apt-get install python3)");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "bench failed: {stderr}");
    let report = fs::read_to_string(&report_path).expect("no report written");
    assert_eq!(
        String::from_utf8_lossy(&result.stdout).trim(),
        report.trim(),
        "the table printed is not the one written"
    );

    let rows: Vec<Vec<&str>> = report
        .lines()
        .filter(|l| l.starts_with("| "))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    for tool in TOOLS {
        let row = rows
            .iter()
            .find(|r| r[0] == tool)
            .unwrap_or_else(|| panic!("no row for {tool}:\n{report}"));
        if row[1] == "skipped" {
            assert!(
                row.last().unwrap().len() > 10,
                "{tool} skipped without a reason:\n{report}"
            );
            continue;
        }
        assert_eq!(
            row.len(),
            9,
            "{tool} row has {} columns:\n{report}",
            row.len()
        );
        for (column, cell) in row[1..4].iter().enumerate() {
            let value: f64 = cell
                .parse()
                .unwrap_or_else(|_| panic!("{tool} column {column}: {cell}"));
            assert!(value > 0.0, "{tool}: {cell}");
        }
        assert!(
            row[7].parse::<u64>().unwrap() > 0,
            "{tool} installed bytes: {}",
            row[7]
        );
    }
    let orbital = rows.iter().find(|r| r[0] == "orbital").unwrap();
    assert_ne!(orbital[1], "skipped", "orbital itself must run:\n{report}");
    assert!(
        orbital[6].contains("orbital-init"),
        "peak RSS of the init: {}",
        orbital[6]
    );

    for case in [
        "plain",
        "--net none",
        "one bind mount (-v)",
        "--memory 64m",
        "100 variables",
    ] {
        assert!(
            rows.iter().any(|r| r[0] == case),
            "no scaling row {case}:\n{report}"
        );
    }
    assert!(report.contains("## Targets"), "{report}");
    for target in [
        "orbital-init <= 32 KiB",
        "orbital <= 256 KiB",
        "ratio <= 1.0",
    ] {
        assert!(report.contains(target), "no target {target}:\n{report}");
    }
}
