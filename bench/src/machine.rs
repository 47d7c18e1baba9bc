//! The machine a run measured: figures mean little without it, so every run's first JSON line describes it.

use std::path::Path;

use serde::Serialize;

use crate::{procfs, sys};

/// Hardware, software and conditions of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// CPUs the run could use (before the generator pinned itself).
    pub cpus: usize,
    /// Total memory, bytes.
    pub mem_total_bytes: Option<u64>,
    /// Kernel release.
    pub kernel: String,
    /// `rustc --version`, when rustc is on the PATH.
    pub rustc: Option<String>,
    /// The one-minute load average when the run started: well above 0 means others were busy too.
    pub load_avg_1m: Option<f64>,
    /// Open files allowed to the generator and the servers it starts (soft limit after raising it).
    pub open_files_limit: u64,
    /// Ports per source address for outgoing connections.
    pub ephemeral_ports: u64,
    /// CPU the servers are pinned to, if pinned.
    pub server_cpu: Option<usize>,
    /// CPU the load generator is pinned to, if pinned.
    pub generator_cpu: Option<usize>,
    /// `parlor-server --version`.
    pub server_version: Option<String>,
    /// `git rev-parse --short HEAD` of the working directory, with `-dirty` when it has changes.
    pub git_commit: Option<String>,
    /// This tool's version.
    pub bench_version: &'static str,
}

impl Machine {
    /// Describes this machine; `parlor_server` is asked for its version.
    pub fn describe(
        cpus: usize,
        parlor_server: &Path,
        open_files_limit: u64,
        server_cpu: Option<usize>,
        generator_cpu: Option<usize>,
    ) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, model)| model.trim().to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".into(), |k| k.trim().into());
        let load_avg_1m = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|load| load.split_whitespace().next().and_then(|first| first.parse().ok()));
        let git_commit = sys::command_output("git", &["rev-parse", "--short", "HEAD"]).map(|commit| {
            let dirty = sys::command_output("git", &["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|status| !status.is_empty());
            if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            }
        });
        Self {
            cpu_model,
            cpus,
            mem_total_bytes: procfs::mem_total(),
            kernel,
            rustc: sys::command_output("rustc", &["--version"]),
            load_avg_1m,
            open_files_limit,
            ephemeral_ports: sys::ephemeral_ports(),
            server_cpu,
            generator_cpu,
            server_version: parlor_server.to_str().and_then(|path| sys::command_output(path, &["--version"])),
            git_commit,
            bench_version: env!("CARGO_PKG_VERSION"),
        }
    }
}
