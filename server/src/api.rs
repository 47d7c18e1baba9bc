//! The HTTP API for scripts that would rather not hold a WebSocket: `POST /api/v1/rooms/{room}/messages` with a
//! bot's token (`Authorization: Bearer …`) and a JSON body — `{"text": "…"}` posts a message (stored, acked,
//! numbered like any other), `{"points": {"series": 1.5}}` publishes live data. Answers are JSON: the stored
//! message's `seq` and `id`, or `{"code", "message"}` with the same codes as the WebSocket protocol.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use parlor_protocol::series::{validate_points, DataPoints};
use parlor_protocol::{names, Conversation, ErrorCode, Points, ServerEvent};
use serde::Deserialize;

use crate::outbox::outbox;
use crate::rules::Refusal;
use crate::server::Shared;
use crate::store::{now_ms, Append, Op};

type Body = Full<Bytes>;

/// How long a post waits for the store's answer before giving up.
const STORE_WAIT: Duration = Duration::from_secs(10);

/// The path prefix and suffix around the room name.
const PREFIX: &str = "/api/v1/rooms/";
const SUFFIX: &str = "/messages";

/// A request body: text to post, or points to publish.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Post {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    points: Option<Points>,
    /// The script's id for the message, so a retried POST is not stored twice (default: a fresh one).
    #[serde(default)]
    client_id: Option<String>,
}

/// The room named by an API path, if the path is one.
pub(crate) fn room_of(path: &str) -> Option<&str> {
    path.strip_prefix(PREFIX)?.strip_suffix(SUFFIX).filter(|room| !room.contains('/'))
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn refusal(code: ErrorCode, message: impl Into<String>) -> Response<Body> {
    let status = match code {
        ErrorCode::WrongCredentials | ErrorCode::SignInRequired => StatusCode::UNAUTHORIZED,
        ErrorCode::NoSuchRoom => StatusCode::NOT_FOUND,
        ErrorCode::RoomLocked | ErrorCode::Muted => StatusCode::FORBIDDEN,
        ErrorCode::SlowMode | ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::FrameTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::StorageFailed | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    json(status, serde_json::json!({ "code": code.as_str(), "message": message.into() }))
}

/// Answers `POST /api/v1/rooms/{room}/messages`.
pub(crate) async fn post(req: Request<Incoming>, room: String, shared: &Shared) -> Response<Body> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_owned);
    let Some(token) = bearer else {
        let message = "send the bot's token as `Authorization: Bearer TOKEN` (the host makes one with `parlor-server bot add NAME`)";
        return refusal(ErrorCode::SignInRequired, message);
    };
    let (key, nick) = match shared.accounts.bearer(&token).await {
        Ok(Some(account)) => account,
        Ok(None) => return refusal(ErrorCode::WrongCredentials, "that token is unknown or was revoked"),
        Err(err) => {
            tracing::error!(%err, "account lookup failed");
            return refusal(ErrorCode::StorageFailed, "the server could not check the token; try again");
        }
    };
    let room = match Conversation::parse(&room) {
        Ok(Conversation::Room(room)) if shared.hub.room_exists(&room) => room,
        Ok(Conversation::Room(_)) => return refusal(ErrorCode::NoSuchRoom, "there is no room with that name"),
        _ => return refusal(ErrorCode::InvalidRoom, "name a room in the path: /api/v1/rooms/ROOM/messages"),
    };
    let limit = shared.limits.max_frame_bytes;
    let body = match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return refusal(ErrorCode::FrameTooLarge, format!("a request body is at most {limit} bytes")),
    };
    let post: Post = match serde_json::from_slice(&body) {
        Ok(post) => post,
        Err(err) => {
            let message = format!("the body must be JSON {{\"text\": …}} or {{\"points\": {{…}}}}: {err}");
            return refusal(ErrorCode::BadMessage, message);
        }
    };
    match post {
        Post { text: Some(text), points: None, client_id } => post_text(shared, room, key, nick, text, client_id).await,
        Post { text: None, points: Some(points), client_id: None } => publish(shared, &room, &key, nick, points),
        _ => refusal(ErrorCode::BadMessage, "send either \"text\" or \"points\", not both"),
    }
}

