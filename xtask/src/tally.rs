//! Counting test results across every test binary `cargo test` runs, so the run ends on one summary line
//! (`tests: N passed, M failed`) instead of whichever binary happened to run last.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::cmd;

/// Totals over all `test result:` lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests marked as ignored (there should be none).
    pub ignored: u64,
}

impl Tally {
    /// Adds the counts of one libtest summary line, e.g.
    /// `test result: ok. 24 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 4.26s`.
    fn add_line(&mut self, line: &str) {
        // node's test runner closes with `# pass N` and `# fail N` lines.
        let trimmed = line.trim();
        for (prefix, counter) in [("# pass ", &mut self.passed), ("# fail ", &mut self.failed)] {
            if let Some(count) = trimmed.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()) {
                *counter += count;
                return;
            }
        }
        let Some(rest) = trimmed.strip_prefix("test result: ") else { return };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else { continue };
            let Ok(count) = count.parse::<u64>() else { continue };
            match label {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }

    /// Adds another run's counts.
    pub fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// The closing line: `tests: N passed, M failed` (with `, K skipped` when any were ignored).
    pub fn summary(&self) -> String {
        let mut line = format!("tests: {} passed, {} failed", self.passed, self.failed);
        if self.ignored > 0 {
            line.push_str(&format!(", {} skipped", self.ignored));
        }
        line
    }
}

/// Runs a test command like [`cmd::run`], echoing its output while counting the libtest-style result lines.
pub fn run_counting(command: &mut Command) -> Result<Tally> {
    let line = cmd::display(command);
    println!("$ {line}");
    let mut child = command.stdout(Stdio::piped()).spawn().with_context(|| format!("could not start `{line}`"))?;
    let mut tally = Tally::default();
    if let Some(stdout) = child.stdout.take() {
        for text in BufReader::new(stdout).lines() {
            let text = text.context("could not read the test output")?;
            println!("{text}");
            tally.add_line(&text);
        }
    }
    let status = child.wait().with_context(|| format!("`{line}` could not be waited for"))?;
    println!("{}", tally.summary());
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    if tally.passed == 0 {
        bail!("`{line}` ran no tests");
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_binary_and_ignores_other_lines() {
        let mut tally = Tally::default();
        for line in [
            "running 13 tests",
            "test result: ok. 13 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "test result: FAILED. 20 passed; 4 failed; 1 ignored; 0 measured; 0 filtered out; finished in 2.36s",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "# pass 13",
            "# fail 0",
        ] {
            tally.add_line(line);
        }
        assert_eq!(tally, Tally { passed: 46, failed: 4, ignored: 1 });
        assert_eq!(tally.summary(), "tests: 46 passed, 4 failed, 1 skipped");
    }
}
