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
