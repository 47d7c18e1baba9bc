//! Files only this user may read: the databases and the TLS key.

use std::path::Path;

/// Creates `path` empty with mode 0600 if it does not exist (on Unix), before SQLite opens it: SQLite gives its
/// WAL and journal files the mode of the database, so history and accounts never become readable by other users of
/// a shared computer. An existing file keeps its mode; failures are left to the open that follows to report.
pub(crate) fn create_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path);
    }
    #[cfg(not(unix))]
    let _ = path;
}
