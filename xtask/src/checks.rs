//! `cargo xtask test`: install what is missing, then run every check and test in order, stopping at the first
//! failure with a message that says which step failed and what to do about it. The run ends with one line counting
//! every test of every step (`tests: N passed, M failed`).

use std::env;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::tally::Tally;
use crate::{cmd, setup, tally};

/// The variable that tells the tests which Python (with `websockets`) to drive the server with.
const PYTHON_VAR: &str = "PARLOR_PYTHON";

/// What the steps need from the set-up.
struct Tools {
    python: Option<OsString>,
    tauri_driver: PathBuf,
}

/// One step: a command, whether it reports test results, and what to do when it fails.
struct Step {
    title: &'static str,
    command: Command,
    counts_tests: bool,
    hint: &'static str,
}

fn cargo(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("cargo");
    command.current_dir(root).args(args);
    command
}

/// Where cargo puts binaries: `CARGO_TARGET_DIR` if set, else `target/` in the workspace.
pub fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()).map_or_else(|| root.join("target"), PathBuf::from)
}

/// `bash e2e/session.sh PYTHON SCRIPT --app … --server … --driver …`: a script of `e2e/` run against the app and
/// server in `bin_dir`, inside a virtual display with D-Bus, a keyring and a notification daemon.
pub fn desktop_session(root: &Path, python: &OsStr, script: &str, bin_dir: &Path, driver: &Path) -> Command {
    let mut command = Command::new("bash");
    command.current_dir(root).arg("e2e/session.sh").arg(python).arg(script);
    command.arg("--app").arg(bin_dir.join("parlor"));
    command.arg("--server").arg(bin_dir.join("parlor-server"));
    command.arg("--driver").arg(driver);
    command
}

/// `node --test` over the UI's pure modules (no browser, no dependencies).
fn node_tests(root: &Path) -> Command {
    let mut command = Command::new("node");
    command.current_dir(root).arg("--test");
    let tests = std::fs::read_dir(root.join("ui").join("test")).into_iter().flatten().flatten();
    let mut files: Vec<PathBuf> =
        tests.map(|entry| entry.path()).filter(|p| p.to_string_lossy().ends_with(".test.mjs")).collect();
    files.sort();
    command.args(files);
    command
}

/// `node --test` over the browser tests: the web client served by the debug server binary, in headless Chromium;
/// the Python examples that feed its live chart run with `python`.
fn browser_tests(root: &Path, python: &OsStr) -> Command {
    let dir = root.join(setup::BROWSER_TESTS_DIR);
    let mut command = Command::new("node");
    command.current_dir(&dir).arg("--test");
    let tests = std::fs::read_dir(&dir).into_iter().flatten().flatten();
    let mut files: Vec<PathBuf> =
        tests.map(|entry| entry.path()).filter(|p| p.to_string_lossy().ends_with(".test.mjs")).collect();
    files.sort();
    command.args(files);
    command.env("PARLOR_SERVER", target_dir(root).join("debug").join("parlor-server"));
    command.env("PARLOR_CHROMIUM", setup::CHROMIUM);
    command.env("PARLOR_ARTIFACTS", root.join("artifacts").join("browser"));
    command.env(PYTHON_VAR, python);
    command
}

