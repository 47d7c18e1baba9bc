//! The moderator token: a random secret the server keeps in its data directory (mode 0600). Whoever can read the
//! host's data directory — the host, and the desktop app that started the server — can become a moderator with
//! `moderate`; nobody else can, and the token is never logged or sent by the server.

use std::io::{self, Write};
use std::path::Path;

use crate::config::ServerPassword;

/// The file, in the data directory, holding the token.
pub const MODERATOR_TOKEN_FILE: &str = "moderator-token";

/// Reads the token, creating it on first start.
pub(crate) fn load_or_create(data_dir: &Path) -> io::Result<ServerPassword> {
    let path = data_dir.join(MODERATOR_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => return ServerPassword::new(text.trim()).ok_or_else(|| empty(&path)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let token = crate::accounts::token::new_token().ok_or_else(|| io::Error::other("no random source"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path)?.write_all(token.as_bytes())?;
    ServerPassword::new(token).ok_or_else(|| empty(&path))
}

fn empty(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{} is empty; delete it to make a new one", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_private_and_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_create(dir.path()).expect("created");
        let text = std::fs::read_to_string(dir.path().join(MODERATOR_TOKEN_FILE)).expect("written");
        assert_eq!(text.len(), 64);
        assert!(first.matches(&text));
        assert!(load_or_create(dir.path()).expect("read back").matches(&text), "the same token after a restart");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(MODERATOR_TOKEN_FILE)).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
