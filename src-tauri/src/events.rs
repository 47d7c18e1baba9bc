//! What travels to the UI on the event channel: the client core's events as they are, plus the shell's own.

use parlor_client::ClientEvent;
use serde::Serialize;

/// One event for the UI (see docs/APP-BRIDGE.md).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UiEvent {
    /// From the connection: state, server events, queued messages.
    Client(ClientEvent),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_events_are_tagged_like_client_events() {
        let json = serde_json::to_value(UiEvent::Prefs(PrefsChanged { dnd: true, muted: vec!["lobby".into()] }))
            .expect("serialise");
        assert_eq!(json, serde_json::json!({"kind": "prefs", "dnd": true, "muted": ["lobby"]}));
    }
}
