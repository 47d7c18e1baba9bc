//! The session driven directly: frames out, events in, no sockets.

use std::sync::{Arc, Mutex};

use parlor_protocol::{Ack, ChatMessage, DmInfo, Joined};
use tokio::sync::mpsc;

use super::*;
use crate::event::ClientEvent;
use crate::outbox::Outbox;
use crate::tracker::Tracker;

struct Harness {
    core: Core,
    events: mpsc::UnboundedReceiver<ClientEvent>,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let outbox = Outbox::open(dir.path(), "ws://test/ws", "ana").expect("outbox");
        let (events_tx, events) = mpsc::unbounded_channel();
        let core = Core {
            tracker: Tracker::default(),
            outbox: Arc::new(Mutex::new(outbox)),
            limits: Arc::new(Mutex::new(crate::config::default_limits())),
            events: events_tx,
        };
        Self { core, events, _dir: dir }
    }

    fn queue(&self, client_id: &str, room: &str, text: &str) {
        let message = PendingMessage {
            client_id: client_id.into(),
            room: room.into(),
            text: text.into(),
            poll: None,
            reply_to: None,
            announce: false,
        };
        self.core.outbox.lock().expect("lock").push(&message).expect("push");
    }

    fn pending(&self) -> Vec<String> {
        let all = self.core.outbox.lock().expect("lock").all().expect("read");
        all.into_iter().map(|m| m.client_id).collect()
    }

    /// Every server event forwarded so far.
    fn forwarded(&mut self) -> Vec<ServerEvent> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            if let ClientEvent::Server { event } = event {
                out.push(event);
            }
        }
        out
    }
}

fn welcome(dms: Vec<DmInfo>) -> Welcome {
    Welcome {
        protocol: 1,
        server: "test".into(),
        nick: "ana".into(),
        limits: crate::config::default_limits(),
        rooms: Vec::new(),
        dms,
        identity: parlor_protocol::IdentityKind::Guest,
        session_token: None,
    }
}

/// Every frame the pacer lets out at `now`.
fn frames(session: &mut Session, now: Instant) -> Vec<ClientMessage> {
    let mut out = Vec::new();
    while let Next::Send(frame) = session.next(now) {
        out.push(frame);
    }
    out
}

fn join(room: &str, after: Option<u64>) -> ClientMessage {
    ClientMessage::Join { room: room.into(), after, after_rev: None, password: None }
}

fn send(client_id: &str, room: &str, text: &str) -> ClientMessage {
    ClientMessage::Send {
        room: room.into(),
        text: text.into(),
        client_id: client_id.into(),
        poll: None,
        reply_to: None,
        announce: false,
    }
}

fn joined(room: &str, last_seq: u64) -> ServerEvent {
    ServerEvent::Joined(Joined {
        room: room.into(),
        topic: String::new(),
        members: vec![],
        last_seq,
        gap: None,
        last_rev: 0,
        updates_dropped: false,
    })
}

fn message(room: &str, seq: u64) -> ServerEvent {
    ServerEvent::Message(ChatMessage {
        room: room.into(),
        id: i64::try_from(seq).expect("small"),
        seq,
        from: "bob".into(),
        text: format!("m{seq}"),
        ts: 0,
        client_id: format!("b{seq}"),
        ..ChatMessage::default()
    })
}

fn ack(client_id: &str, room: &str, seq: u64, duplicate: bool) -> ServerEvent {
    ServerEvent::Ack(Ack { client_id: client_id.into(), room: room.into(), id: 1, seq, ts: 0, duplicate })
}

fn refusal(code: ErrorCode, client_id: Option<&str>, room: &str) -> ServerEvent {
    let mut error = ErrorEvent::new(code, "no").in_room(room);
    error.client_id = client_id.map(str::to_owned);
    ServerEvent::Error(error)
}

#[test]
fn a_reconnect_rejoins_replays_then_resends_one_at_a_time() {
    let mut h = Harness::new();
    h.core.tracker.join("lobby");
    h.core.tracker.joined("lobby", None, 3);
    h.queue("c1", "lobby", "one");
    h.queue("c2", "@bob", "two");
    let now = Instant::now();
    let mut session = Session::start(&mut h.core, &welcome(vec![]), None, now);
    // The lobby message waits for the rejoin's answer.
    assert_eq!(frames(&mut session, now), [join("lobby", Some(3))]);
    session.on_event(&mut h.core, joined("lobby", 5), now);
    for seq in [4, 5, 5] {
        session.on_event(&mut h.core, message("lobby", seq), now);
    }
    assert_eq!(frames(&mut session, now), [send("c1", "lobby", "one")]);
    session.on_event(&mut h.core, ack("c1", "lobby", 6, false), now);
    // Only after the ack does the next message go out.
    assert_eq!(frames(&mut session, now), [send("c2", "@bob", "two")]);
    session.on_event(&mut h.core, message("lobby", 6), now);
    // A second ack for c1 (after a resend) is neither repeated nor harmful.
    session.on_event(&mut h.core, ack("c1", "lobby", 6, true), now);
    assert_eq!(h.pending(), ["c2"]);
    let forwarded = h.forwarded();
    let seqs: Vec<u64> =
        forwarded.iter().filter_map(|e| if let ServerEvent::Message(m) = e { Some(m.seq) } else { None }).collect();
    assert_eq!(seqs, [4, 5, 6], "the duplicate 5 is dropped");
    let acks = forwarded.iter().filter(|e| matches!(e, ServerEvent::Ack(_))).count();
    assert_eq!(acks, 1);
}