fn publish(shared: &Shared, room: &str, key: &str, nick: String, points: Points) -> Response<Body> {
    if !validate_points(&points) {
        return refusal(ErrorCode::InvalidData, "publish 1 to 8 series, each named by one short line, with a number");
    }
    match shared.hub.silenced(room, key, false) {
        Some(Refusal::Muted) => return refusal(ErrorCode::Muted, format!("a moderator muted this bot in {room:?}")),
        Some(_) => return refusal(ErrorCode::RoomLocked, format!("{room:?} is locked: only moderators may post")),
        None => {}
    }
    let event = ServerEvent::Data(DataPoints { room: room.to_owned(), from: nick, ts: now_ms(), points });
    match shared.hub.publish(room, None, &event) {
        Ok(()) => json(StatusCode::ACCEPTED, serde_json::json!({ "published": true })),
        Err(_) => refusal(ErrorCode::NoSuchRoom, "there is no room with that name"),
    }
}

async fn post_text(
    shared: &Shared,
    room: String,
    key: String,
    nick: String,
    text: String,
    client_id: Option<String>,
) -> Response<Body> {
    let max = shared.limits.max_text_chars;
    if text.chars().count() > max {
        return refusal(ErrorCode::TextTooLong, format!("a message is at most {max} characters"));
    }
    if !names::is_displayable_text(&text) {
        return refusal(ErrorCode::InvalidText, "a message needs visible text and no control characters");
    }
    let client_id = match client_id {
        Some(id) if names::validate_client_id(&id) => id,
        Some(_) => return refusal(ErrorCode::InvalidClientId, "client_id must be 1 to 64 printable ASCII characters"),
        None => match crate::accounts::token::new_token() {
            Some(token) => format!("http-{}", &token[..32]),
            None => return refusal(ErrorCode::Unavailable, "the server could not make an id; try again"),
        },
    };
    // The poster is not a connection: it gets a handle of its own for the store's one answer.
    let (handle, mut answers) = outbox(shared.hub.next_peer_id(), shared.limits.outbound_queue_bytes);
    if let Err(refused) = shared.hub.admit_post(&room, handle.id(), &key, false) {
        return match refused {
            Refusal::Locked => refusal(ErrorCode::RoomLocked, format!("{room:?} is locked: only moderators may post")),
            Refusal::SlowMode(wait) => {
                refusal(ErrorCode::SlowMode, format!("slow mode: wait {} s", wait.as_secs() + 1))
            }
            Refusal::Muted => refusal(ErrorCode::Muted, format!("a moderator muted this bot in {room:?}")),
        };
    }
    let append = Append {
        handle,
        nick,
        key,
        conversation: Conversation::Room(room),
        text,
        client_id: client_id.clone(),
        // Not a member, and need not be: the token is the permission.
        member_on_arrival: true,
        poll: None,
        reply_to: None,
        announce: false,
    };
    if shared.store.submit(Op::Append(append)).await.is_err() {
        return refusal(ErrorCode::Unavailable, "the server is shutting down; try again soon");
    }
    let answer = tokio::time::timeout(STORE_WAIT, answers.recv()).await;
    let event = match answer {
        Ok(Some(frame)) => serde_json::from_str::<ServerEvent>(frame.as_str()).ok(),
        _ => None,
    };
    match event {
        Some(ServerEvent::Ack(ack)) => {
            let status = if ack.duplicate { StatusCode::OK } else { StatusCode::CREATED };
            json(status, serde_json::json!({ "room": ack.room, "seq": ack.seq, "id": ack.id, "client_id": client_id }))
        }
        Some(ServerEvent::Error(error)) => refusal(error.code, error.message),
        _ => refusal(ErrorCode::Unavailable, "the server did not answer in time; retry with the same client_id"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_messages_path_names_a_room() {
        assert_eq!(room_of("/api/v1/rooms/lab/messages"), Some("lab"));
        assert_eq!(room_of("/api/v1/rooms/lab/x/messages"), None);
        assert_eq!(room_of("/api/v1/rooms/lab"), None);
        assert_eq!(room_of("/api/v2/rooms/lab/messages"), None);
    }
}
