//! Secrets that travel in messages: the server password, account passwords, session tokens, device keys.
//!
//! They are ordinary strings on the wire, but every Rust type holding one prints `<redacted>`, so a `{:?}` of a
//! message in a log line can never leak what it carries.

use serde::{Deserialize, Serialize};

/// A secret string: serialised as itself, debug-printed as `<redacted>`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself: call it only where the value is used (sent, hashed, compared, stored in a keyring).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_travels_as_itself_and_never_prints() {
        let secret = Secret::new("hunter2");
        assert_eq!(serde_json::to_string(&secret).expect("serialise"), "\"hunter2\"");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        let back: Secret = serde_json::from_str("\"hunter2\"").expect("deserialise");
        assert_eq!(back.expose(), "hunter2");
    }
}