#[test]
fn unread_direct_conversations_are_caught_up() {
    let mut h = Harness::new();
    let now = Instant::now();
    let dms = vec![DmInfo { room: "@bob".into(), last_seq: 4 }, DmInfo { room: "@cy".into(), last_seq: 0 }];
    let mut session = Session::start(&mut h.core, &welcome(dms), None, now);
    assert_eq!(frames(&mut session, now), [join("@bob", Some(0))]);
    session.on_event(&mut h.core, joined("@bob", 4), now);
    for seq in 1..=4 {
        session.on_event(&mut h.core, message("@bob", seq), now);
    }
    assert_eq!(h.forwarded().len(), 5, "joined and four replayed messages");
}

#[test]
fn a_message_left_by_an_earlier_run_joins_its_room_first() {
    let mut h = Harness::new();
    h.queue("c1", "lobby", "one");
    h.queue("c2", "gone", "two");
    let now = Instant::now();
    let mut session = Session::start(&mut h.core, &welcome(vec![]), None, now);
    assert_eq!(frames(&mut session, now), [join("lobby", None)]);
    session.on_event(&mut h.core, joined("lobby", 9), now);
    assert_eq!(frames(&mut session, now), [send("c1", "lobby", "one")]);
    session.on_event(&mut h.core, ack("c1", "lobby", 10, false), now);
    assert_eq!(frames(&mut session, now), [join("gone", None)]);
    // The room no longer exists: the message goes out anyway, is refused for good, and the user is told.
    session.on_event(&mut h.core, refusal(ErrorCode::NoSuchRoom, None, "gone"), now);
    assert_eq!(frames(&mut session, now), [send("c2", "gone", "two")]);
    session.on_event(&mut h.core, refusal(ErrorCode::NotInRoom, Some("c2"), "gone"), now);
    assert!(h.pending().is_empty());
    let errors: Vec<ServerEvent> = h.forwarded().into_iter().filter(|e| matches!(e, ServerEvent::Error(_))).collect();
    assert_eq!(
        errors,
        [refusal(ErrorCode::NoSuchRoom, None, "gone"), refusal(ErrorCode::NotInRoom, Some("c2"), "gone")]
    );
}

#[test]
fn storage_failures_keep_the_message_and_retry() {
    let mut h = Harness::new();
    h.queue("c1", "@bob", "one");
    let now = Instant::now();
    let mut session = Session::start(&mut h.core, &welcome(vec![]), None, now);
    assert_eq!(frames(&mut session, now), [send("c1", "@bob", "one")]);
    session.on_event(&mut h.core, refusal(ErrorCode::StorageFailed, Some("c1"), "@bob"), now);
    assert_eq!(h.pending(), ["c1"]);
    assert_eq!(session.retry_at(), Some(now + STORAGE_RETRY));
    assert_eq!(session.next(now), Next::Idle);
    session.retry(&mut h.core);
    assert_eq!(frames(&mut session, now + STORAGE_RETRY), [send("c1", "@bob", "one")]);
}

#[test]
fn rate_limited_pauses_everything_then_resends_from_the_oldest() {
    let mut h = Harness::new();
    h.queue("c1", "@bob", "one");
    h.queue("c2", "@bob", "two");
    let now = Instant::now();
    let mut session = Session::start(&mut h.core, &welcome(vec![]), None, now);
    assert_eq!(frames(&mut session, now), [send("c1", "@bob", "one")]);
    let mut limited = ErrorEvent::new(ErrorCode::RateLimited, "slow down");
    limited.retry_after_ms = Some(300);
    session.on_event(&mut h.core, ServerEvent::Error(limited), now);
    session.on_command(&mut h.core, Command::Request(ClientMessage::ListRooms));
    let resume = now + Duration::from_millis(300);
    assert_eq!(session.next(now), Next::Wait(resume));
    session.retry(&mut h.core);
    // The list request, then c1 again (c2 still waits for c1's answer); the emptied pacer spaces them out.
    let mut sent = frames(&mut session, resume);
    sent.extend(frames(&mut session, resume + Duration::from_secs(1)));
    assert_eq!(sent, [ClientMessage::ListRooms, send("c1", "@bob", "one")]);
    assert!(h.forwarded().is_empty(), "rate limiting is handled, not shown");
}

