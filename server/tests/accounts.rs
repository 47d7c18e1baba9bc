//! Accounts and device claims end to end: who may use a nickname, sign-in tokens, "log out everywhere".

use parlor_protocol::{Auth, ClientMessage, ErrorCode, IdentityKind, Secret, ServerEvent};

use crate::util::{Client, TestServer};

fn hello(nick: &str, auth: Auth) -> ClientMessage {
    ClientMessage::Hello { protocol: 1, nick: nick.into(), client: None, password: None, auth: Some(auth) }
}

async fn greet(server: &TestServer, nick: &str, auth: Auth) -> Result<parlor_protocol::Welcome, ErrorCode> {
    let mut client = Client::connect(&server.url()).await;
    client.send(&hello(nick, auth)).await;
    match client.recv().await {
        ServerEvent::Welcome(welcome) => Ok(welcome),
        ServerEvent::Error(error) => Err(error.code),
        other => panic!("expected welcome or error, got {other:?}"),
    }
}

fn device(key: &str) -> Auth {
    Auth { device: Some(key.into()), ..Auth::default() }
}

#[tokio::test]
async fn a_device_keeps_its_nickname_from_other_devices() {
    let server = TestServer::start().await;
    let first = greet(&server, "Ana", device("ana-laptop-key")).await.expect("first use claims");
    assert_eq!(first.identity, IdentityKind::Device);
    assert_eq!(greet(&server, "ana", device("other-key")).await.err(), Some(ErrorCode::NickClaimed));
    assert_eq!(greet(&server, "ANA", Auth::default()).await.err(), Some(ErrorCode::NickClaimed));
    let again = greet(&server, "ana", device("ana-laptop-key")).await.expect("same device");
    assert_eq!(again.identity, IdentityKind::Device);
    let guest = greet(&server, "bo", Auth::default()).await.expect("guests still welcome");
    assert_eq!(guest.identity, IdentityKind::Guest);
}

#[tokio::test]
async fn a_registered_nickname_needs_its_password_or_a_token_until_logged_out_everywhere() {
    let mut server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    ana.send(&ClientMessage::Register { password: "short".into() }).await;
    ana.expect_error(ErrorCode::WeakPassword).await;
    ana.send(&ClientMessage::Register { password: "correct horse battery".into() }).await;
    let token = ana
        .recv_until(|e| match e {
            ServerEvent::Registered { nick, token } if nick == "ana" => Some(token),
            _ => None,
        })
        .await;
    ana.send(&ClientMessage::Register { password: "correct horse battery".into() }).await;
    ana.expect_error(ErrorCode::AlreadyRegistered).await;
    drop(ana);
    server.restart().await;

    assert_eq!(greet(&server, "ana", Auth::default()).await.err(), Some(ErrorCode::SignInRequired));
    let wrong = Auth { password: Some("wrong horse battery".into()), ..Auth::default() };
    assert_eq!(greet(&server, "ana", wrong).await.err(), Some(ErrorCode::WrongCredentials));

    let by_token = Auth { token: Some(token.clone()), ..Auth::default() };
    let welcome = greet(&server, "ana", by_token.clone()).await.expect("the token signs in");
    assert_eq!((welcome.identity, welcome.session_token), (IdentityKind::Account, None));

    let mut ana = Client::connect(&server.url()).await;
    let password = Auth { password: Some("correct horse battery".into()), ..Auth::default() };
    ana.send(&hello("ana", password)).await;
    let second_token = ana
        .recv_until(|e| match e {
            ServerEvent::Welcome(welcome) => Some(welcome.session_token.expect("a password sign-in gets a token")),
            _ => None,
        })
        .await;
    assert_ne!(second_token, token);
    ana.send(&ClientMessage::LogoutEverywhere).await;
    let revoked =
        ana.recv_until(|e| if let ServerEvent::LoggedOut { sessions } = e { Some(sessions) } else { None }).await;
    assert_eq!(revoked, 2);
    drop(ana);
    for old in [token, second_token] {
        let auth = Auth { token: Some(old), ..Auth::default() };
        assert_eq!(greet(&server, "ana", auth).await.err(), Some(ErrorCode::WrongCredentials));
    }
}

#[tokio::test]
async fn a_guest_cannot_log_out_everywhere_and_secrets_never_reach_the_log_format() {
    let server = TestServer::start().await;
    let mut bo = server.client("bo").await;
    bo.send(&ClientMessage::LogoutEverywhere).await;
    bo.expect_error(ErrorCode::NotSignedIn).await;
    let printed = format!("{:?}", hello("bo", Auth { password: Some(Secret::new("pa55word!")), ..Auth::default() }));
    assert!(!printed.contains("pa55word!"), "{printed}");
}

#[tokio::test]
async fn a_refused_hello_claims_nothing() {
    let server = TestServer::start().await;
    let gus = server.client("gus").await;
    assert_eq!(greet(&server, "gus", device("attacker-key")).await.err(), Some(ErrorCode::NickTaken));
    drop(gus);
    let mut again = None;
    for _ in 0..50 {
        match greet(&server, "gus", Auth::default()).await {
            Ok(welcome) => {
                again = Some(welcome);
                break;
            }
            Err(ErrorCode::NickTaken) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            Err(code) => panic!("the guest is refused with {code:?}: the attacker's key claimed the nickname"),
        }
    }
    assert_eq!(again.expect("the guest is back").identity, IdentityKind::Guest);
}
