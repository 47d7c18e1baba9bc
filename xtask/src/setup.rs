//! Making a machine ready: system packages through apt (Debian/Ubuntu), the rustfmt and clippy components, a
//! Python virtual environment with `websockets` for the tests that drive the server from Python, and Chromium with
//! `playwright-core` (npm) for the web client's tests.
//!
//! Everything here only acts when something is missing, says what it will install before installing it, and on a
//! system without apt prints what is needed and carries on.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context, Result};

use crate::cmd;

/// Debian/Ubuntu packages needed to build and run Parlor: the C toolchain (SQLite is compiled in), WebKitGTK for the
/// app's window, libdbus for the Secret Service keyring and notifications, the tray icon library, and Python.
pub const BUILD_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libwebkit2gtk-4.1-dev",
    "libdbus-1-dev",
    "libayatana-appindicator3-dev",
    "python3",
    "python3-venv",
];

/// Debian/Ubuntu packages the end-to-end tests need on top of [`BUILD_PACKAGES`]: a virtual display, a D-Bus session,
/// a real Secret Service (GNOME Keyring) and notification daemon (dunst), WebKit's WebDriver, and ImageMagick for
/// screenshots of the display.
pub const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "dbus-x11",
    "imagemagick",
    "webkit2gtk-driver",
    "dunst",
    "xdg-utils",
    "gnome-keyring",
    "libsecret-tools",
    "keyutils",
];

/// The browser the web client's tests drive (Debian's Chromium, never a downloaded one).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Where the browser tests live: a Node project whose only dependency is `playwright-core`.
pub const BROWSER_TESTS_DIR: &str = "e2e/browser";

/// The WebDriver bridge between WebDriver clients and the app (`cargo install`ed when missing).
pub const TAURI_DRIVER: (&str, &str) = ("tauri-driver", "^2");

/// Rust toolchain components the checks use.
pub const RUST_COMPONENTS: &[&str] = &["rustfmt", "clippy"];

/// Python packages the tests need in the virtual environment.
pub const PYTHON_PACKAGES: &[&str] = &["websockets"];

/// The module the tests import, used to tell whether [`PYTHON_PACKAGES`] are installed.
const PYTHON_PROBE: &str = "import websockets";

/// Set once `apt-get update` has run, so one xtask run refreshes the package lists at most once.
static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// Installs whichever of `packages` are missing with `apt-get` (via `sudo` when not root). Without apt, prints the
/// list for the user to install by other means and returns successfully.
pub fn ensure_packages(packages: &[&str]) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    if !cmd::exists("apt-get") || !cmd::exists("dpkg-query") {
        println!(
            "No apt-get here (not Debian/Ubuntu): make sure the equivalents of these are installed: {}",
            packages.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !is_installed(p)).collect();
    if missing.is_empty() {
        println!("System packages present: {}", packages.join(" "));
        return Ok(());
    }
    println!("Installing missing system packages: {}", missing.join(" "));
    let sudo = !is_root()?;
    if sudo && !cmd::exists("sudo") {
        bail!("not root and `sudo` is missing: install these as root, then retry: {}", missing.join(" "));
    }
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        cmd::run(&mut apt(sudo, &["update"])).context("could not update the apt package lists")?;
    }
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend(&missing);
    cmd::run(&mut apt(sudo, &install)).with_context(|| format!("could not install {}", missing.join(" ")))?;
    Ok(())
}

/// Adds the rustfmt and clippy components with rustup when `cargo fmt` or `cargo clippy` does not work.
pub fn ensure_rust_components() -> Result<()> {
    let works = |sub: &str| cmd::probe(Command::new("cargo").args([sub, "--version"]));
    if works("fmt") && works("clippy") {
        return Ok(());
    }
    println!("Installing Rust components: {}", RUST_COMPONENTS.join(" "));
    cmd::run(Command::new("rustup").args(["component", "add"]).args(RUST_COMPONENTS))
        .context("could not add the Rust components (is the toolchain managed by rustup? see https://rustup.rs)")
}

/// Makes sure `node` (for the UI's unit tests) runs, installing Debian's `nodejs` when it does not.
pub fn ensure_node() -> Result<()> {
    if cmd::probe(Command::new("node").arg("--version")) {
        return Ok(());
    }
    ensure_packages(&["nodejs"])
}

