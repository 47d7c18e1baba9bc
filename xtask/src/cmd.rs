//! Running external programs: [`run`] echoes the command line and turns a failure into an error that names the
//! command; [`probe`] and [`capture`] ask the system something quietly.

use std::fmt::Write as _;
use std::io::ErrorKind;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Echoes `$ <command line>`, runs it with inherited stdio and fails unless it exits successfully.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = display(cmd);
    println!("$ {line}");
    let status = cmd.status().map_err(|err| spawn_error(cmd, err))?;
    if !status.success() {
        match status.code() {
            Some(code) => bail!("`{line}` failed with exit code {code}"),
            None => bail!("`{line}` was terminated by a signal"),
        }
    }
    Ok(())
}

/// Runs a command silently and tells whether it started and exited successfully (a missing program is `false`).
pub fn probe(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Runs a command silently and returns its standard output, trimmed; fails if it cannot start or exits unsuccessfully.
pub fn capture(cmd: &mut Command) -> Result<String> {
    let output = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output().map_err(|err| spawn_error(cmd, err))?;
    if !output.status.success() {
        bail!("`{}` failed ({})", display(cmd), output.status);
    }
    let text = String::from_utf8(output.stdout).with_context(|| format!("`{}` printed non-UTF-8", display(cmd)))?;
    Ok(text.trim().to_owned())
}

/// Whether `program` can be started at all (it is on `PATH`), judged by running it with `--version`.
pub fn exists(program: &str) -> bool {
    match Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(_) => true,
        Err(err) => err.kind() != ErrorKind::NotFound,
    }
}

/// The command line as a shell user would type it: explicitly set variables first, arguments quoted when needed.
pub fn display(cmd: &Command) -> String {
    let mut line = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            let _ = write!(line, "{}={} ", key.to_string_lossy(), quote(&value.to_string_lossy()));
        }
    }
    line.push_str(&quote(&cmd.get_program().to_string_lossy()));
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(&arg.to_string_lossy()));
    }
    line
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c) || (c as u32) > 0x7f);
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn spawn_error(cmd: &Command, err: std::io::Error) -> anyhow::Error {
    let program = cmd.get_program().to_string_lossy().into_owned();
    if err.kind() == ErrorKind::NotFound {
        anyhow::anyhow!("could not start `{program}`: it is not installed or not on PATH")
    } else {
        anyhow::Error::new(err).context(format!("could not start `{}`", display(cmd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let mut cmd = Command::new("cargo");
        cmd.args(["fmt", "--all", "--", "--check", "${Status}", "it's"]).env("PARLOR_PYTHON", "/a b/python");
        assert_eq!(display(&cmd), r"PARLOR_PYTHON='/a b/python' cargo fmt --all -- --check '${Status}' 'it'\''s'");
    }
}
