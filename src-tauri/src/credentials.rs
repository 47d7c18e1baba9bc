//! Secrets in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows), never in a
//! file. A missing entry is `Ok(None)`, not an error, and secret values only travel inside [`Secret`], whose `Debug`
//! output is redacted so they cannot end up in a log by accident.

use std::time::Duration;

use crate::error::AppError;

/// The keyring service name all of Parlor's entries share.
const SERVICE: &str = "org.parlor.Parlor";

/// A secret value (today: a server password).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value; an empty one is no secret.
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        (!value.is_empty()).then_some(Self(value))
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The keyring account of a profile: one entry per nickname and server.
fn account(url: &str, nick: &str) -> String {
    format!("{nick}@{url}")
}

fn entry(url: &str, nick: &str) -> Result<keyring::Entry, AppError> {
    keyring::Entry::new(SERVICE, &account(url, nick)).map_err(keyring_error)
}

fn keyring_error(err: keyring::Error) -> AppError {
    let hint = match err {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
            " (is the keyring unlocked? on Linux a Secret Service such as GNOME Keyring must be running)"
        }
        _ => "",
    };
    AppError::Keyring(format!("{err}{hint}"))
}

/// How long a keyring call may take. A locked keyring can wait for a password prompt nobody sees; the user should
/// hear about it instead of watching a frozen "Connecting…".
const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a blocking keyring call on a worker thread, bounded by [`KEYRING_TIMEOUT`].
async fn off_thread<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    match tokio::time::timeout(KEYRING_TIMEOUT, tokio::task::spawn_blocking(call)).await {
        Ok(Ok(result)) => result,
        Ok(Err(err)) => Err(AppError::Internal(format!("the keyring call failed: {err}"))),
        Err(_) => Err(AppError::Keyring(
            "it did not answer within 10 s (is it locked, or waiting for a password prompt?)".into(),
        )),
    }
}

/// Stores the secret of a profile, replacing any earlier one.
pub async fn save(url: &str, nick: &str, secret: &Secret) -> Result<(), AppError> {
    let (url, nick, secret) = (url.to_owned(), nick.to_owned(), secret.clone());
    off_thread(move || entry(&url, &nick)?.set_password(secret.expose()).map_err(keyring_error)).await
}

/// The stored secret of a profile, if any.
pub async fn load(url: &str, nick: &str) -> Result<Option<Secret>, AppError> {
    let (url, nick) = (url.to_owned(), nick.to_owned());
    off_thread(move || load_now(&url, &nick)).await
}

fn load_now(url: &str, nick: &str) -> Result<Option<Secret>, AppError> {
    match entry(url, nick)?.get_password() {
        Ok(value) => Ok(Secret::new(value)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(err) => Err(keyring_error(err)),
    }
}

/// Removes the secret of a profile; removing one that is not there is fine.
pub async fn forget(url: &str, nick: &str) -> Result<(), AppError> {
    let (url, nick) = (url.to_owned(), nick.to_owned());
    off_thread(move || forget_now(&url, &nick)).await
}

fn forget_now(url: &str, nick: &str) -> Result<(), AppError> {
    match entry(url, nick)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(err) => Err(keyring_error(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret::new("hunter2").expect("not empty");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(Secret(<redacted>))");
        assert_eq!(secret.expose(), "hunter2");
        assert!(Secret::new("").is_none());
    }

    // The round trip through a real Secret Service runs in the end-to-end tests (`e2e/`), inside a dbus session with
    // gnome-keyring. Here the keyring crate's mock store stands in, which keeps no state between entries: enough to
    // check that a missing entry means "no secret" rather than an error.
    #[test]
    fn a_missing_entry_is_no_secret_and_forgetting_it_is_fine() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        assert!(matches!(load_now("ws://127.0.0.1:7878/ws", "ana"), Ok(None)));
        assert!(forget_now("ws://127.0.0.1:7878/ws", "ana").is_ok());
    }
}