/// Makes sure the web client's tests can run: Debian's `chromium`, `node` and `npm` (each installed with apt only
/// when missing, so a Node.js from elsewhere that brings its own npm is left alone), then `npm ci` in
/// [`BROWSER_TESTS_DIR`] with npm's cache under `~/.cache/parlor/npm`, so a second run installs from the cache.
pub fn ensure_browser_tests(root: &Path) -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        ensure_packages(&["chromium"])?;
    }
    ensure_node()?;
    if !cmd::probe(Command::new("npm").arg("--version")) {
        ensure_packages(&["npm"])?;
    }
    let dir = root.join(BROWSER_TESTS_DIR);
    let cache = cache_dir()?.join("npm");
    println!("Installing the browser tests' Node packages (npm ci in {BROWSER_TESTS_DIR}, cache {})", cache.display());
    cmd::run(
        Command::new("npm")
            .current_dir(&dir)
            .args(["ci", "--prefer-offline", "--no-audit", "--no-fund", "--cache"])
            .arg(&cache),
    )
    .context("could not install playwright-core for the browser tests (npm ci)")
}

/// Installs tauri-driver with cargo when it is not on PATH; returns the program to run.
pub fn ensure_tauri_driver() -> Result<PathBuf> {
    let (name, version) = TAURI_DRIVER;
    if cmd::probe(Command::new(name).arg("--help")) {
        return Ok(PathBuf::from(name));
    }
    let installed = cargo_home()?.join("bin").join(name);
    if cmd::probe(Command::new(&installed).arg("--help")) {
        return Ok(installed);
    }
    println!("Installing {name} {version} with cargo (about a minute)");
    cmd::run(Command::new("cargo").args(["install", name, "--version", version, "--locked"]))
        .with_context(|| format!("could not install {name}"))?;
    Ok(installed)
}

fn cargo_home() -> Result<PathBuf> {
    if let Some(home) = env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    let home = env::var_os("HOME").filter(|h| !h.is_empty()).context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".cargo"))
}

/// Makes sure the virtual environment at [`venv_dir`] exists and has [`PYTHON_PACKAGES`]; returns its Python.
pub fn ensure_python_venv() -> Result<PathBuf> {
    let venv = venv_dir()?;
    let python = venv_python(&venv);
    if !cmd::probe(Command::new(&python).arg("--version")) {
        println!("Creating a Python virtual environment at {}", venv.display());
        let dir = venv.to_str().context("the virtual environment path is not UTF-8")?;
        cmd::run(Command::new("python3").args(["-m", "venv", "--clear", dir]))
            .context("could not create the Python virtual environment (on Debian/Ubuntu it needs python3-venv)")?;
    }
    if !python_ready(&python) {
        println!("Installing Python packages into {}: {}", venv.display(), PYTHON_PACKAGES.join(" "));
        cmd::run(Command::new(&python).args(["-m", "pip", "install", "--quiet"]).args(PYTHON_PACKAGES))
            .context("could not install the Python packages")?;
        if !python_ready(&python) {
            bail!("`{PYTHON_PROBE}` still fails in {} after installing", python.display());
        }
    }
    Ok(python)
}

/// The venv's Python if it is already usable, for runs that skip installing.
pub fn existing_python_venv() -> Option<PathBuf> {
    let python = venv_python(&venv_dir().ok()?);
    python_ready(&python).then_some(python)
}

/// Where the tests' virtual environment lives: `$HOME/.cache/parlor/venv`, outside the checkout.
pub fn venv_dir() -> Result<PathBuf> {
    Ok(cache_dir()?.join("venv"))
}

/// `$HOME/.cache/parlor`: what the tests install outside the checkout (the Python venv, npm's cache).
fn cache_dir() -> Result<PathBuf> {
    let home = env::var_os("HOME")
        .or_else(|| env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .context("neither HOME nor USERPROFILE is set, so there is no place for the test tools' cache")?;
    Ok(PathBuf::from(home).join(".cache").join("parlor"))
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn python_ready(python: &Path) -> bool {
    cmd::probe(Command::new(python).args(["-c", PYTHON_PROBE]))
}

fn is_installed(package: &str) -> bool {
    cmd::capture(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))
        .is_ok_and(|status| status.contains("install ok installed"))
}

fn is_root() -> Result<bool> {
    Ok(cmd::capture(Command::new("id").arg("-u")).context("could not tell whether we are root (`id -u`)")? == "0")
}

fn apt(sudo: bool, args: &[&str]) -> Command {
    let mut command = if sudo {
        let mut c = Command::new("sudo");
        c.args(["DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        c
    } else {
        let mut c = Command::new("apt-get");
        c.env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    command.args(args);
    command
}
