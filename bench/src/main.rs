//! `parlor-bench`: see the library's documentation, or `parlor-bench --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match parlor_bench::main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("parlor-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
