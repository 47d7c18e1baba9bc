//! Secrets in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows), never in a
//! file. A missing entry is `Ok(None)`, not an error, and secret values only travel inside the client core's
//! [`Password`], whose `Debug` output is redacted so they cannot end up in a log by accident.

use std::time::Duration;

use parlor_client::Password;

use crate::error::AppError;

/// The keyring service name all of Parlor's entries share.
const SERVICE: &str = "org.parlor.Parlor";

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
pub async fn save(url: &str, nick: &str, secret: &Password) -> Result<(), AppError> {
    let (url, nick, secret) = (url.to_owned(), nick.to_owned(), secret.clone());
    off_thread(move || entry(&url, &nick)?.set_password(secret.expose()).map_err(keyring_error)).await
}

/// The stored secret of a profile, if any.
pub async fn load(url: &str, nick: &str) -> Result<Option<Password>, AppError> {
    let (url, nick) = (url.to_owned(), nick.to_owned());
    off_thread(move || load_now(&url, &nick)).await
}

fn load_now(url: &str, nick: &str) -> Result<Option<Password>, AppError> {
    match entry(url, nick)?.get_password() {
        Ok(value) => Ok(Password::new(value)),
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
