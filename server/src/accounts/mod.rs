//! Who may use a nickname: registered accounts (argon2id passwords, revocable session tokens) and device claims.
//!
//! Accounts are optional. A nickname nobody registered is a guest's, or, when the first client to use it sent a
//! device key, that device's: a student's app rejoins as the same nickname with no password, and a classmate's
//! cannot take it. A registered nickname needs its password or a session token.
//!
//! Accounts live in their own SQLite file (`accounts.sqlite3`), apart from the history: they are tiny, written
//! rarely, and never on the path of a chat message. Every secret is stored only as a hash: passwords with argon2id,
//! tokens and device keys (random and long, so a fast hash suffices) with SHA-256.

mod db;
mod hashing;
pub(crate) mod token;

use std::path::Path;
use std::sync::{Arc, Mutex};

use parlor_protocol::{names, Auth, ErrorCode, ErrorEvent, IdentityKind, Secret, MIN_ACCOUNT_PASSWORD_CHARS};
use thiserror::Error;
use tokio::sync::Semaphore;

pub(crate) use db::ACCOUNTS_FILE;

/// Password hashes computed at once: each argon2id hash takes ~19 MiB and tens of milliseconds of one core, so a
/// burst of sign-ins waits its turn instead of taking the machine's memory and every core.
const CONCURRENT_HASHES: usize = 2;

/// Longest account password accepted; hashing is bounded, and no one types more.
const MAX_ACCOUNT_PASSWORD_CHARS: usize = 256;

/// The account store failed (the disk, the database); the request can be retried.
#[derive(Debug, Error)]
pub(crate) enum AccountsError {
    /// SQLite failed.
    #[error("account database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The OS random source failed, so no token or salt could be made.
    #[error("the OS random source failed")]
    Random,
    /// The blocking task could not run (the runtime is stopping).
    #[error("the account task did not finish")]
    Task,
}

/// Why an account request did not succeed.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The client's request is refused; send it this error.
    Client(ErrorEvent),
    /// The account store failed.
    Store(AccountsError),
}

impl From<AccountsError> for Refused {
    fn from(err: AccountsError) -> Self {
        Self::Store(err)
    }
}

fn refuse<T>(code: ErrorCode, message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused::Client(ErrorEvent::new(code, message)))
}

/// A successful check of a `hello`.
#[derive(Debug)]
pub(crate) struct Admitted {
    /// How the nickname is held.
    pub(crate) kind: IdentityKind,
    /// Whether to issue a session token once the connection is online (a password sign-in).
    pub(crate) issue_token: bool,
    /// A device claim to record once the connection is online: never for a hello that is then refused, or anyone
    /// could claim an online guest's nickname with a `nick_taken` attempt.
    pub(crate) claim: Option<DeviceClaim>,
}

/// A device's claim on a free nickname, recorded by [`Accounts::claim`].
#[derive(Debug)]
pub(crate) struct DeviceClaim([u8; 32]);

/// Registered accounts, their sessions, and device claims.
#[derive(Debug)]
pub(crate) struct Accounts {
    db: Arc<Mutex<db::AccountDb>>,
    hashing: Semaphore,
}

impl Accounts {
    /// Opens (creating if needed) `accounts.sqlite3` in `data_dir`, readable by this user only.
    pub(crate) fn open(data_dir: &Path) -> Result<Self, AccountsError> {
        let db = db::AccountDb::open(&data_dir.join(ACCOUNTS_FILE))?;
        Ok(Self { db: Arc::new(Mutex::new(db)), hashing: Semaphore::new(CONCURRENT_HASHES) })
    }

