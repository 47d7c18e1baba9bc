//! A commit that fails: every sender in the batch hears `storage_failed`, nothing is posted, and resending the same
//! `client_id` later stores the message once. The failure is real SQLite behaviour on the server's own file: another
//! connection adds a trigger that aborts inserts, as a full disk or a broken file would abort them.

use parlor_protocol::{ClientMessage, ErrorCode, ServerEvent};
use parlor_server::DATABASE_FILE;

use crate::util::TestServer;

fn database(server: &TestServer) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(server.dir.path().join(DATABASE_FILE)).expect("open the server's database");
    conn.busy_timeout(std::time::Duration::from_secs(5)).expect("busy timeout");
    conn
}

#[tokio::test]
async fn a_failed_commit_is_reported_to_every_sender_and_a_resend_stores_once() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    let mut bo = server.client("bo").await;
    ana.join("lobby", None).await;
    bo.join("lobby", None).await;
    let first = ana.say("lobby", "before the failure").await;

    database(&server)
        .execute_batch("CREATE TRIGGER fail BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk is full'); END;")
        .expect("add the failing trigger");
    for (client, id) in [(&mut ana, "fail-a"), (&mut bo, "fail-b")] {
        let send = ClientMessage::Send {
            room: "lobby".into(),
            text: format!("{id} text"),
            client_id: id.into(),
            poll: None,
            reply_to: None,
            announce: false,
        };
        client.send(&send).await;
    }
    for (client, id) in [(&mut ana, "fail-a"), (&mut bo, "fail-b")] {
        let refusal = client.expect_error(ErrorCode::StorageFailed).await;
        assert_eq!(refusal.client_id.as_deref(), Some(id));
    }

    database(&server).execute_batch("DROP TRIGGER fail;").expect("remove the trigger");
    let again = ana.say_with_id("lobby", "fail-a text", "fail-a").await;
    assert!(!again.duplicate, "nothing was stored by the failed commit");
    assert_eq!(again.seq, first + 1, "numbering stays gap-free after a rollback");
    let resent = ana.say_with_id("lobby", "fail-a text", "fail-a").await;
    assert!(resent.duplicate && resent.seq == again.seq);
    // bo sees the message once, with the sequence it was acked with.
    let seen = bo
        .recv_until(|e| match e {
            ServerEvent::Message(m) if m.client_id == "fail-a" => Some(m.seq),
            _ => None,
        })
        .await;
    assert_eq!(seen, again.seq);
}

/// The names of the columns every index of `messages` covers.
fn indexed_columns(conn: &rusqlite::Connection) -> Vec<String> {
    let sql = "SELECT i.name FROM pragma_index_list('messages') AS l, pragma_index_info(l.name) AS i";
    let mut stmt = conn.prepare(sql).expect("list the indexes");
    let columns = stmt.query_map([], |row| row.get(0)).expect("read the indexes");
    columns.collect::<rusqlite::Result<_>>().expect("index columns")
}

/// Before schema version 6 a UNIQUE index on (sender_key, client_id) kept resends out; the upgrade drops it, keeps
/// every message's id and seq, and a resend of a message stored before the upgrade is still recognised.
#[tokio::test]
async fn an_older_database_loses_the_resend_index_but_still_recognises_resends_from_before() {
    let mut server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let before = ana.say_with_id("lobby", "stored before the upgrade", "old-1").await;
    drop(ana);
    server.stop().await;
    database(&server)
        .execute_batch("CREATE UNIQUE INDEX v5_resends ON messages (sender_key, client_id); PRAGMA user_version = 5;")
        .expect("back to version 5's index");
    assert!(indexed_columns(&database(&server)).contains(&"client_id".to_owned()));

    server.restart_stopped().await;
    assert!(!indexed_columns(&database(&server)).contains(&"client_id".to_owned()), "the upgrade dropped the index");
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let resent = ana.say_with_id("lobby", "stored before the upgrade", "old-1").await;
    assert!(resent.duplicate, "a resend from before the upgrade is recognised");
    assert_eq!((resent.id, resent.seq), (before.id, before.seq));
    let next = ana.say_with_id("lobby", "after the upgrade", "new-1").await;
    assert!(!next.duplicate);
    assert_eq!(next.seq, before.seq + 1);
}

/// History beyond the limit is pruned, and so is its memory of client ids: a resend of a pruned message is a new
/// message, a resend of a kept one is still a duplicate.
#[tokio::test]
async fn pruned_messages_are_forgotten_by_the_resend_check_and_kept_ones_are_not() {
    let limits = parlor_server::ServerLimits { history_limit: 3, ..parlor_server::ServerLimits::default() };
    let server = TestServer::with_limits(limits).await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    let mut acks = Vec::new();
    for n in 1..=5 {
        acks.push(ana.say_with_id("lobby", &format!("number {n}"), &format!("n-{n}")).await);
    }
    let kept = ana.say_with_id("lobby", "number 5", "n-5").await;
    assert!(kept.duplicate && kept.seq == acks[4].seq);
    let pruned = ana.say_with_id("lobby", "number 1", "n-1").await;
    assert!(!pruned.duplicate, "message 1 left history, and the resend check forgot it");
    assert_eq!(pruned.seq, acks[4].seq + 1);
}