fn steps(root: &Path, tools: &Tools) -> Vec<Step> {
    let mut tests = cargo(root, &["test", "--workspace"]);
    let python: OsString = tools.python.clone().unwrap_or_else(|| "python3".into());
    let mut e2e = desktop_session(root, &python, "e2e/run.py", &target_dir(root).join("debug"), &tools.tauri_driver);
    e2e.arg("--artifacts").arg(root.join("artifacts").join("e2e"));
    if let Some(python) = &tools.python {
        tests.env(PYTHON_VAR, python);
    }
    vec![
        Step {
            title: "Formatting",
            command: cargo(root, &["fmt", "--all", "--", "--check"]),
            counts_tests: false,
            hint: "run `cargo fmt --all` to fix the formatting",
        },
        Step {
            title: "Lints",
            command: cargo(root, &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
            counts_tests: false,
            hint: "fix the clippy findings above (warnings count as errors)",
        },
        Step { title: "Tests", command: tests, counts_tests: true, hint: "see the failing tests above" },
        Step {
            title: "UI unit tests (node --test)",
            command: node_tests(root),
            counts_tests: true,
            hint: "see the failing UI tests above",
        },
        Step {
            title: "Build the app and server for the end-to-end tests",
            command: cargo(root, &["build", "-p", "parlor-desktop", "--bin", "parlor", "-p", "parlor-server"]),
            counts_tests: false,
            hint: "see the build errors above",
        },
        Step {
            title: "End-to-end: the web client in Chromium (playwright-core)",
            command: browser_tests(root, &python),
            counts_tests: true,
            hint: "see the failing browser tests above; screenshots are in artifacts/browser (with --no-install, \
                   run once without it so `npm ci` installs playwright-core in e2e/browser)",
        },
        Step {
            title: "End-to-end: the desktop app under Xvfb (WebDriver, dunst, GNOME Keyring)",
            command: e2e,
            counts_tests: true,
            hint: "see the failing end-to-end tests above; logs and screenshots are in artifacts/e2e",
        },
    ]
}

/// Runs the installs (when `install`) and then every step.
pub fn test(root: &Path, install: bool) -> Result<()> {
    let tools = if install { prepare(root)? } else { skip_prepare() };
    let mut steps = steps(root, &tools);
    let total = steps.len();
    let mut tests = Tally::default();
    for (index, step) in steps.iter_mut().enumerate() {
        let number = index + 1;
        crate::header(&format!("[{number}/{total}] {}", step.title));
        let outcome = if step.counts_tests {
            tally::run_counting(&mut step.command).map(|counted| tests.add(counted))
        } else {
            cmd::run(&mut step.command)
        };
        outcome.with_context(|| format!("step {number}/{total} ({}) failed; {}", step.title, step.hint))?;
    }
    crate::header("All checks and tests passed");
    println!("{}", tests.summary());
    Ok(())
}

/// Installs what is missing and finds the tools the steps use.
fn prepare(root: &Path) -> Result<Tools> {
    crate::header("Checking what building and testing need");
    setup::ensure_packages(&[setup::BUILD_PACKAGES, setup::TEST_PACKAGES].concat())?;
    setup::ensure_rust_components()?;
    setup::ensure_node()?;
    setup::ensure_browser_tests(root)?;
    let tauri_driver = setup::ensure_tauri_driver()?;
    let python = match preset_python() {
        Some(python) => python,
        None => {
            let python = setup::ensure_python_venv()?;
            println!("{PYTHON_VAR}={}", python.display());
            python.into_os_string()
        }
    };
    Ok(Tools { python: Some(python), tauri_driver })
}

/// Finds the tools without installing anything.
fn skip_prepare() -> Tools {
    println!("Skipping installs (--no-install).");
    let python = preset_python().or_else(|| match setup::existing_python_venv() {
        Some(python) => {
            println!("{PYTHON_VAR}={}", python.display());
            Some(python.into_os_string())
        }
        None => {
            println!("note: no Python with websockets found; the tests that drive the server from Python need one.");
            println!("      Run `cargo xtask test` once without --no-install, or set {PYTHON_VAR}.");
            None
        }
    });
    Tools { python, tauri_driver: PathBuf::from(setup::TAURI_DRIVER.0) }
}

/// A `PARLOR_PYTHON` the user set already wins over the managed virtual environment.
fn preset_python() -> Option<OsString> {
    let python = env::var_os(PYTHON_VAR).filter(|p| !p.is_empty())?;
    println!("Using {PYTHON_VAR}={} from the environment.", python.to_string_lossy());
    Some(python)
}