#[test]
fn messages_too_large_for_the_server_are_refused_locally() {
    let mut h = Harness::new();
    h.queue("c1", "@bob", &"é".repeat(9000));
    h.queue("c2", "@bob", "fine");
    let now = Instant::now();
    let mut session = Session::start(&mut h.core, &welcome(vec![]), None, now);
    assert_eq!(frames(&mut session, now), [send("c2", "@bob", "fine")]);
    let forwarded = h.forwarded();
    assert!(
        matches!(&forwarded[..], [ServerEvent::Error(e)] if e.code == ErrorCode::FrameTooLarge && e.client_id.as_deref() == Some("c1")),
        "{forwarded:?}"
    );
}

#[test]
fn joins_and_leaves_while_online() {
    let mut h = Harness::new();
    let now = Instant::now();
    let mut session = Session::start(&mut h.core, &welcome(vec![]), None, now);
    session.on_command(&mut h.core, Command::Join("maths".into(), None));
    // A second join while the first is unanswered is not sent twice.
    session.on_command(&mut h.core, Command::Join("maths".into(), None));
    session.on_command(&mut h.core, Command::Leave("lobby".into()));
    assert_eq!(frames(&mut session, now), [join("maths", None), ClientMessage::Leave { room: "lobby".into() }]);
    assert_eq!(h.core.tracker.rooms(), ["maths"]);
}

#[test]
fn a_moderator_token_is_sent_before_the_rejoins() {
    let mut h = Harness::new();
    h.core.tracker.join("lobby");
    h.core.tracker.joined("lobby", None, 3);
    let now = Instant::now();
    let token = Secret::new("the host's token".to_owned());
    let mut session = Session::start(&mut h.core, &welcome(vec![]), Some(token.clone()), now);
    assert_eq!(frames(&mut session, now), [ClientMessage::Moderate { token }, join("lobby", Some(3))]);
}

#[test]
fn a_room_password_goes_with_the_join_until_the_room_is_entered() {
    let mut h = Harness::new();
    let now = Instant::now();
    let mut session = Session::start(&mut h.core, &welcome(vec![]), None, now);
    let password = Secret::new("blue whale".to_owned());
    session.on_command(&mut h.core, Command::Join("maths".into(), Some(password.clone())));
    let with_password =
        ClientMessage::Join { room: "maths".into(), after: None, after_rev: None, password: Some(password) };
    assert_eq!(frames(&mut session, now), std::slice::from_ref(&with_password));
    // Rate limited before the answer: the join goes again, password included.
    let limited = ErrorEvent { retry_after_ms: Some(10), ..ErrorEvent::new(ErrorCode::RateLimited, "slow down") };
    session.on_event(&mut h.core, ServerEvent::Error(limited), now);
    session.retry(&mut h.core);
    let later = now + std::time::Duration::from_secs(1);
    assert_eq!(frames(&mut session, later), [with_password]);
    session.on_event(&mut h.core, joined("maths", 4), later);
    // Entered: a rejoin after a reconnect carries no password (the server remembers who entered).
    let mut next = Session::start(&mut h.core, &welcome(vec![]), None, later);
    let rejoin = ClientMessage::Join { room: "maths".into(), after: Some(4), after_rev: Some(0), password: None };
    assert_eq!(frames(&mut next, later), [rejoin]);
}

#[test]
fn a_room_the_server_took_the_user_out_of_is_not_rejoined() {
    let mut h = Harness::new();
    let now = Instant::now();
    let mut session = Session::start(&mut h.core, &welcome(vec![]), None, now);
    session.on_command(&mut h.core, Command::Join("maths".into(), None));
    session.on_event(&mut h.core, joined("maths", 2), now);
    assert_eq!(h.core.tracker.rooms(), ["maths"]);
    // A moderator removed the user: `left` arrives without a `leave`.
    session.on_event(&mut h.core, ServerEvent::Left { room: "maths".into() }, now);
    assert!(h.core.tracker.rooms().is_empty(), "not rejoined after the next reconnect");
    // Joining again (once readmitted) is the user's choice, and a stale `left` does not undo it.
    session.on_command(&mut h.core, Command::Join("maths".into(), None));
    session.on_event(&mut h.core, ServerEvent::Left { room: "maths".into() }, now);
    assert_eq!(h.core.tracker.rooms(), ["maths"]);
}