    async fn with_db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut db::AccountDb) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, AccountsError> {
        let db = self.db.clone();
        let joined = tokio::task::spawn_blocking(move || work(&mut db.lock().unwrap_or_else(|p| p.into_inner())));
        Ok(joined.await.map_err(|_| AccountsError::Task)??)
    }

    async fn verify_password(&self, hash: String, password: Secret) -> Result<bool, AccountsError> {
        let _turn = self.hashing.acquire().await.map_err(|_| AccountsError::Task)?;
        tokio::task::spawn_blocking(move || hashing::verify(&hash, password.expose()))
            .await
            .map_err(|_| AccountsError::Task)
    }

    /// Decides whether `hello` may use the nickname with folded form `key`.
    pub(crate) async fn admit(&self, key: &str, auth: Option<&Auth>) -> Result<Admitted, Refused> {
        let auth = auth.cloned().unwrap_or_default();
        let lookup_key = key.to_owned();
        let holder = self.with_db(move |db| db.holder(&lookup_key)).await?;
        match holder {
            db::Holder::Account { password_hash } => {
                if let Some(token) = &auth.token {
                    let (key, digest) = (key.to_owned(), token::digest(token.expose()));
                    if self.with_db(move |db| db.use_session(&key, &digest)).await? {
                        return Ok(Admitted { kind: IdentityKind::Account, issue_token: false, claim: None });
                    }
                    if auth.password.is_none() {
                        let message = "this sign-in has expired or was revoked; sign in again with your password";
                        return refuse(ErrorCode::WrongCredentials, message);
                    }
                }
                let Some(password) = auth.password else {
                    let message = "this nickname is registered; sign in with its password";
                    return refuse(ErrorCode::SignInRequired, message);
                };
                if self.verify_password(password_hash, password).await? {
                    Ok(Admitted { kind: IdentityKind::Account, issue_token: true, claim: None })
                } else {
                    tracing::info!("wrong account password");
                    refuse(ErrorCode::WrongCredentials, "that is not this nickname's password")
                }
            }
            db::Holder::Device { device_sha256 } => match &auth.device {
                Some(device) if token::digest(device.expose()) == device_sha256 => {
                    let key = key.to_owned();
                    self.with_db(move |db| db.touch_device(&key)).await?;
                    Ok(Admitted { kind: IdentityKind::Device, issue_token: false, claim: None })
                }
                _ => {
                    let message = "this nickname belongs to another device; choose another nickname \
                                   (or ask the host to free it)";
                    refuse(ErrorCode::NickClaimed, message)
                }
            },
            db::Holder::Nobody => match auth.device {
                Some(device) => {
                    let claim = Some(DeviceClaim(token::digest(device.expose())));
                    Ok(Admitted { kind: IdentityKind::Device, issue_token: false, claim })
                }
                None => Ok(Admitted { kind: IdentityKind::Guest, issue_token: false, claim: None }),
            },
        }
    }

    /// Records a device's claim on `key` now that its connection holds the nickname.
    pub(crate) async fn claim(&self, key: &str, claim: DeviceClaim) -> Result<(), AccountsError> {
        let key = key.to_owned();
        self.with_db(move |db| db.claim(&key, &claim.0)).await
    }

    /// Starts a session for the account `key` and returns its token (shown to the client once, stored hashed).
    pub(crate) async fn issue_token(&self, key: &str) -> Result<Secret, AccountsError> {
        let token = token::new_token().ok_or(AccountsError::Random)?;
        let (key, digest) = (key.to_owned(), token::digest(&token));
        self.with_db(move |db| db.add_session(&key, &digest)).await?;
        Ok(Secret::new(token))
    }

    /// Registers the nickname `key` (shown as `nick`) with `password`, replacing any device claim, and returns the
    /// first session token.
    pub(crate) async fn register(&self, key: &str, nick: &str, password: Secret) -> Result<Secret, Refused> {
        let chars = password.expose().chars().count();
        if !(MIN_ACCOUNT_PASSWORD_CHARS..=MAX_ACCOUNT_PASSWORD_CHARS).contains(&chars) {
            let message =
                format!("a password needs {MIN_ACCOUNT_PASSWORD_CHARS} to {MAX_ACCOUNT_PASSWORD_CHARS} characters");
            return refuse(ErrorCode::WeakPassword, message);
        }
        if password.expose().chars().any(char::is_control) || !names::is_displayable_text(password.expose()) {
            let message = "a password cannot hold control or direction-override characters";
            return refuse(ErrorCode::WeakPassword, message);
        }
        let hash = {
            let _turn = self.hashing.acquire().await.map_err(|_| AccountsError::Task)?;
            tokio::task::spawn_blocking(move || hashing::hash(password.expose()))
                .await
                .map_err(|_| AccountsError::Task)?
        };
        let hash = hash.ok_or(AccountsError::Random)?;
        let token = token::new_token().ok_or(AccountsError::Random)?;
        let (key, nick, digest) = (key.to_owned(), nick.to_owned(), token::digest(&token));
        let created = self.with_db(move |db| db.register(&key, &nick, &hash, &digest)).await?;
        if !created {
            let message = "this nickname is already registered";
            return refuse(ErrorCode::AlreadyRegistered, message);
        }
        Ok(Secret::new(token))
    }

    /// Hashes a secret that is not an account's (a room password) on the bounded hashing pool.
    pub(crate) async fn hash_secret(&self, secret: Secret) -> Result<String, AccountsError> {
        let _turn = self.hashing.acquire().await.map_err(|_| AccountsError::Task)?;
        tokio::task::spawn_blocking(move || hashing::hash(secret.expose()))
            .await
            .map_err(|_| AccountsError::Task)?
            .ok_or(AccountsError::Random)
    }

    /// Checks a secret against a hash made by [`Accounts::hash_secret`].
    pub(crate) async fn verify_secret(&self, hash: String, secret: Secret) -> Result<bool, AccountsError> {
        self.verify_password(hash, secret).await
    }

    /// Whose session token this is, for requests that carry a token instead of a connection's `hello` (the HTTP
    /// API): the account's folded key and its nickname as shown.
    pub(crate) async fn bearer(&self, token: &str) -> Result<Option<(String, String)>, AccountsError> {
        let digest = token::digest(token);
        self.with_db(move |db| db.account_of(&digest)).await
    }

    /// A new token for the bot account `nick`, registering it first (with a random password nobody needs) if it is
    /// not an account yet. The host runs this; the token lets a script post as the bot over WebSocket or HTTP.
    pub(crate) async fn bot_token(&self, nick: &str) -> Result<Secret, Refused> {
        let key = names::fold(nick);
        let lookup = key.clone();
        if let db::Holder::Account { .. } = self.with_db(move |db| db.holder(&lookup)).await? {
            return Ok(self.issue_token(&key).await?);
        }
        let password = token::new_token().ok_or(AccountsError::Random)?;
        self.register(&key, nick, Secret::new(password)).await
    }

    /// Revokes one session token of account `key` (issued for a connection that then could not go online).
    pub(crate) async fn revoke(&self, key: &str, token: &Secret) -> Result<(), AccountsError> {
        let (key, digest) = (key.to_owned(), token::digest(token.expose()));
        self.with_db(move |db| db.revoke_one(&key, &digest)).await
    }

    /// Revokes every session of the account `key`; returns how many there were.
    pub(crate) async fn logout_everywhere(&self, key: &str) -> Result<u64, AccountsError> {
        let key = key.to_owned();
        self.with_db(move |db| db.revoke_all(&key)).await
    }
}

#[cfg(test)]
mod tests;
