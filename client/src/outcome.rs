//! What the end of a connection (or of an attempt) means: try again, or give up because retrying cannot help —
//! and the sentence shown to the user either way.

use parlor_protocol::{CloseCode, ErrorCode, ErrorEvent};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Error as WsError;

/// How one connection (or attempt) ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Ended {
    /// The application asked to stop.
    Stopped,
    /// Lost or refused for a reason that may pass: try again.
    Lost(String),
    /// Refused for a reason retrying cannot fix.
    Final(String),
    /// The server's TLS certificate is not the one trusted: the user must decide.
    Untrusted {
        /// The fingerprint trusted before (or pinned by the join link).
        expected: crate::trust::Fingerprint,
        /// The fingerprint the server presented.
        presented: crate::trust::Fingerprint,
    },
}

/// What a refused `hello` means. Only `nick_taken` after a reconnect is worth retrying: the server may still hold
/// the previous connection, which it has not yet noticed is dead.
pub(crate) fn refused(error: ErrorEvent, first: bool) -> Ended {
    match error.code {
        ErrorCode::NickTaken if !first => {
            Ended::Lost(format!("waiting for the server to let go of the previous connection: {}", error.message))
        }
        ErrorCode::NickTaken
        | ErrorCode::SignInRequired
        | ErrorCode::WrongCredentials
        | ErrorCode::NickClaimed
        | ErrorCode::InvalidNick
        | ErrorCode::PasswordRequired
        | ErrorCode::WrongPassword
        | ErrorCode::UnsupportedVersion => Ended::Final(error.message),
        _ => Ended::Lost(format!("the server refused hello: {}", error.message)),
    }
}

/// What a failed connection attempt means.
pub(crate) fn connect_failed(target: &str, err: WsError, first: bool) -> Ended {
    match err {
        WsError::Io(err) => Ended::Lost(format!("cannot reach {target}: {}", describe_io(&err))),
        WsError::Url(err) => Ended::Final(format!("cannot connect to {target}: {err}")),
        WsError::Http(response) if first => Ended::Final(format!(
            "{target} answered HTTP {} instead of opening a chat connection; check the address (ws://HOST:PORT/ws)",
            response.status()
        )),
        err => Ended::Lost(format!("cannot connect to {target}: {}", describe(&err))),
    }
}

/// What a close frame from the server means: a client bug (1007, 1008, 1009) is final, anything else is retried.
pub(crate) fn closed(frame: Option<CloseFrame>) -> Ended {
    let Some(frame) = frame else {
        return Ended::Lost("the server closed the connection".into());
    };
    let code = u16::from(frame.code);
    let reason = if frame.reason.is_empty() {
        format!("the server closed the connection (code {code})")
    } else {
        format!("the server closed the connection: {}", frame.reason.as_str())
    };
    match CloseCode::from_u16(code) {
        Some(CloseCode::InvalidPayload | CloseCode::PolicyViolation | CloseCode::MessageTooBig) => {
            Ended::Final(format!("{reason} (code {code}); this is a bug in the app"))
        }
        _ => Ended::Lost(reason),
    }
}

pub(crate) fn describe(err: &WsError) -> String {
    match err {
        WsError::Io(err) => describe_io(err),
        WsError::ConnectionClosed | WsError::AlreadyClosed => "the connection was closed".into(),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => "connection reset".into(),
        err => err.to_string(),
    }
}

fn describe_io(err: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let text = match err.kind() {
        ErrorKind::ConnectionRefused => "connection refused",
        ErrorKind::ConnectionReset => "connection reset",
        ErrorKind::ConnectionAborted => "connection aborted",
        ErrorKind::BrokenPipe => "connection broken",
        ErrorKind::TimedOut => "timed out",
        ErrorKind::HostUnreachable => "host unreachable",
        ErrorKind::NetworkUnreachable => "network unreachable",
        ErrorKind::UnexpectedEof => "the connection ended unexpectedly",
        _ => return err.to_string(),
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;

    use super::*;

    fn close(code: u16, reason: &str) -> Ended {
        closed(Some(CloseFrame { code: WsCloseCode::from(code), reason: reason.into() }))
    }

    #[test]
    fn hello_refusals_are_final_except_a_nickname_held_by_our_own_old_connection() {
        let error = |code| ErrorEvent::new(code, "why");
        for code in [ErrorCode::InvalidNick, ErrorCode::PasswordRequired, ErrorCode::WrongPassword] {
            assert_eq!(refused(error(code), true), Ended::Final("why".into()));
            assert_eq!(refused(error(code), false), Ended::Final("why".into()));
        }
        assert_eq!(refused(error(ErrorCode::UnsupportedVersion), false), Ended::Final("why".into()));
        assert_eq!(refused(error(ErrorCode::NickTaken), true), Ended::Final("why".into()));
        assert!(matches!(refused(error(ErrorCode::NickTaken), false), Ended::Lost(_)));
        assert!(matches!(refused(error(ErrorCode::Unavailable), true), Ended::Lost(_)));
    }

    #[test]
    fn only_client_bugs_among_close_codes_are_final() {
        let reason = "the server closed the connection: server is shutting down";
        assert_eq!(close(1001, "server is shutting down"), Ended::Lost(reason.into()));
        for code in [1000, 1011, 1013, 4000, 4001, 4002, 4999] {
            assert!(matches!(close(code, ""), Ended::Lost(_)), "{code}");
        }
        for code in [1007, 1008, 1009] {
            assert!(matches!(close(code, "bad"), Ended::Final(_)), "{code}");
        }
        assert!(matches!(closed(None), Ended::Lost(_)));
    }

    #[test]
    fn failures_read_well() {
        let refused = WsError::Io(std::io::ErrorKind::ConnectionRefused.into());
        let expected = "cannot reach 127.0.0.1:7878: connection refused";
        assert_eq!(connect_failed("127.0.0.1:7878", refused, true), Ended::Lost(expected.into()));
        let no_tls = WsError::Url(tokio_tungstenite::tungstenite::error::UrlError::TlsFeatureNotEnabled);
        assert!(matches!(connect_failed("x:1", no_tls, false), Ended::Final(_)));
        assert_eq!(describe(&WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)), "connection reset");
    }
}
