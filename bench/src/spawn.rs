//! Starting and stopping the servers under test, each as its own process pinned to the server CPU.
//!
//! Both print the address they bound as their first stdout line; the rest of stdout is drained, and stderr goes to
//! a log file in the run's scratch directory so a failure can show what the server said.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::sys;

/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// Which server a measurement is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// parlor-server, with its protocol and SQLite history.
    Parlor,
    /// The bare tokio-tungstenite broadcast server ([`crate::reference`]).
    Reference,
}

impl Target {
    /// The name used in JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Parlor => "parlor",
            Self::Reference => "reference",
        }
    }
}

/// How to start the servers.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The parlor-server release binary.
    pub parlor: PathBuf,
    /// This binary, which serves the reference with `reference-server`.
    pub bench: PathBuf,
    /// CPU to pin servers to, if pinning.
    pub cpu: Option<usize>,
    /// Directory for data directories and logs; removed when the run ends.
    pub scratch: PathBuf,
}

/// A running server process; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    /// Which server this is.
    pub target: Target,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its history directory (parlor only), kept so it can be restarted on the same data.
    pub data_dir: PathBuf,
    child: Option<Child>,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `target` with a fresh data directory named `label` in the scratch directory.
    pub fn start(spec: &ServerSpec, target: Target, label: &str) -> anyhow::Result<Self> {
        let data_dir = spec.scratch.join(label);
        std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        Self::start_on(spec, target, data_dir)
    }

    /// Starts `target` on an existing data directory (a restart after a kill).
    pub fn start_on(spec: &ServerSpec, target: Target, data_dir: PathBuf) -> anyhow::Result<Self> {
        let log = data_dir.with_extension(format!("{}.log", std::process::id()));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("creating {}", log.display()))?;
        let mut command = match target {
            Target::Parlor => {
                let mut command = sys::pinned(&spec.parlor, spec.cpu);
                command.arg("--bind").arg("127.0.0.1:0").arg("--data-dir").arg(&data_dir);
                command.args(["--log-level", "warn", "--max-connections", "10000000"]);
                // The default 10 frames/s per connection would throttle every sender; benchmarks lift it.
                command.args(["--rate-per-second", "1000000", "--rate-burst", "1000000"]);
                command
            }
            Target::Reference => {
                let mut command = sys::pinned(&spec.bench, spec.cpu);
                command.args(["reference-server", "--bind", "127.0.0.1:0"]);
                command
            }
        };
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log_file);
        let program = if target == Target::Parlor { &spec.parlor } else { &spec.bench };
        let mut child = command.spawn().with_context(|| format!("cannot start {}", program.display()))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let mut server =
            Self { target, addr: SocketAddr::from(([127, 0, 0, 1], 0)), data_dir, child: Some(child), log };
        let first = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            _ => bail!("{} did not start: {}", target.name(), server.log_tail()),
        };
        server.addr = parse_listen_line(&first).with_context(|| format!("unexpected first line {first:?}"))?;
        Ok(server)
    }

    /// The process id, for /proc sampling.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The WebSocket URL clients connect to.
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Stops the server with SIGTERM, killing it if it takes longer than [`STOP_TIMEOUT`].
    pub async fn stop(mut self) {
        let Some(mut child) = self.child.take() else { return };
        if sys::terminate(child.id()).is_ok() {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if !matches!(child.try_wait(), Ok(None)) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            eprintln!("  {} did not stop within {STOP_TIMEOUT:?}; killing it", self.target.name());
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Kills the server with SIGKILL, as a crash would, and waits for it to be gone.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last lines the server wrote to stderr.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        if tail.is_empty() {
            format!("(nothing in {})", self.log.display())
        } else {
            tail
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The address in `… listening on ws://127.0.0.1:PORT/ws …`.
fn parse_listen_line(line: &str) -> Option<SocketAddr> {
    let start = line.find("ws://")? + "ws://".len();
    let end = start + line[start..].find('/')?;
    line[start..end].parse().ok()
}

/// Finds parlor-server: next to this binary (both in `target/release`), else under `$CARGO_TARGET_DIR` or `target/`.
pub fn default_parlor_binary() -> PathBuf {
    let sibling = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("parlor-server")));
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let candidates = [sibling, Some(target_dir.join("release/parlor-server"))];
    candidates
        .into_iter()
        .flatten()
        .find(|path| is_release(path) && path.is_file())
        .unwrap_or_else(|| target_dir.join("release/parlor-server"))
}

fn is_release(path: &Path) -> bool {
    path.parent().and_then(Path::file_name).is_some_and(|dir| dir == "release")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_address_both_servers_print() {
        let parlor = "Parlor server listening on ws://127.0.0.1:41234/ws (history in /tmp/x)";
        assert_eq!(parse_listen_line(parlor), Some(SocketAddr::from(([127, 0, 0, 1], 41234))));
        let reference = "Reference server listening on ws://127.0.0.1:5/ws (tokio-tungstenite broadcast)";
        assert_eq!(parse_listen_line(reference), Some(SocketAddr::from(([127, 0, 0, 1], 5))));
        assert_eq!(parse_listen_line("garbage"), None);
    }
}
