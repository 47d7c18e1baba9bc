//! Secrets in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows), never in a
//! file. A missing entry is `Ok(None)`, not an error, and secret values only travel inside the client core's
//! [`Password`], whose `Debug` output is redacted so they cannot end up in a log by accident.
//!
//! Three kinds of entry share the service name [`SERVICE`]:
//! - `nick@url`: the server password of a remembered profile;
//! - `session:nick@url`: the session token of a registered nickname on that server (the account password itself is
//!   never stored: a sign-in trades it for a token the server can revoke);
//! - `device`: this device's random key, which keeps an unregistered nickname for this device.
//!
//! The store sits behind [`SecretStore`] so the rules (which entry, created when, reused how) can be tested without a
//! keyring: the `keyring` crate's mock keeps nothing between two entries for the same name, so "created once, then
//! reused" cannot be checked with it.

use std::sync::Arc;
use std::time::Duration;

use parlor_client::Password;

use crate::error::AppError;

/// The keyring service name all of Parlor's entries share.
pub const SERVICE: &str = "org.parlor.Parlor";

/// The keyring account of this device's key.
pub const DEVICE_ACCOUNT: &str = "device";

/// The keyring account of a profile's server password: one entry per nickname and server.
pub fn password_account(url: &str, nick: &str) -> String {
    format!("{nick}@{url}")
}

/// The keyring account of a profile's session token. Nicknames cannot contain `:`, so it never collides with a
/// password entry.
pub fn token_account(url: &str, nick: &str) -> String {
    format!("session:{nick}@{url}")
}

/// A place for secrets, by account name. Calls block (the OS keyring talks over D-Bus or to the OS), so [`Secrets`]
/// runs them on a worker thread.
pub trait SecretStore: Send + Sync + 'static {
    /// The secret stored under `account`, if any.
    fn get(&self, account: &str) -> Result<Option<String>, AppError>;
    /// Stores `secret` under `account`, replacing what was there.
    fn set(&self, account: &str, secret: &str) -> Result<(), AppError>;
    /// Removes `account`; removing one that is not there is fine.
    fn delete(&self, account: &str) -> Result<(), AppError>;
}

/// The OS keyring.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsKeyring;

fn keyring_error(err: keyring::Error) -> AppError {
    let hint = match err {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
            " (is the keyring unlocked? on Linux a Secret Service such as GNOME Keyring must be running)"
        }
        _ => "",
    };
    AppError::Keyring(format!("{err}{hint}"))
}

fn entry(account: &str) -> Result<keyring::Entry, AppError> {
    keyring::Entry::new(SERVICE, account).map_err(keyring_error)
}

impl SecretStore for OsKeyring {
    fn get(&self, account: &str) -> Result<Option<String>, AppError> {
        match entry(account)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keyring_error(err)),
        }
    }

    fn set(&self, account: &str, secret: &str) -> Result<(), AppError> {
        entry(account)?.set_password(secret).map_err(keyring_error)
    }

    fn delete(&self, account: &str) -> Result<(), AppError> {
        match entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(keyring_error(err)),
        }
    }
}

/// How long a keyring call may take. A locked keyring can wait for a password prompt nobody sees; the user should
/// hear about it instead of watching a frozen "Connecting…".
const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

/// Parlor's secrets: what is stored under which name, on top of a [`SecretStore`].
#[derive(Clone)]
pub struct Secrets {
    store: Arc<dyn SecretStore>,
    /// The device key once read or made, so every connection of this run uses the same one without asking the
    /// keyring again, and two connections starting together cannot make two keys.
    device: Arc<tokio::sync::Mutex<Option<Password>>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").finish_non_exhaustive()
    }
}

impl Secrets {
    /// Secrets kept in `store`.
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Self { store, device: Arc::default() }
    }

    /// Secrets kept in the OS keyring.
    pub fn os() -> Self {
        Self::new(Arc::new(OsKeyring))
    }

    /// Runs a blocking store call on a worker thread, bounded by [`KEYRING_TIMEOUT`].
    async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn SecretStore) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let store = self.store.clone();
        match tokio::time::timeout(KEYRING_TIMEOUT, tokio::task::spawn_blocking(move || work(store.as_ref()))).await {
            Ok(Ok(result)) => result,
            Ok(Err(err)) => Err(AppError::Internal(format!("the keyring call failed: {err}"))),
            Err(_) => Err(AppError::Keyring(
                "it did not answer within 10 s (is it locked, or waiting for a password prompt?)".into(),
            )),
        }
    }

    async fn load(&self, account: String) -> Result<Option<Password>, AppError> {
        Ok(self.call(move |store| store.get(&account)).await?.and_then(Password::new))
    }

    async fn save(&self, account: String, secret: &Password) -> Result<(), AppError> {
        let secret = secret.clone();
        self.call(move |store| store.set(&account, secret.expose())).await
    }

    async fn delete(&self, account: String) -> Result<(), AppError> {
        self.call(move |store| store.delete(&account)).await
    }

    /// The stored server password of a profile, if any.
    pub async fn server_password(&self, url: &str, nick: &str) -> Result<Option<Password>, AppError> {
        self.load(password_account(url, nick)).await
    }

    /// Stores the server password of a profile, replacing any earlier one.
    pub async fn save_server_password(&self, url: &str, nick: &str, secret: &Password) -> Result<(), AppError> {
        self.save(password_account(url, nick), secret).await
    }

    /// Removes the server password of a profile.
    pub async fn forget_server_password(&self, url: &str, nick: &str) -> Result<(), AppError> {
        self.delete(password_account(url, nick)).await
    }

    /// The stored session token of a profile, if any.
    pub async fn session_token(&self, url: &str, nick: &str) -> Result<Option<Password>, AppError> {
        self.load(token_account(url, nick)).await
    }

    /// Stores the session token of a profile, replacing any earlier one.
    pub async fn save_session_token(&self, url: &str, nick: &str, token: &Password) -> Result<(), AppError> {
        self.save(token_account(url, nick), token).await
    }

    /// Removes the session token of a profile.
    pub async fn forget_session_token(&self, url: &str, nick: &str) -> Result<(), AppError> {
        self.delete(token_account(url, nick)).await
    }

    /// This device's key: read from the store, or made and stored on first need. `None` when the store cannot be
    /// used: the app then connects as a guest, which is not worth an error for the user (only the log says so).
    pub async fn device_key(&self) -> Option<Password> {
        let mut cached = self.device.lock().await;
        if let Some(key) = cached.as_ref() {
            return Some(key.clone());
        }
        let made = self
            .call(|store| {
                if let Some(key) = store.get(DEVICE_ACCOUNT)?.and_then(Password::new) {
                    return Ok(key);
                }
                let key = new_device_key()
                    .ok_or_else(|| AppError::Internal("the random device key came out empty".into()))?;
                store.set(DEVICE_ACCOUNT, key.expose())?;
                tracing::info!("made a key for this device (kept in the keyring)");
                Ok(key)
            })
            .await;
        match made {
            Ok(key) => {
                *cached = Some(key.clone());
                Some(key)
            }
            Err(err) => {
                tracing::warn!(%err, "no device key, so connecting as a guest: the nickname is not kept for this device");
                None
            }
        }
    }
}

