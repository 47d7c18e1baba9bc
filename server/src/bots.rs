//! Bot tokens, made by the host: a bot is an account whose password nobody knows, and its token is how a script
//! posts as it — over WebSocket (`hello` with `auth.token`) or over HTTP (`POST /api/v1/rooms/{room}/messages`).

use std::path::Path;

use parlor_protocol::names;
use thiserror::Error;

use crate::accounts::{Accounts, Refused};

/// Why no bot token could be made.
#[derive(Debug, Error)]
pub enum BotError {
    /// The bot's name breaks the nickname rules.
    #[error("{0:?} cannot be a bot's name: {1}")]
    InvalidName(String, String),
    /// The account database could not be opened or written.
    #[error("the account database failed: {0}")]
    Accounts(String),
}

/// Makes a new token for the bot `nick` in the server whose data directory is `data_dir` (registering the bot on
/// first use). Works whether or not the server is running. Print the token once; it is stored only hashed.
pub async fn create_bot_token(data_dir: &Path, nick: &str) -> Result<String, BotError> {
    names::validate_nick(nick).map_err(|err| BotError::InvalidName(nick.to_owned(), err.to_string()))?;
    std::fs::create_dir_all(data_dir).map_err(|err| BotError::Accounts(err.to_string()))?;
    let accounts = Accounts::open(data_dir).map_err(|err| BotError::Accounts(err.to_string()))?;
    match accounts.bot_token(nick).await {
        Ok(token) => Ok(token.expose().to_owned()),
        Err(Refused::Client(error)) => Err(BotError::Accounts(error.message)),
        Err(Refused::Store(err)) => Err(BotError::Accounts(err.to_string())),
    }
}
