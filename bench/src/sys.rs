//! Preparing this process and the servers it starts: file-descriptor limits, CPU pinning, signals.
//!
//! Everything goes through util-linux (`prlimit`, `taskset`) and procps (`kill`) rather than raw system calls: the
//! workspace forbids `unsafe`, and these tools are on every Debian and Ubuntu machine.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

/// Raises this process's soft open-files limit to its hard limit and returns the limit in force afterwards.
///
/// Servers started later inherit it. Going beyond the hard limit needs root with `CAP_SYS_RESOURCE` (or a higher
/// `LimitNOFILE` for the session); the benchmark then reports the limit as what capped the idle scenario.
pub fn raise_open_files() -> anyhow::Result<u64> {
    let (soft, hard) = open_files_limits().context("cannot read /proc/self/limits")?;
    if soft < hard {
        let status = Command::new("prlimit")
            .args(["--pid", &std::process::id().to_string(), &format!("--nofile={hard}:{hard}")])
            .status()
            .context("cannot run prlimit (util-linux) to raise the open-files limit")?;
        if !status.success() {
            bail!("prlimit could not raise the open-files limit to {hard}");
        }
    }
    Ok(open_files_limits().map_or(soft, |(soft, _)| soft))
}

/// The soft and hard open-files limits of this process; "unlimited" reads as `u64::MAX`.
pub fn open_files_limits() -> Option<(u64, u64)> {
    parse_limits(&std::fs::read_to_string("/proc/self/limits").ok()?)
}

fn parse_limits(limits: &str) -> Option<(u64, u64)> {
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    let mut values = line["Max open files".len()..].split_whitespace().map(|value| match value {
        "unlimited" => Some(u64::MAX),
        number => number.parse().ok(),
    });
    Some((values.next()??, values.next()??))
}

/// Pins every thread of this process to `cpu`. Threads created later (the tokio runtime's) inherit the mask.
pub fn pin_self(cpu: usize) -> anyhow::Result<()> {
    let status = Command::new("taskset")
        .args(["--all-tasks", "--cpu-list", "--pid", &cpu.to_string(), &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .context("cannot run taskset (util-linux) to pin the load generator")?;
    if !status.success() {
        bail!("taskset could not pin the load generator to CPU {cpu}");
    }
    Ok(())
}

/// A command running `program`, pinned to `cpu` with `taskset` when one is given.
pub fn pinned(program: &Path, cpu: Option<usize>) -> Command {
    match cpu {
        Some(cpu) => {
            let mut command = Command::new("taskset");
            command.arg("--cpu-list").arg(cpu.to_string()).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Sends SIGTERM to a process this benchmark started.
pub fn terminate(pid: u32) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .context("cannot run kill")?;
    if !status.success() {
        bail!("kill -TERM {pid} failed (the process may have exited)");
    }
    Ok(())
}

/// How many CPUs this process may run on.
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Clock ticks per second for `/proc` CPU times (`getconf CLK_TCK`; 100 on every common Linux).
pub fn clock_ticks() -> u64 {
    command_output("getconf", &["CLK_TCK"]).and_then(|out| out.parse().ok()).unwrap_or(100)
}

/// How many local ports one source address can use for outgoing connections.
pub fn ephemeral_ports() -> u64 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| {
            let mut bounds = range.split_whitespace().map(|n| n.parse::<u64>().ok());
            let (low, high) = (bounds.next()??, bounds.next()??);
            Some(high.saturating_sub(low) + 1)
        })
        .unwrap_or(28_232)
}

/// The first line a command prints, trimmed, if it runs and succeeds.
pub fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).stderr(Stdio::null()).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    output.status.success().then(|| text.lines().next().unwrap_or_default().trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_open_files_line() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max processes             unlimited            unlimited            processes\n\
                      Max open files            1024                 20000                files\n";
        assert_eq!(parse_limits(limits), Some((1024, 20000)));
        let unlimited = "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_limits(unlimited), Some((u64::MAX, u64::MAX)));
        assert!(open_files_limits().is_some());
    }
}
