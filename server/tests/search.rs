//! Search: FTS5 over stored text, newest first, one conversation at a time, kept up to date by the writer in its
//! idle time (edits and deletions at once), and built for a database from before search existed.

use std::time::Duration;

use parlor_protocol::{ChatMessage, ClientMessage, ErrorCode, ServerEvent};
use parlor_server::{ServerLimits, DATABASE_FILE};

use crate::util::{Client, TestServer};

async fn search(client: &mut Client, room: &str, query: &str, before: Option<u64>) -> (Vec<ChatMessage>, bool) {
    client.send(&ClientMessage::Search { room: room.into(), query: query.into(), before, limit: Some(2) }).await;
    client
        .recv_until(|e| match e {
            ServerEvent::SearchResults { messages, has_more, .. } => Some((messages, has_more)),
            ServerEvent::Error(err) => panic!("search refused: {err:?}"),
            _ => None,
        })
        .await
}

fn texts(found: &[ChatMessage]) -> Vec<&str> {
    found.iter().map(|m| m.text.as_str()).collect()
}

/// Searches until `query` finds `want` messages: the index follows the writer's idle time.
async fn eventually(client: &mut Client, room: &str, query: &str, want: usize) -> Vec<ChatMessage> {
    for _ in 0..100 {
        let (found, _) = search(client, room, query, None).await;
        if found.len() >= want {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{query:?} never found {want} messages in {room}");
}

#[tokio::test]
async fn words_are_found_newest_first_with_pages_in_one_room_only() {
    // Many searches in a row: above the default rate limit.
    let server = TestServer::with_limits(ServerLimits { rate_burst: 100, ..ServerLimits::default() }).await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    ana.send(&ClientMessage::CreateRoom { room: "maths".into(), topic: None, password: None }).await;
    ana.join("maths", None).await;
    for text in ["Homework: fractions, page 12", "no homework today", "Fractions quiz on Friday", "Élève absent"] {
        ana.say("maths", text).await;
    }
    ana.say("lobby", "fractions are fun").await;

    let found = eventually(&mut ana, "maths", "fraction", 2).await;
    assert_eq!(texts(&found), ["Fractions quiz on Friday", "Homework: fractions, page 12"], "prefix, any case");
    let (both, _) = search(&mut ana, "maths", "homework fractions", None).await;
    assert_eq!(texts(&both), ["Homework: fractions, page 12"], "every word must appear");
    let (accents, _) = search(&mut ana, "maths", "eleve", None).await;
    assert_eq!(texts(&accents), ["Élève absent"], "accents do not matter");

    let (first, more) = search(&mut ana, "maths", "homework OR fractions", None).await;
    assert!(first.is_empty() && !more, "OR is a word to find, not an operator");
    for text in ["page one", "page two"] {
        ana.say("maths", text).await;
    }
    let (page, more) = search(&mut ana, "maths", "page", None).await;
    assert_eq!(texts(&page), ["page two", "page one"]);
    assert!(more, "more than one page");
    let (next, more) = search(&mut ana, "maths", "page", Some(page[1].seq)).await;
    assert_eq!((texts(&next), more), (vec!["Homework: fractions, page 12"], false));

    // Found by a fuzzing campaign: a NUL in a query made SQLite's FTS5 fail (storage_failed). Whatever is typed, the
    // answer is results or invalid_query.
    for odd in ["nul\0", "\u{f7dac}\u{202e}x", "\"\"\"", "a\tb\nc", "NEAR(\"x\" y) OR NOT z*", "^a", "col:umn"] {
        ana.send(&ClientMessage::Search {
            room: "maths".into(),
            query: odd.into(),
            before: Some(u64::MAX),
            limit: None,
        })
        .await;
        let answer = ana
            .recv_until(|e| match e {
                ServerEvent::SearchResults { .. } => Some(None),
                ServerEvent::Error(err) => Some(Some(err.code)),
                _ => None,
            })
            .await;
        assert!(matches!(answer, None | Some(ErrorCode::InvalidQuery)), "{odd:?}: {answer:?}");
    }
    for bad in ["* ( ) -", &"word ".repeat(41)] {
        ana.send(&ClientMessage::Search { room: "maths".into(), query: bad.into(), before: None, limit: None }).await;
        ana.expect_error(ErrorCode::InvalidQuery).await;
    }
}

#[tokio::test]
async fn edits_and_deletions_change_what_is_found_and_dms_stay_private() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    let mut cy = server.client("cy").await;
    ana.join("lobby", None).await;
    let seq = ana.say("lobby", "meet at the library").await;
    let gone = ana.say("lobby", "secret plan for the library").await;
    eventually(&mut ana, "lobby", "library", 2).await;
    ana.send(&ClientMessage::Edit { room: "lobby".into(), seq, text: "meet at the gym".into() }).await;
    ana.send(&ClientMessage::Delete { room: "lobby".into(), seq: gone }).await;
    ana.recv_until(|e| matches!(e, ServerEvent::MessageUpdated(m) if m.seq == gone).then_some(())).await;
    let (library, _) = search(&mut ana, "lobby", "library", None).await;
    assert!(library.is_empty(), "the old words and the deleted message are gone: {library:?}");
    assert_eq!(texts(&search(&mut ana, "lobby", "gym", None).await.0), ["meet at the gym"]);

    ana.say("@bo", "psst, the password is swordfish").await;
    assert_eq!(eventually(&mut bo, "@ana", "swordfish", 1).await.len(), 1);
    let (peek, _) = search(&mut cy, "@ana", "swordfish", None).await;
    assert!(peek.is_empty(), "cy searches cy's own conversation with ana, which is empty");
}

#[tokio::test]
async fn the_index_catches_up_after_a_burst_and_is_built_for_an_older_database() {
    let limits = ServerLimits { rate_burst: 1000, rate_per_second: 1000, ..ServerLimits::default() };
    let mut server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    for n in 0..300 {
        ana.send(&ClientMessage::Send {
            room: "lobby".into(),
            text: format!("burst message number{n}"),
            client_id: format!("burst-{n}"),
            poll: None,
            reply_to: None,
            announce: false,
        })
        .await;
    }
    let found = eventually(&mut ana, "lobby", "number299", 1).await;
    assert_eq!(found[0].text, "burst message number299");
    drop(ana);

    // A database from before search existed: no index, schema version 3.
    server.stop().await;
    {
        let db = rusqlite::Connection::open(server.dir.path().join(DATABASE_FILE)).expect("open the database");
        let undo = "DROP TABLE message_search; DROP TABLE room_admissions; ALTER TABLE rooms DROP COLUMN password_hash;
                    PRAGMA user_version = 3;";
        db.execute_batch(undo).expect("back to version 3");
    }
    server.restart_stopped().await;
    let mut bo = server.client("bo").await;
    assert_eq!(eventually(&mut bo, "lobby", "number150", 1).await[0].text, "burst message number150");
}
