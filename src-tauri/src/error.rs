//! The error every command returns. It serialises to `{ "code": ..., "message": ... }`, so the UI can branch on a
//! stable code and show a sentence that says what happened and what to do.

use serde::ser::SerializeStruct;
use thiserror::Error;

/// Why a command failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AppError {
    /// A command that needs a connection ran without one.
    #[error("not connected to a server; connect first")]
    NotConnected,
    /// The user's input cannot be used; the message says why.
    #[error("{0}")]
    InvalidInput(String),
    /// The OS keyring refused; the message says what to check.
    #[error("the system keyring is not available: {0}")]
    Keyring(String),
    /// The settings file could not be read or written.
    #[error("could not save settings: {0}")]
    Config(String),
    /// The built-in server could not start.
    #[error("could not start the server: {0}")]
    HostFailed(String),
    /// Host mode is already on.
    #[error("this computer is already hosting; stop it first")]
    AlreadyHosting,
    /// The local outbox could not be opened or written.
    #[error("could not store messages on this computer: {0}")]
    Storage(String),
    /// Anything else.
    #[error("something went wrong inside Parlor: {0}")]
    Internal(String),
}

impl AppError {
    /// The stable code the UI branches on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConnected => "not_connected",
            Self::InvalidInput(_) => "invalid_input",
            Self::Keyring(_) => "keyring",
            Self::Config(_) => "config",
            Self::HostFailed(_) => "host_failed",
            Self::AlreadyHosting => "already_hosting",
            Self::Storage(_) => "storage",
            Self::Internal(_) => "internal",
        }
    }
}

impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut error = serializer.serialize_struct("AppError", 2)?;
        error.serialize_field("code", self.code())?;
        error.serialize_field("message", &self.to_string())?;
        error.end()
    }
}

impl From<parlor_client::ClientError> for AppError {
    fn from(err: parlor_client::ClientError) -> Self {
        match err.code() {
            "invalid_input" => Self::InvalidInput(err.to_string()),
            "not_connected" => Self::NotConnected,
            "storage" => Self::Storage(err.to_string()),
            _ => Self::Internal(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_the_ui_as_code_and_sentence() {
        let json = serde_json::to_value(AppError::AlreadyHosting).expect("serialise");
        assert_eq!(json["code"], "already_hosting");
        assert_eq!(json["message"], "this computer is already hosting; stop it first");
    }
}
