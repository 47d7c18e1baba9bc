//! Reading a process's memory and CPU time from `/proc`, and the machine's free memory.
//!
//! CPU use is the change in `utime + stime` (all threads of the process) over a wall-clock interval, so a process
//! pinned to one core reads at most 100 %.

use std::time::{Duration, Instant};

use anyhow::Context;

/// Memory and CPU time of a process at one moment.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// Resident set size (`VmRSS`), bytes.
    pub rss_bytes: u64,
    /// User plus system CPU time so far, in clock ticks.
    pub cpu_ticks: u64,
    /// When the sample was taken.
    pub at: Instant,
}

/// Samples the process `pid`, or this process when `pid` is `None`.
pub fn sample(pid: Option<u32>) -> anyhow::Result<ProcSample> {
    let dir = pid.map_or_else(|| "/proc/self".to_owned(), |pid| format!("/proc/{pid}"));
    let status = std::fs::read_to_string(format!("{dir}/status")).with_context(|| format!("reading {dir}/status"))?;
    let stat = std::fs::read_to_string(format!("{dir}/stat")).with_context(|| format!("reading {dir}/stat"))?;
    let rss_bytes = parse_kib_field(&status, "VmRSS:").context("no VmRSS in /proc status")?;
    let cpu_ticks = parse_cpu_ticks(&stat).context("unreadable /proc stat")?;
    Ok(ProcSample { rss_bytes, cpu_ticks, at: Instant::now() })
}

/// CPU use between two samples, in percent of one core.
pub fn cpu_percent(start: &ProcSample, end: &ProcSample, ticks_per_second: u64) -> f64 {
    let wall = end.at.saturating_duration_since(start.at);
    if wall.is_zero() || ticks_per_second == 0 {
        return 0.0;
    }
    let busy = Duration::from_secs_f64(end.cpu_ticks.saturating_sub(start.cpu_ticks) as f64 / ticks_per_second as f64);
    crate::stats::round2(busy.as_secs_f64() / wall.as_secs_f64() * 100.0)
}

/// Busy and total time of one CPU, from its `cpuN` line in /proc/stat, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub struct CoreSample {
    busy: u64,
    total: u64,
    /// Time the hypervisor ran other guests while this one wanted the CPU.
    steal: u64,
}

/// Samples CPU `core`.
pub fn core_sample(core: usize) -> Option<CoreSample> {
    parse_core(&std::fs::read_to_string("/proc/stat").ok()?, core)
}

/// How busy a core was between two samples, percent; `None` if no time passed.
pub fn core_busy_percent(start: &CoreSample, end: &CoreSample) -> Option<f64> {
    let total = end.total.checked_sub(start.total).filter(|&t| t > 0)?;
    let busy = end.busy.saturating_sub(start.busy);
    Some(crate::stats::round2(busy as f64 / total as f64 * 100.0))
}

/// How much of a core's time a hypervisor gave to other guests between two samples, percent.
pub fn core_steal_percent(start: &CoreSample, end: &CoreSample) -> Option<f64> {
    let total = end.total.checked_sub(start.total).filter(|&t| t > 0)?;
    let steal = end.steal.saturating_sub(start.steal);
    Some(crate::stats::round2(steal as f64 / total as f64 * 100.0))
}

/// `cpuN user nice system idle iowait irq softirq steal …`: idle and iowait are idle; the rest (including steal,
/// time a hypervisor gave to other guests) is busy.
fn parse_core(stat: &str, core: usize) -> Option<CoreSample> {
    let name = format!("cpu{core}");
    let line = stat.lines().find(|line| line.split_whitespace().next() == Some(name.as_str()))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).take(8).filter_map(|f| f.parse().ok()).collect();
    if fields.len() < 8 {
        return None;
    }
    let idle = fields[3] + fields[4];
    let total: u64 = fields.iter().sum();
    Some(CoreSample { busy: total - idle, total, steal: fields[7] })
}

/// Memory the kernel could give to new work without swapping (`MemAvailable`), bytes.
pub fn mem_available() -> Option<u64> {
    parse_kib_field(&std::fs::read_to_string("/proc/meminfo").ok()?, "MemAvailable:")
}

/// Total memory (`MemTotal`), bytes.
pub fn mem_total() -> Option<u64> {
    parse_kib_field(&std::fs::read_to_string("/proc/meminfo").ok()?, "MemTotal:")
}

/// A `Name:   1234 kB` line of `/proc/*/status` or `/proc/meminfo`, in bytes.
fn parse_kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// `utime + stime` from `/proc/*/stat`: fields 14 and 15, counted after the parenthesised command name (which may
/// itself contain spaces or parentheses, hence the search for the last `)`).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name, field 3 (`state`) is index 0, so utime (14) is index 11 and stime (15) index 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_and_cpu_ticks() {
        let status = "Name:\tparlor-server\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nThreads:\t3\n";
        assert_eq!(parse_kib_field(status, "VmRSS:"), Some(5120 * 1024));
        let stat = "4242 (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
    }

    #[test]
    fn reads_a_cores_busy_share() {
        let before = "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 100 0 50 800 50 0 0 0 0 0\ncpu1 10 0 0 90 0 0 0 0 0 0\n";
        let after = "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 160 0 70 810 50 0 5 5 0 0\ncpu1 10 0 0 190 0 0 0 0 0 0\n";
        let (a, b) = (parse_core(before, 0).expect("cpu0"), parse_core(after, 0).expect("cpu0"));
        assert_eq!(core_busy_percent(&a, &b), Some(90.0), "60 + 20 + 5 + 5 busy of 100");
        assert_eq!(core_steal_percent(&a, &b), Some(5.0), "5 of 100 went to other guests");
        let (a, b) = (parse_core(before, 1).expect("cpu1"), parse_core(after, 1).expect("cpu1"));
        assert_eq!(core_busy_percent(&a, &b), Some(0.0));
        assert!(parse_core(before, 7).is_none());
        assert!(core_sample(0).is_some());
    }

    #[test]
    fn samples_this_process() {
        let first = sample(None).expect("/proc/self is readable");
        assert!(first.rss_bytes > 0);
        let mut spin = 0u64;
        while first.at.elapsed() < Duration::from_millis(30) {
            spin = spin.wrapping_add(1);
        }
        let second = sample(None).expect("/proc/self is readable");
        let percent = cpu_percent(&first, &second, 100);
        assert!((0.0..=400.0).contains(&percent), "{percent} ({spin})");
        assert!(mem_total().is_some_and(|total| total >= mem_available().unwrap_or(0)));
    }
}
