//! Turning what a person types ("192.168.1.20", "laptop.local:7878", "ws://…/ws", a join link
//! "wss://…/ws#sha256=…") into the URL the client dials.

use parlor_client::trust::Fingerprint;

use crate::error::AppError;

/// The port a Parlor server uses unless told otherwise.
const DEFAULT_PORT: u16 = 7878;

/// A normalised server address: the URL, and the certificate fingerprint a join link pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `ws://host:port/path` or `wss://…`, without the fragment: what profiles, outboxes and keyring entries are keyed
    /// by, so a server is the same profile whether it was reached by its join link or typed by hand.
    pub url: String,
    /// The SHA-256 fingerprint (64 lowercase hex digits) from `#sha256=…`. It is only needed for the first
    /// connection: after it the client keeps the fingerprint in `known-servers.json`.
    pub pin: Option<String>,
}

impl Address {
    /// The URL to hand the client: with the pin as a fragment, which the client checks the certificate against.
    pub fn dial(&self) -> String {
        match &self.pin {
            Some(pin) => format!("{}#sha256={pin}", self.url),
            None => self.url.clone(),
        }
    }

    /// `host:port`: how the client names the server in `known-servers.json`.
    pub fn host_port(&self) -> &str {
        let rest = self.url.split_once("://").map_or(self.url.as_str(), |(_, rest)| rest);
        rest.split_once('/').map_or(rest, |(authority, _)| authority)
    }
}

/// Normalises a server address into `ws://host:port/ws` (or `wss://`), so profiles compare equal however they were
/// typed. A `#sha256=…` fragment (a join link) is checked and kept apart; it implies `wss://`, since a fingerprint
/// only means something over TLS.
pub fn normalize(input: &str) -> Result<Address, AppError> {
    let (typed, fragment) = match input.trim().split_once('#') {
        Some((typed, fragment)) => (typed, Some(fragment.trim())),
        None => (input.trim(), None),
    };
    let pin = fragment.map(parse_pin).transpose()?;
    let url = normalize_url(typed, input)?;
    let url = match (&pin, url.strip_prefix("ws://")) {
        (Some(_), Some(rest)) => format!("wss://{rest}"),
        _ => url,
    };
    Ok(Address { url, pin })
}

fn parse_pin(fragment: &str) -> Result<String, AppError> {
    let invalid = |why: String| AppError::InvalidInput(format!("the join link's fingerprint is not valid: {why}"));
    let value = fragment.strip_prefix("sha256=").ok_or_else(|| invalid("it should end in #sha256=…".into()))?;
    Fingerprint::parse(value).map(|fingerprint| fingerprint.to_string()).map_err(|err| invalid(err.to_string()))
}

fn normalize_url(typed: &str, input: &str) -> Result<String, AppError> {
    let trimmed = typed.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(AppError::InvalidInput("type the server's address, for example 192.168.1.20:7878".into()));
    }
    let (scheme, rest) = match trimmed.split_once("://") {
        Some(("ws" | "http", rest)) => ("ws", rest),
        Some(("wss" | "https", rest)) => ("wss", rest),
        Some((other, _)) => {
            return Err(AppError::InvalidInput(format!(
                "{other}:// is not a chat address; use ws:// or just host:port"
            )))
        }
        None => ("ws", trimmed),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((authority, path)) => (authority, format!("/{path}")),
        None => (rest, "/ws".to_owned()),
    };
    if authority.is_empty() || authority.contains(char::is_whitespace) {
        return Err(AppError::InvalidInput(format!("{input:?} is not a server address")));
    }
    let has_port = match authority.rsplit_once(':') {
        // An IPv6 literal is bracketed: "[::1]:7878" has a port, "[::1]" does not.
        Some((host, port)) => !host.ends_with(':') && port.parse::<u16>().is_ok() && !authority.ends_with(']'),
        None => false,
    };
    let authority = if has_port { authority.to_owned() } else { format!("{authority}:{DEFAULT_PORT}") };
    Ok(format!("{scheme}://{authority}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_type_becomes_a_websocket_url() {
        for (typed, url) in [
            ("192.168.1.20", "ws://192.168.1.20:7878/ws"),
            (" laptop.local:9000 ", "ws://laptop.local:9000/ws"),
            ("ws://127.0.0.1:7878/ws", "ws://127.0.0.1:7878/ws"),
            ("http://10.0.0.5:7878/", "ws://10.0.0.5:7878/ws"),
            ("wss://school.example/ws", "wss://school.example:7878/ws"),
            ("[::1]:7000", "ws://[::1]:7000/ws"),
            ("[::1]", "ws://[::1]:7878/ws"),
        ] {
            assert_eq!(normalize(typed).expect(typed), Address { url: url.to_owned(), pin: None }, "{typed}");
        }
    }

    #[test]
    fn a_join_link_keeps_its_fingerprint_apart_and_means_tls() {
        let hex = "ab".repeat(32);
        let link = normalize(&format!("wss://10.0.0.2:7878/ws#sha256={hex}")).expect("valid");
        assert_eq!(link, Address { url: "wss://10.0.0.2:7878/ws".into(), pin: Some(hex.clone()) });
        assert_eq!(link.dial(), format!("wss://10.0.0.2:7878/ws#sha256={hex}"));
        assert_eq!(link.host_port(), "10.0.0.2:7878");
        let typed = normalize(&format!("10.0.0.2#sha256={}", hex.to_uppercase())).expect("valid");
        assert_eq!(typed, link, "a pin without a scheme means wss:// and the default port");
        assert_eq!(normalize("[::1]:7000").expect("valid").host_port(), "[::1]:7000");
        assert!(matches!(normalize("wss://h:1/ws#sha256=abc"), Err(AppError::InvalidInput(_))));
        assert!(matches!(normalize("wss://h:1/ws#md5=abc"), Err(AppError::InvalidInput(_))));
    }

    #[test]
    fn nonsense_is_refused_with_a_hint() {
        assert!(matches!(normalize("  "), Err(AppError::InvalidInput(_))));
        assert!(matches!(normalize("ftp://x"), Err(AppError::InvalidInput(_))));
        assert!(matches!(normalize("a b"), Err(AppError::InvalidInput(_))));
    }
}
