//! `cargo xtask run`: make sure the machine can build, then start Parlor.
//!
//! Today Parlor is the server alone, run in the foreground with the user's arguments. When the desktop app lands,
//! [`run`] starts the server in the background and launches the app beside it; its packages join
//! [`setup::BUILD_PACKAGES`].

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{cmd, setup};

/// What `cargo xtask run` was asked to do.
pub struct Options {
    /// Whether to install what building needs first (off with `--no-install`).
    pub install: bool,
    /// Arguments for the server, given after `--`.
    pub server_args: Vec<String>,
}

/// Installs what building needs (unless told not to), then runs Parlor until it exits.
pub fn run(root: &Path, options: &Options) -> Result<()> {
    if options.install {
        crate::header("Checking what building needs");
        setup::ensure_packages(setup::BUILD_PACKAGES)?;
    }
    server(root, &options.server_args)
}

/// Builds and runs `parlor-server` in release mode, in the foreground; with no arguments it serves
/// ws://127.0.0.1:7878/ws.
fn server(root: &Path, args: &[String]) -> Result<()> {
    crate::header("Running parlor-server (Ctrl-C stops it)");
    let mut command = Command::new("cargo");
    command.current_dir(root).args(["run", "--release", "-p", "parlor-server", "--"]).args(args);
    cmd::run(&mut command).context("parlor-server did not run to a clean exit")
}
