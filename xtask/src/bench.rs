//! `cargo xtask bench`: build release binaries, run the server benchmark (`parlor-bench`) and the app benchmark
//! (`e2e/bench_app.py` under a virtual display), and keep their output in `artifacts/bench/`: JSON lines for
//! machines and a readable `report.txt` for people. Run it on an otherwise idle machine.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::{cmd, setup};

/// Builds, runs both benchmarks, and writes `artifacts/bench/{server.jsonl,app.jsonl,report.txt}`.
pub fn bench(root: &Path, install: bool, quick: bool) -> Result<()> {
    if install {
        crate::header("Checking what benchmarking needs");
        setup::ensure_packages(&[setup::BUILD_PACKAGES, setup::TEST_PACKAGES].concat())?;
    }
    let tauri_driver = if install { setup::ensure_tauri_driver()? } else { setup::TAURI_DRIVER.0.into() };
    let python = if install { setup::ensure_python_venv()? } else { "python3".into() };
    let out = root.join("artifacts").join("bench");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let release = crate::checks::target_dir(root).join("release");

    crate::header("Building release binaries (server, benchmark, app)");
    cmd::run(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "-p",
        "parlor-server",
        "-p",
        "parlor-bench",
        "-p",
        "parlor-desktop",
    ]))?;

    crate::header("Server benchmark: parlor-bench (server on CPU 0, load generator on CPU 1)");
    let report = out.join("report.txt");
    let mut server = Command::new(release.join("parlor-bench"));
    server.current_dir(root).arg("run").arg("--server").arg(release.join("parlor-server"));
    server.arg("--out").arg(out.join("server.jsonl"));
    if quick {
        server.arg("--quick");
    }
    // The readable tables go to stderr: keep them in the report as well as on screen.
    let tables = File::create(&report).with_context(|| format!("cannot write {}", report.display()))?;
    server.stdout(Stdio::null()).stderr(tables);
    cmd::run(&mut server).context("the server benchmark failed")?;
    print!("{}", std::fs::read_to_string(&report).unwrap_or_default());

    crate::header("App benchmark: launch, memory, idle CPU, a 10k-message room (under Xvfb)");
    let mut app = crate::checks::desktop_session(root, python.as_os_str(), "e2e/bench_app.py", &release, &tauri_driver);
    app.arg("--out").arg(out.join("app.jsonl"));
    cmd::run(&mut app).context("the app benchmark failed")?;
    println!("\nResults: {}", out.display());
    Ok(())
}
