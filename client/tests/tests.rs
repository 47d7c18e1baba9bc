//! Integration tests: `parlor_client::Client` against the real server — in-process, or the real binary killed with
//! SIGKILL — on loopback ports picked by the OS, with real SQLite files in temporary directories.

mod util;

mod crash;
mod offline;
mod refusals;
mod resume;
mod tls;
mod usage;