/// 64 hex digits from two random (v4) UUIDs: 244 random bits from the OS, which a server cannot guess and a
/// classmate cannot forge.
fn new_device_key() -> Option<Password> {
    Password::new(format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    /// A store in memory that counts writes, and can be made to fail like a locked keyring.
    #[derive(Default)]
    pub(crate) struct MemoryStore {
        pub(crate) entries: Mutex<HashMap<String, String>>,
        pub(crate) writes: Mutex<usize>,
        pub(crate) broken: bool,
    }

    impl SecretStore for MemoryStore {
        fn get(&self, account: &str) -> Result<Option<String>, AppError> {
            if self.broken {
                return Err(AppError::Keyring("no storage access".into()));
            }
            Ok(self.entries.lock().expect("lock").get(account).cloned())
        }

        fn set(&self, account: &str, secret: &str) -> Result<(), AppError> {
            if self.broken {
                return Err(AppError::Keyring("no storage access".into()));
            }
            *self.writes.lock().expect("lock") += 1;
            self.entries.lock().expect("lock").insert(account.to_owned(), secret.to_owned());
            Ok(())
        }

        fn delete(&self, account: &str) -> Result<(), AppError> {
            self.entries.lock().expect("lock").remove(account);
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_device_key_is_made_once_and_reused() {
        let store = Arc::new(MemoryStore::default());
        let first = Secrets::new(store.clone()).device_key().await.expect("a key");
        assert_eq!(first.expose().len(), 64);
        assert!(first.expose().chars().all(|c| c.is_ascii_hexdigit()));
        // A later run of the app (a new `Secrets`) reads the same key instead of making another.
        let secrets = Secrets::new(store.clone());
        let again = secrets.device_key().await.expect("a key");
        assert_eq!(again, first);
        assert_eq!(secrets.device_key().await, Some(first.clone()));
        assert_eq!(*store.writes.lock().expect("lock"), 1, "stored once");
        assert_eq!(store.entries.lock().expect("lock").get(DEVICE_ACCOUNT).map(String::as_str), Some(first.expose()));
        // Another device (another store) gets another key.
        let other = Secrets::new(Arc::new(MemoryStore::default())).device_key().await.expect("a key");
        assert_ne!(other, first);
    }

    #[tokio::test]
    async fn without_a_keyring_there_is_no_device_key_and_no_error() {
        let store = Arc::new(MemoryStore { broken: true, ..MemoryStore::default() });
        assert_eq!(Secrets::new(store).device_key().await, None);
    }

    #[tokio::test]
    async fn tokens_and_passwords_live_in_separate_entries() {
        let store = Arc::new(MemoryStore::default());
        let secrets = Secrets::new(store.clone());
        let (url, nick) = ("wss://10.0.0.2:7878/ws", "ana");
        let token = Password::new("t0ken").expect("non-empty");
        let password = Password::new("door").expect("non-empty");
        secrets.save_session_token(url, nick, &token).await.expect("saved");
        secrets.save_server_password(url, nick, &password).await.expect("saved");
        assert_eq!(secrets.session_token(url, nick).await.expect("read"), Some(token));
        assert_eq!(secrets.server_password(url, nick).await.expect("read"), Some(password.clone()));
        secrets.forget_session_token(url, nick).await.expect("forgotten");
        assert_eq!(secrets.session_token(url, nick).await.expect("read"), None);
        assert_eq!(secrets.server_password(url, nick).await.expect("read"), Some(password));
    }

    // The round trip through a real Secret Service runs in the end-to-end tests (`e2e/`), inside a dbus session with
    // gnome-keyring. The keyring crate's mock store keeps no state between entries: enough to check that a missing
    // entry means "no secret" rather than an error.
    #[test]
    fn a_missing_keyring_entry_is_no_secret_and_deleting_it_is_fine() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        assert!(matches!(OsKeyring.get(&password_account("ws://127.0.0.1:7878/ws", "ana")), Ok(None)));
        assert!(OsKeyring.delete(&token_account("ws://127.0.0.1:7878/ws", "ana")).is_ok());
    }
}
