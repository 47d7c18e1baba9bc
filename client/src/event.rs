//! What the client tells the application: one stream of [`ClientEvent`]s, serialised exactly as the UI bridge
//! expects (`docs/APP-BRIDGE.md`, "Events: one stream"), so the desktop shell can forward them unchanged.

use parlor_protocol::{PollSpec, ServerEvent};
use serde::{Deserialize, Serialize};

/// One thing the application should know about, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClientEvent {
    /// The connection's state changed: `{"kind":"state","state":"online"}`.
    State(ConnectionState),
    /// Something the server said, with duplicated `message`s already filtered out.
    Server {
        /// The event exactly as on the wire.
        event: ServerEvent,
    },
    /// A message is safe in the outbox and not yet acknowledged: show it as pending until the `ack` with the same
    /// `client_id`. Also emitted at start for messages a previous run left unsent.
    Queued {
        /// The id the message is sent with (a UUID).
        client_id: String,
        /// The room or `@nick`, folded to lowercase as the server names it.
        room: String,
        /// The text as typed.
        text: String,
        /// A poll the message asks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poll: Option<PollSpec>,
        /// The `seq` of the message it answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<u64>,
        /// An announcement to acknowledge.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        announce: bool,
    },
}

/// Whether the client is connected, for the banner; `Offline` is final until the application starts a new client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// The first attempt is under way.
    Connecting,
    /// Greeted by the server: requests go out at once.
    Online,
    /// The connection was lost or could not be made; the next attempt starts in `retry_in_ms`.
    Reconnecting {
        /// How many attempts have failed since the last time the client was online (1, 2, …).
        attempt: u32,
        /// How long until the next attempt, in milliseconds.
        retry_in_ms: u64,
        /// What went wrong, for people.
        reason: String,
    },
    /// Stopped for good because the server's certificate changed: connect again only after the user compared
    /// `presented` with the host and trusted it (`trust_fingerprint`).
    Untrusted {
        /// What happened and what to do, for people.
        reason: String,
        /// The fingerprint trusted before, grouped by four digits.
        expected: String,
        /// The fingerprint the server presented now, grouped by four digits.
        presented: String,
    },
    /// Stopped for good: retrying cannot help (wrong password, nickname taken, …) or the application disconnected.
    Offline {
        /// Why, for people.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use parlor_protocol::{ErrorCode, ErrorEvent};
    use serde_json::json;

    use super::*;

    fn json_of(event: &ClientEvent) -> serde_json::Value {
        serde_json::to_value(event).expect("serialise")
    }

    #[test]
    fn state_events_have_the_bridge_shape() {
        assert_eq!(
            json_of(&ClientEvent::State(ConnectionState::Connecting)),
            json!({"kind": "state", "state": "connecting"})
        );
        assert_eq!(json_of(&ClientEvent::State(ConnectionState::Online)), json!({"kind": "state", "state": "online"}));
        let reconnecting = ConnectionState::Reconnecting {
            attempt: 2,
            retry_in_ms: 1500,
            reason: "cannot reach 127.0.0.1:7878: connection refused".into(),
        };
        assert_eq!(
            json_of(&ClientEvent::State(reconnecting)),
            json!({"kind": "state", "state": "reconnecting", "attempt": 2, "retry_in_ms": 1500,
                   "reason": "cannot reach 127.0.0.1:7878: connection refused"})
        );
        let offline = ConnectionState::Offline {
            reason: "the nickname \"ana\" is in use by someone online; choose another".into(),
        };
        assert_eq!(
            serde_json::to_string(&ClientEvent::State(offline)).expect("serialise"),
            r#"{"kind":"state","state":"offline","reason":"the nickname \"ana\" is in use by someone online; choose another"}"#
        );
    }

    #[test]
    fn server_and_queued_events_have_the_bridge_shape() {
        let error = ServerEvent::Error(ErrorEvent::new(ErrorCode::RoomExists, "join it instead").in_room("maths"));
        assert_eq!(
            json_of(&ClientEvent::Server { event: error }),
            json!({"kind": "server", "event": {"type": "error", "code": "room_exists", "message": "join it instead",
                                                "room": "maths"}})
        );
        let queued = ClientEvent::Queued {
            client_id: "c-1".into(),
            room: "@bob".into(),
            text: "hi".into(),
            poll: None,
            reply_to: None,
            announce: false,
        };
        assert_eq!(json_of(&queued), json!({"kind": "queued", "client_id": "c-1", "room": "@bob", "text": "hi"}));
    }

    #[test]
    fn events_round_trip() {
        let events = [
            ClientEvent::State(ConnectionState::Offline { reason: "wrong password".into() }),
            ClientEvent::Server { event: ServerEvent::Left { room: "lobby".into() } },
            ClientEvent::Queued {
                client_id: "c".into(),
                room: "lobby".into(),
                text: "t".into(),
                poll: Some(PollSpec { options: vec!["a".into(), "b".into()], multiple: false }),
                reply_to: Some(2),
                announce: true,
            },
        ];
        for event in events {
            let text = serde_json::to_string(&event).expect("serialise");
            assert_eq!(serde_json::from_str::<ClientEvent>(&text).expect("deserialise"), event, "{text}");
        }
    }
}
