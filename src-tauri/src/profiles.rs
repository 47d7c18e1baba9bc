//! Recent servers ("profiles": address and nickname) in a small JSON file in the app's config directory. Secrets are
//! never here: they live in the OS keyring ([`crate::credentials`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many recent servers are kept.
const MAX_PROFILES: usize = 10;

/// A server the user connected to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The normalised address, e.g. `ws://192.168.1.20:7878/ws`.
    pub url: String,
    /// The nickname used there.
    pub nick: String,
    /// Whether to connect at start-up without asking (and whether a secret may be in the keyring).
    pub remember: bool,
    /// When it was last used, in milliseconds since the Unix epoch; the list is sorted by it, newest first.
    pub last_used_ms: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    profiles: Vec<Profile>,
}

/// The profiles file.
#[derive(Debug, Clone)]
pub struct Profiles {
    path: PathBuf,
}

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

impl Profiles {
    /// The profiles stored at `path` (created on first save).
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// All profiles, newest first. A missing file is an empty list; an unreadable one is reported.
    pub fn list(&self) -> Result<Vec<Profile>, AppError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str::<File>(&text).map(|file| file.profiles).map_err(|err| {
                AppError::Config(format!("{} is damaged ({err}); delete it to start over", self.path.display()))
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(err) => Err(AppError::Config(format!("cannot read {}: {err}", self.path.display()))),
        }
    }

    /// The newest profile marked "remember me", for connecting at start-up.
    pub fn remembered(&self) -> Result<Option<Profile>, AppError> {
        Ok(self.list()?.into_iter().find(|p| p.remember))
    }

    /// Whether `url` and `nick` is a profile marked "remember me" (so the keyring may hold its secrets).
    pub fn is_remembered(&self, url: &str, nick: &str) -> Result<bool, AppError> {
        Ok(self.list()?.iter().any(|p| p.url == url && p.nick == nick && p.remember))
    }

    /// Records a connection: the profile moves to the top of the list.
    pub fn touch(&self, url: &str, nick: &str, remember: bool) -> Result<(), AppError> {
        let mut profiles = self.list()?;
        profiles.retain(|p| !(p.url == url && p.nick == nick));
        profiles.insert(0, Profile { url: url.to_owned(), nick: nick.to_owned(), remember, last_used_ms: now_ms() });
        profiles.truncate(MAX_PROFILES);
        self.write(profiles)
    }

    /// Removes a profile.
    pub fn forget(&self, url: &str, nick: &str) -> Result<(), AppError> {
        let mut profiles = self.list()?;
        profiles.retain(|p| !(p.url == url && p.nick == nick));
        self.write(profiles)
    }

    fn write(&self, profiles: Vec<Profile>) -> Result<(), AppError> {
        let failed = |err: std::io::Error| AppError::Config(format!("cannot write {}: {err}", self.path.display()));
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let json = serde_json::to_string_pretty(&File { profiles }).map_err(|err| AppError::Config(err.to_string()))?;
        // Write then rename, so a crash never leaves half a file.
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, json).map_err(failed)?;
        std::fs::rename(&temporary, &self.path).map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_kept_newest_first_and_forgotten() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let profiles = Profiles::new(dir.path().join("config").join("profiles.json"));
        assert_eq!(profiles.list().expect("empty"), []);
        profiles.touch("ws://a:7878/ws", "ana", false).expect("save");
        profiles.touch("ws://b:7878/ws", "ana", true).expect("save");
        profiles.touch("ws://a:7878/ws", "ana", false).expect("save again");
        let urls: Vec<String> = profiles.list().expect("list").into_iter().map(|p| p.url).collect();
        assert_eq!(urls, ["ws://a:7878/ws", "ws://b:7878/ws"]);
        assert_eq!(profiles.remembered().expect("read").map(|p| p.url).as_deref(), Some("ws://b:7878/ws"));
        assert!(profiles.is_remembered("ws://b:7878/ws", "ana").expect("read"));
        assert!(!profiles.is_remembered("ws://a:7878/ws", "ana").expect("read"));
        profiles.forget("ws://b:7878/ws", "ana").expect("forget");
        assert_eq!(profiles.remembered().expect("read"), None);
    }

    #[test]
    fn a_damaged_file_is_reported_not_overwritten_silently() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("profiles.json");
        std::fs::write(&path, "{not json").expect("write");
        assert!(matches!(Profiles::new(path).list(), Err(AppError::Config(_))));
    }
}
