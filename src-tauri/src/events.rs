//! What travels to the UI on the event channel: the client core's events, minus their secrets, plus the shell's own.
//!
//! Session tokens stop here. The webview runs whatever the page runs, and a page showing other people's messages
//! is the one place a bug could let someone else's text act; so it never holds a secret worth stealing.
//! [`for_ui`] takes the token out of `welcome` (a sign-in) and `registered`, for the shell to keep in the keyring.

use parlor_client::{ClientEvent, Password};
use parlor_protocol::ServerEvent;
use serde::Serialize;

/// One event for the UI (see docs/APP-BRIDGE.md).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UiEvent {
    /// From the connection: state, server events, queued messages (never with a session token in them). Boxed: a
    /// message with a poll is large, and the other variants are small.
    Client(Box<ClientEvent>),
    /// The server's `registered` without its token: `{"kind":"server","event":{"type":"registered","nick":…}}`.
    Registered(RegisteredForUi),
    /// Notification settings changed outside the UI (from the tray menu).
    Prefs(PrefsChanged),
}

/// `{"kind":"prefs","dnd":true,"muted":["lobby"]}`.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename = "prefs")]
pub struct PrefsChanged {
    /// Do not disturb.
    pub dnd: bool,
    /// Muted rooms.
    pub muted: Vec<String>,
}

/// A `server` event carrying `registered` as the UI sees it.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename = "server")]
pub struct RegisteredForUi {
    /// The event.
    pub event: Registered,
}

/// `{"type":"registered","nick":"ana"}`: the nickname is now an account.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "registered")]
pub struct Registered {
    /// The nickname registered.
    pub nick: String,
}

/// Splits a client event into what the UI may see and the session token it carried, if any (a `welcome` after a
/// password sign-in, or `registered`).
pub fn for_ui(event: ClientEvent) -> (UiEvent, Option<Password>) {
    match event {
        ClientEvent::Server { event: ServerEvent::Welcome(mut welcome) } => {
            let token = welcome.session_token.take().and_then(|token| Password::new(token.expose()));
            (UiEvent::Client(Box::new(ClientEvent::Server { event: ServerEvent::Welcome(welcome) })), token)
        }
        ClientEvent::Server { event: ServerEvent::Registered { nick, token } } => {
            (UiEvent::Registered(RegisteredForUi { event: Registered { nick } }), Password::new(token.expose()))
        }
        other => (UiEvent::Client(Box::new(other)), None),
    }
}

#[cfg(test)]
mod tests {
    use parlor_protocol::{IdentityKind, Secret, Welcome};

    use super::*;

    const TOKEN: &str = "tok_4f9a0c2e7b1d";

    fn welcome(token: Option<&str>) -> ClientEvent {
        let limits = parlor_server::ServerLimits::default().to_wire();
        let welcome = Welcome {
            protocol: 1,
            server: "parlor-server/0.1.0".into(),
            nick: "ana".into(),
            limits,
            rooms: vec![],
            dms: vec![],
            identity: IdentityKind::Account,
            session_token: token.map(Secret::new),
        };
        ClientEvent::Server { event: ServerEvent::Welcome(welcome) }
    }

    fn json(event: &UiEvent) -> String {
        serde_json::to_string(event).expect("serialise")
    }

    #[test]
    fn a_sign_in_token_is_kept_by_the_shell_and_never_reaches_the_ui() {
        let (ui, token) = for_ui(welcome(Some(TOKEN)));
        assert_eq!(token.as_ref().map(Password::expose), Some(TOKEN));
        let text = json(&ui);
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("session_token"), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(value["kind"], "server");
        assert_eq!(value["event"]["type"], "welcome");
        assert_eq!(value["event"]["identity"], "account", "the UI still learns how the nickname is held");
        assert_eq!(value["event"]["nick"], "ana");

        let (ui, token) = for_ui(welcome(None));
        assert_eq!(token, None);
        assert!(!json(&ui).contains("session_token"));
    }

    #[test]
    fn a_registration_token_is_kept_by_the_shell_and_never_reaches_the_ui() {
        let registered =
            ClientEvent::Server { event: ServerEvent::Registered { nick: "ana".into(), token: Secret::new(TOKEN) } };
        let (ui, token) = for_ui(registered);
        assert_eq!(token.as_ref().map(Password::expose), Some(TOKEN));
        assert_eq!(
            serde_json::to_value(&ui).expect("serialise"),
            serde_json::json!({"kind": "server", "event": {"type": "registered", "nick": "ana"}})
        );
    }

    #[test]
    fn other_events_pass_unchanged() {
        let logged_out = ClientEvent::Server { event: ServerEvent::LoggedOut { sessions: 2 } };
        let (ui, token) = for_ui(logged_out.clone());
        assert_eq!(token, None);
        assert_eq!(
            serde_json::to_value(&ui).expect("serialise"),
            serde_json::to_value(&logged_out).expect("serialise")
        );
    }

    #[test]
    fn shell_events_are_tagged_like_client_events() {
        let json = serde_json::to_value(UiEvent::Prefs(PrefsChanged { dnd: true, muted: vec!["lobby".into()] }))
            .expect("serialise");
        assert_eq!(json, serde_json::json!({"kind": "prefs", "dnd": true, "muted": ["lobby"]}));
    }
}
