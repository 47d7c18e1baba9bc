//! Refusals that retrying cannot fix end in a final `offline` state with a reason a person can act on.

use parlor_client::{ClientConfig, ClientError, ConnectionState, Password};

use crate::util::{config, RawClient, TestClient, TestServer};

async fn offline_reason(client: &mut TestClient) -> String {
    let state = client.wait_state("offline", |s| matches!(s, ConnectionState::Offline { .. })).await;
    let ConnectionState::Offline { reason } = state else { unreachable!() };
    reason
}

#[tokio::test]
async fn a_nickname_in_use_at_the_first_connection_is_final() {
    let server = TestServer::start().await;
    let _holder = RawClient::connect(&server.url(), "ana").await;
    let mut ana = TestClient::start(&server.url(), "Ana");
    let reason = offline_reason(&mut ana).await;
    assert!(reason.contains("Ana") && reason.contains("in use"), "{reason}");
    assert_eq!(ana.states().first(), Some(&ConnectionState::Connecting));
    assert!(matches!(ana.client.state(), ConnectionState::Offline { .. }));
    // The task is gone: nothing more can be queued.
    assert!(matches!(ana.client.send("lobby", "hello?"), Err(ClientError::Stopped)));
    assert!(ana.client.pending().expect("outbox").is_empty());
    ana.client.shutdown().await;
}

#[tokio::test]
async fn a_wrong_or_missing_password_is_final_and_the_right_one_works() {
    let server = TestServer::with_password("open sesame").await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let with_password = |password: &str| -> ClientConfig {
        let mut settings = config(&server.url(), "ana", dir.path());
        settings.password = Password::new(password);
        settings
    };

    let mut wrong = TestClient::start_with(with_password("open says me"));
    let reason = offline_reason(&mut wrong).await;
    assert!(reason.contains("password"), "{reason}");

    let mut missing = TestClient::start_with(with_password(""));
    let reason = offline_reason(&mut missing).await;
    assert!(reason.contains("password"), "{reason}");

    let mut right = TestClient::start_with(with_password("open sesame"));
    right.wait_online().await;
    right.client.shutdown().await;
}
