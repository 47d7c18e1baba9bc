//! A smoke run of the real binary: the quick classroom against the reference server alone (it needs no release
//! build of parlor-server), checking the JSON lines it prints.

use std::process::Command;

#[test]
fn quick_classroom_against_the_reference() {
    let output = Command::new(env!("CARGO_BIN_EXE_parlor-bench"))
        .args(["run", "--scenario", "classroom", "--quick", "--targets", "reference", "--no-pin", "--window", "0.5"])
        .output()
        .expect("parlor-bench runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "parlor-bench failed:\n{stderr}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let lines: Vec<serde_json::Value> =
        stdout.lines().map(|line| serde_json::from_str(line).expect("every stdout line is JSON")).collect();
    let kinds: Vec<&str> = lines.iter().filter_map(|line| line["type"].as_str()).collect();
    assert_eq!(kinds, ["machine", "classroom", "summary"], "{stdout}");
    let reference = &lines[1]["data"]["reference"];
    assert_eq!(reference["clients"], 40);
    assert_eq!(reference["lost"], 0, "{reference}");
    assert_eq!(reference["duplicated"], 0, "{reference}");
    assert!(reference["deliveries_per_s"].as_f64().is_some_and(|d| d > 0.0), "{reference}");
    assert!(reference["latency"]["samples"].as_u64().is_some_and(|n| n > 0), "{reference}");
    assert!(lines[1]["data"]["parlor"].is_null());
    assert!(stderr.contains("Broadcast"), "the table is printed on stderr:\n{stderr}");
}
