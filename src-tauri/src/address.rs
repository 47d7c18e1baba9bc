//! Turning what a person types ("192.168.1.20", "laptop.local:7878", "ws://…/ws") into the URL the client dials.

use crate::error::AppError;

/// The port a Parlor server uses unless told otherwise.
const DEFAULT_PORT: u16 = 7878;

/// Normalises a server address into `ws://host:port/ws` (or `wss://`), so profiles compare equal however they were
/// typed.
pub fn normalize(input: &str) -> Result<String, AppError> {
    let trimmed = input.trim().trim_end_matches('/');
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
            assert_eq!(normalize(typed).expect(typed), url, "{typed}");
        }
    }

    #[test]
    fn nonsense_is_refused_with_a_hint() {
        assert!(matches!(normalize("  "), Err(AppError::InvalidInput(_))));
        assert!(matches!(normalize("ftp://x"), Err(AppError::InvalidInput(_))));
        assert!(matches!(normalize("a b"), Err(AppError::InvalidInput(_))));
    }
}
