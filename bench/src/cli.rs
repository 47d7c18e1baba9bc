//! The command line: `run` (the benchmark) and `reference-server` (the bare server it measures Parlor against).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::load::Timing;
use crate::scenario::{secs, Settings};

/// Parlor's load generator. Speaks the real protocol to parlor-server and the same load to a bare tokio-tungstenite
/// broadcast server, on loopback only, with the servers and the generator pinned to separate CPUs.
#[derive(Debug, Parser)]
#[command(name = "parlor-bench", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run benchmark scenarios; JSON lines on stdout (and --out), progress and tables on stderr.
    Run(RunArgs),
    /// Serve the reference: relay every text frame to every connection, nothing else. `run` starts it itself.
    ReferenceServer {
        /// Loopback address to listen on; port 0 picks a free port (printed on the first stdout line).
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: SocketAddr,
    },
}

/// Which scenarios to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// 40 clients in one room, all sending 1 msg/s.
    Classroom,
    /// 1000 clients in one room, 10 senders at rising rates.
    Fanout,
    /// As many idle connections as the machine holds.
    Idle,
    /// Flooding senders; messages stored per second with ack after commit.
    Persistence,
    /// All of the above (about 10 minutes; with --quick about 1).
    All,
}

/// Servers a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// parlor-server.
    Parlor,
    /// The bare tokio-tungstenite broadcast server.
    Reference,
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario to run.
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    pub scenario: Scenario,
    /// The parlor-server binary (release build). Default: next to this binary, else target/release/parlor-server.
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// Smoke run: short phases, small sizes (about a minute for all scenarios). Figures are indicative only.
    #[arg(long)]
    pub quick: bool,
    /// Also append the JSON lines to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Servers to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [TargetArg::Parlor, TargetArg::Reference])]
    pub targets: Vec<TargetArg>,
    /// Warm-up before each measured window, seconds (default 2; quick 0.5).
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Measured window, seconds (default 5, classroom twice that; quick 1).
    #[arg(long)]
    pub window: Option<f64>,
    /// CPU the servers are pinned to.
    #[arg(long, default_value_t = 0)]
    pub server_cpu: usize,
    /// CPU the load generator is pinned to.
    #[arg(long, default_value_t = 1)]
    pub generator_cpu: usize,
    /// Do not pin anything to CPUs (for machines with one CPU, or to compare).
    #[arg(long)]
    pub no_pin: bool,
    /// Fan-out room size (default 1000; quick 200).
    #[arg(long)]
    pub fanout_clients: Option<usize>,
    /// Fan-out senders.
    #[arg(long, default_value_t = 10)]
    pub fanout_senders: usize,
    /// Fan-out rates per sender, comma-separated, climbed until a step fails.
    #[arg(long, value_delimiter = ',')]
    pub fanout_rates: Option<Vec<f64>>,
    /// Idle levels to reach, comma-separated (default 10000,20000,50000,100000,150000,200000,300000,500000).
    #[arg(long, value_delimiter = ',')]
    pub idle_steps: Option<Vec<usize>>,
    /// Stop the idle ramp once the server uses more memory than this, GiB (default: a third of RAM).
    #[arg(long)]
    pub idle_max_rss_gib: Option<f64>,
    /// Persistence senders, each flooding its own room.
    #[arg(long, default_value_t = 16)]
    pub persistence_senders: usize,
    /// Unacknowledged sends each persistence sender keeps in flight.
    #[arg(long, default_value_t = 64)]
    pub persistence_in_flight: usize,
}

/// Fan-out rates per sender: steps of about ×1.25 so the best clean step is known to within a quarter.
const FANOUT_RATES: [f64; 18] = [
    10.0, 20.0, 30.0, 40.0, 50.0, 64.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 320.0, 400.0, 500.0, 640.0, 800.0,
    1000.0,
];

/// Idle levels: the 10k and 100k, and beyond to find what the machine holds.
const IDLE_STEPS: [usize; 8] = [10_000, 20_000, 50_000, 100_000, 150_000, 200_000, 300_000, 500_000];

impl RunArgs {
    /// The settings these options describe.
    pub fn settings(&self, mem_total: Option<u64>) -> Settings {
        let quick = self.quick;
        let (warmup, window, drain) = if quick { (0.5, 1.0, 2.0) } else { (2.0, 5.0, 3.0) };
        let timing = Timing {
            warmup: secs(self.warmup.unwrap_or(warmup)),
            window: secs(self.window.unwrap_or(window)),
            drain: secs(drain),
        };
        let default_rates = if quick { vec![10.0, 40.0] } else { FANOUT_RATES.to_vec() };
        let default_idle = if quick { vec![1000, 3000] } else { IDLE_STEPS.to_vec() };
        let idle_steps = self.idle_steps.clone().unwrap_or(default_idle);
        let max_rss =
            self.idle_max_rss_gib.map_or(mem_total.unwrap_or(8 << 30) / 3, |gib| (gib * f64::from(1 << 30)) as u64);
        Settings {
            quick,
            parlor: self.targets.contains(&TargetArg::Parlor),
            reference: self.targets.contains(&TargetArg::Reference),
            timing,
            classroom_clients: 40,
            fanout_clients: self.fanout_clients.unwrap_or(if quick { 200 } else { 1000 }),
            fanout_senders: self.fanout_senders.max(1),
            fanout_rates: self.fanout_rates.clone().unwrap_or(default_rates),
            idle_reference: idle_steps.first().copied().unwrap_or(10_000),
            idle_steps,
            idle_max_rss_bytes: max_rss,
            persistence_senders: self.persistence_senders.max(1),
            persistence_in_flight: self.persistence_in_flight.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(args).expect("valid arguments");
        match cli.command {
            Command::Run(run) => run,
            Command::ReferenceServer { .. } => panic!("expected run"),
        }
    }

    #[test]
    fn defaults_measure_everything_against_both_servers() {
        let settings = parse(&["parlor-bench", "run"]).settings(Some(24 << 30));
        assert!(settings.parlor && settings.reference && !settings.quick);
        assert_eq!((settings.fanout_clients, settings.fanout_senders), (1000, 10));
        assert_eq!(settings.idle_steps.first(), Some(&10_000));
        assert_eq!(settings.idle_max_rss_bytes, 8 << 30);
        assert_eq!(settings.timing.window.as_secs(), 5);
    }

    #[test]
    fn quick_and_explicit_options() {
        let args =
            ["parlor-bench", "run", "--quick", "--targets", "reference", "--fanout-rates", "5,15", "--window", "3"];
        let settings = parse(&args).settings(None);
        assert!(settings.quick && !settings.parlor && settings.reference);
        assert_eq!(settings.fanout_rates, [5.0, 15.0]);
        assert_eq!(settings.timing.window.as_secs(), 3);
        assert_eq!(settings.fanout_clients, 200);
    }
}
