//! Parlor's project automation, run as `cargo xtask <command>` (the alias lives in `.cargo/config.toml`).
//!
//! - `run`: make sure the machine can build, then run Parlor (today the server) — see [`run`].
//! - `test`: install what is missing, then formatting, lints and tests, stopping at the first failure — see
//!   [`checks`].
//! - `help`: usage.
//!
//! Installs live in [`setup`]; [`cmd`] runs external programs with an echo and a clear error. This file only parses
//! arguments and dispatches.

mod bench;
mod checks;
mod cmd;
mod run;
mod setup;
mod tally;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nxtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    match command.as_deref() {
        Some("run") => {
            let (flags, program_args) = split_at_dashes(&rest);
            let server_only = flags.iter().any(|f| f == "--server");
            let flags: Vec<String> = flags.iter().filter(|f| *f != "--server").cloned().collect();
            let install = parse_flags("run", &flags)?;
            let options = run::Options { install, server_only, args: program_args.to_vec() };
            run::run(&workspace_root()?, &options)
        }
        Some("test") => {
            let install = parse_flags("test", &rest)?;
            checks::test(&workspace_root()?, install)
        }
        Some("bench") => {
            let quick = rest.iter().any(|a| a == "--quick");
            let flags: Vec<String> = rest.iter().filter(|a| *a != "--quick").cloned().collect();
            let install = parse_flags("bench", &flags)?;
            bench::bench(&workspace_root()?, install, quick)
        }
        Some("help" | "-h" | "--help") => {
            print!("{}", usage());
            Ok(())
        }
        None => {
            eprint!("{}", usage());
            bail!("no command given")
        }
        Some(other) => bail!("unknown command `{other}`; see `cargo xtask help`"),
    }
}

/// Splits `[flags..] -- [args..]` into the xtask's own flags and the arguments passed through.
fn split_at_dashes(args: &[String]) -> (&[String], &[String]) {
    match args.iter().position(|a| a == "--") {
        Some(at) => (&args[..at], &args[at + 1..]),
        None => (args, &[]),
    }
}

/// Parses the flags a command accepts (only `--no-install`); returns whether to install.
fn parse_flags(command: &str, flags: &[String]) -> Result<bool> {
    let mut install = true;
    for flag in flags {
        match flag.as_str() {
            "--no-install" => install = false,
            other if command == "run" => bail!(
                "unknown option `{other}` for run; pass server arguments after `--`, e.g. `cargo xtask run -- --help`"
            ),
            other => bail!("unknown option `{other}` for {command}; see `cargo xtask help`"),
        }
    }
    Ok(install)
}

/// The workspace root (the parent of this crate's directory), where every cargo command runs.
fn workspace_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("the xtask crate has no parent directory, so the workspace root is unknown")
}

/// Prints a step header, `==> title`.
pub fn header(title: &str) {
    println!("\n==> {title}");
}

fn usage() -> String {
    format!(
        "\
Parlor project automation.

Usage: cargo xtask <command> [--no-install] [-- <program args>]

Commands:
  run [-- ARGS]   Install what building needs if missing, then run the Parlor desktop app
                  (`cargo run --release -p parlor-desktop`); its “Host a room” button runs the
                  bundled server. With --server: the server alone (default ws://127.0.0.1:7878/ws).
  test            Install what is missing, then run, stopping at the first failure:
                    1. cargo fmt --all -- --check
                    2. cargo clippy --workspace --all-targets -- -D warnings
                    3. cargo test --workspace   (with PARLOR_PYTHON set, see below)
                    4. node --test ui/test/*.test.mjs   (the UI's pure modules)
                    5. cargo build of the app and server
                    6. end-to-end tests of the web client the server serves: node --test e2e/browser/*.test.mjs
                       (playwright-core driving headless /usr/bin/chromium; screenshots in artifacts/browser/)
                    7. end-to-end tests of the app window: bash e2e/session.sh … e2e/run.py
                       (Xvfb, D-Bus, GNOME Keyring, dunst, tauri-driver + WebKitWebDriver)
  bench [--quick] Build release binaries and run the benchmarks (server: parlor-bench; app:
                  e2e/bench_app.py under Xvfb); results in artifacts/bench/. Needs an idle machine.
  help            Print this help.

Options:
  --no-install    Skip every install, for a machine that is already set up.
  --server        (run) Run the LAN server alone instead of the app.

What gets installed (only what is missing):
  run, test  apt packages (Debian/Ubuntu; via sudo when not root): {build}
  test       apt packages: {test}
             rustup components: {components}
             tauri-driver (cargo install tauri-driver --version ^2 --locked)
             node, if missing (apt: nodejs); chromium and npm, if missing (apt)
             playwright-core in e2e/browser (npm ci, cache in ~/.cache/parlor/npm)
             a Python venv at ~/.cache/parlor/venv with: {python}
             (passed to the tests as PARLOR_PYTHON; a PARLOR_PYTHON already set is used instead)
  Without apt-get, the needed packages are listed and the command carries on.
",
        build = setup::BUILD_PACKAGES.join(" "),
        test = setup::TEST_PACKAGES.join(" "),
        components = setup::RUST_COMPONENTS.join(" "),
        python = setup::PYTHON_PACKAGES.join(" "),
    )
}
