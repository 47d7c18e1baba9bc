//! `cargo xtask test`: install what is missing, then run every check and test in order, stopping at the first
//! failure with a message that says which step failed and what to do about it.

use std::env;
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{cmd, setup, tally};

/// One check: a cargo invocation, and what to do when it fails.
struct Step {
    /// The header printed before it.
    title: &'static str,
    /// Arguments to `cargo`.
    args: &'static [&'static str],
    /// Advice shown when it fails.
    hint: &'static str,
}

/// The checks, cheapest first.
const STEPS: &[Step] = &[
    Step {
        title: "Formatting",
        args: &["fmt", "--all", "--", "--check"],
        hint: "run `cargo fmt --all` to fix the formatting",
    },
    Step {
        title: "Lints",
        args: &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        hint: "fix the clippy findings above (warnings count as errors)",
    },
    Step { title: "Tests", args: &["test", "--workspace"], hint: "see the failing tests above" },
];

/// The variable that tells the tests which Python (with `websockets`) to drive the server with.
const PYTHON_VAR: &str = "PARLOR_PYTHON";

/// Runs the installs (when `install`) and then every step in [`STEPS`].
pub fn test(root: &Path, install: bool) -> Result<()> {
    let python = if install { prepare()? } else { skip_prepare() };
    let total = STEPS.len();
    for (index, step) in STEPS.iter().enumerate() {
        let number = index + 1;
        crate::header(&format!("[{number}/{total}] {}", step.title));
        let mut command = Command::new("cargo");
        command.current_dir(root).args(step.args);
        let is_test = step.args.first() == Some(&"test");
        if let (Some(python), true) = (&python, is_test) {
            command.env(PYTHON_VAR, python);
        }
        let outcome = if is_test { tally::run_counting(&mut command).map(drop) } else { cmd::run(&mut command) };
        outcome.with_context(|| format!("step {number}/{total} ({}) failed; {}", step.title, step.hint))?;
    }
    crate::header("All checks and tests passed");
    Ok(())
}

/// Installs what is missing and returns the Python for the tests.
fn prepare() -> Result<Option<OsString>> {
    crate::header("Checking what building and testing need");
    setup::ensure_packages(&[setup::BUILD_PACKAGES, setup::TEST_PACKAGES].concat())?;
    setup::ensure_rust_components()?;
    if let Some(python) = preset_python() {
        return Ok(Some(python));
    }
    let python = setup::ensure_python_venv()?;
    println!("{PYTHON_VAR}={}", python.display());
    Ok(Some(python.into_os_string()))
}

/// Finds the tests' Python without installing anything.
fn skip_prepare() -> Option<OsString> {
    println!("Skipping installs (--no-install).");
    if let Some(python) = preset_python() {
        return Some(python);
    }
    match setup::existing_python_venv() {
        Some(python) => {
            println!("{PYTHON_VAR}={}", python.display());
            Some(python.into_os_string())
        }
        None => {
            println!("note: no Python with websockets found; the tests that drive the server from Python need one.");
            println!("      Run `cargo xtask test` once without --no-install, or set {PYTHON_VAR}.");
            None
        }
    }
}

/// A `PARLOR_PYTHON` the user set already wins over the managed virtual environment.
fn preset_python() -> Option<OsString> {
    let python = env::var_os(PYTHON_VAR).filter(|p| !p.is_empty())?;
    println!("Using {PYTHON_VAR}={} from the environment.", python.to_string_lossy());
    Some(python)
}
