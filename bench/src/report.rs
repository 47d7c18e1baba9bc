//! Results as JSON lines — on stdout and appended to `--out` — and, at the end, as tables for people.
//!
//! Every line is `{"type": …, "run": <unix seconds at start>, "data": {…}}`: the first describes the machine, then
//! one per scenario step, one summary per scenario, and a final `summary` with the targets. Several runs can
//! share one file; `run` tells them apart. Progress and the tables go to stderr, so stdout stays pure JSONL.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::machine::Machine;
use crate::scenario::fanout::{FanoutStep, FanoutSummary};
use crate::scenario::idle::{IdleStep, IdleSummary};
use crate::scenario::persistence::PersistenceMeasure;
use crate::scenario::{Comparison, Goal};

/// One JSON line's payload.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Line {
    /// The machine and conditions; first line of every run.
    Machine(Box<Machine>),
    /// The classroom, both targets.
    Classroom(Comparison),
    /// One fan-out rate, both targets.
    FanoutStep(FanoutStep),
    /// The fan-out ladder's outcome.
    Fanout(FanoutSummary),
    /// One idle level of one target.
    IdleStep(IdleStep),
    /// The idle scenario's outcome.
    Idle(IdleSummary),
    /// The persistence scenario.
    Persistence(PersistenceMeasure),
    /// The targets, met or not; last line of every run.
    Summary(Summary),
}

impl Line {
    /// The line's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Machine(_) => "machine",
            Self::Classroom(_) => "classroom",
            Self::FanoutStep(_) => "fanout_step",
            Self::Fanout(_) => "fanout",
            Self::IdleStep(_) => "idle_step",
            Self::Idle(_) => "idle",
            Self::Persistence(_) => "persistence",
            Self::Summary(_) => "summary",
        }
    }
}

/// The run's closing line.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Whether this was a `--quick` smoke run (figures indicative only).
    pub quick: bool,
    /// Wall-clock duration of the run, seconds.
    pub duration_s: f64,
    /// Each target of the issue and how this run did.
    pub goals: Vec<Goal>,
}

#[derive(Serialize)]
struct Record<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    run: u64,
    data: &'a Line,
}

/// Writes lines as they come and keeps them for the tables.
#[derive(Debug)]
pub struct Reporter {
    run: u64,
    file: Option<File>,
    lines: Vec<Line>,
}

impl Reporter {
    /// A reporter appending to `out` if given (created if missing).
    pub fn new(out: Option<&Path>) -> anyhow::Result<Self> {
        let file = match out {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?,
            ),
            None => None,
        };
        let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Ok(Self { run, file, lines: Vec::new() })
    }

    /// Prints one line to stdout and the `--out` file.
    pub fn emit(&mut self, line: Line) -> anyhow::Result<()> {
        let json = render(self.run, &line)?;
        println!("{json}");
        if let Some(file) = &mut self.file {
            writeln!(file, "{json}").context("writing the --out file")?;
        }
        self.lines.push(line);
        Ok(())
    }

    /// Every line emitted so far.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }
}

/// One line as JSON.
pub fn render(run: u64, line: &Line) -> anyhow::Result<String> {
    serde_json::to_string(&Record { kind: line.kind(), run, data: line }).context("encoding a result line")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_type_run_and_data() {
        let goal = Goal {
            name: "persistence",
            goal: "≥ 100k messages/s".into(),
            measured: "120000 msg/s".into(),
            met: Some(true),
            note: None,
        };
        let line = Line::Summary(Summary { quick: false, duration_s: 12.5, goals: vec![goal] });
        let json: serde_json::Value = serde_json::from_str(&render(42, &line).expect("renders")).expect("valid JSON");
        assert_eq!(json["type"], "summary");
        assert_eq!(json["run"], 42);
        assert_eq!(json["data"]["duration_s"], 12.5);
        assert_eq!(json["data"]["goals"][0]["met"], true);
        assert_eq!(json.as_object().map(|o| o.len()), Some(3), "nothing else at the top level: {json}");
    }

    #[test]
    fn a_comparison_line_carries_both_targets_and_ratios() {
        let line = Line::Classroom(Comparison::new(None, None));
        let json: serde_json::Value = serde_json::from_str(&render(1, &line).expect("renders")).expect("valid JSON");
        assert_eq!(json["type"], "classroom");
        for key in ["parlor", "reference", "ratio_deliveries", "ratio_p99"] {
            assert!(json["data"].get(key).is_some(), "{key} missing from {json}");
        }
    }
}
