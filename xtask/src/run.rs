//! `cargo xtask run`: make sure the machine can build, then start the Parlor desktop app (its "Host a room" button
//! runs the bundled server), or with `--server` the LAN server alone.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{cmd, setup};

/// What `cargo xtask run` was asked to do.
pub struct Options {
    /// Whether to install what building needs first (off with `--no-install`).
    pub install: bool,
    /// Run the server alone instead of the app (`--server`).
    pub server_only: bool,
    /// Arguments for the program, given after `--`.
    pub args: Vec<String>,
}

/// Installs what building needs (unless told not to), then runs the app or the server until it exits.
pub fn run(root: &Path, options: &Options) -> Result<()> {
    if options.install {
        crate::header("Checking what building needs");
        setup::ensure_packages(setup::BUILD_PACKAGES)?;
    }
    if options.server_only {
        crate::header("Running parlor-server (Ctrl-C stops it)");
        let mut command = Command::new("cargo");
        command.current_dir(root).args(["run", "--release", "-p", "parlor-server", "--"]).args(&options.args);
        return cmd::run(&mut command).context("parlor-server did not run to a clean exit");
    }
    crate::header("Running the Parlor app (the first build takes a few minutes)");
    let mut command = Command::new("cargo");
    command
        .current_dir(root)
        .args(["run", "--release", "-p", "parlor-desktop", "--bin", "parlor", "--"])
        .args(&options.args);
    cmd::run(&mut command).context("the Parlor app did not run to a clean exit (it needs a display)")
}
