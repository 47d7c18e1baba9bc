//! The admission rules against a real `accounts.sqlite3` in a temporary directory.

use parlor_protocol::{Auth, ErrorCode, IdentityKind, Secret};

use super::{Accounts, Refused};

fn code(result: Result<impl std::fmt::Debug, Refused>) -> ErrorCode {
    match result {
        Err(Refused::Client(event)) => event.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn device(key: &str) -> Auth {
    Auth { device: Some(Secret::new(key)), ..Auth::default() }
}

#[tokio::test]
async fn guests_devices_and_accounts_are_told_apart() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let accounts = Accounts::open(dir.path()).expect("open");

    let guest = accounts.admit("ana", None).await.expect("a guest is admitted");
    assert_eq!(guest.kind, IdentityKind::Guest);

    let claimed = accounts.admit("ana", Some(&device("tablet-1"))).await.expect("first device claims");
    assert_eq!(claimed.kind, IdentityKind::Device);
    assert_eq!(
        accounts.admit("ana", Some(&device("tablet-2"))).await.expect("not claimed yet").kind,
        IdentityKind::Device
    );
    accounts.claim("ana", claimed.claim.expect("a claim to record")).await.expect("claimed");
    assert_eq!(accounts.admit("ana", Some(&device("tablet-1"))).await.expect("same device").kind, IdentityKind::Device);
    assert_eq!(code(accounts.admit("ana", Some(&device("tablet-2"))).await), ErrorCode::NickClaimed);
    assert_eq!(code(accounts.admit("ana", None).await), ErrorCode::NickClaimed);

    assert_eq!(code(accounts.register("bob", "Bob", "short".into()).await), ErrorCode::WeakPassword);
    let token = accounts.register("bob", "Bob", "correct horse".into()).await.expect("registered");
    assert_eq!(code(accounts.register("bob", "Bob", "another horse".into()).await), ErrorCode::AlreadyRegistered);
    assert_eq!(code(accounts.admit("bob", None).await), ErrorCode::SignInRequired);
    assert_eq!(code(accounts.admit("bob", Some(&device("tablet-1"))).await), ErrorCode::SignInRequired);

    let with_token = Auth { token: Some(token.clone()), ..Auth::default() };
    let admitted = accounts.admit("bob", Some(&with_token)).await.expect("token signs in");
    assert_eq!((admitted.kind, admitted.issue_token), (IdentityKind::Account, false));

    let wrong = Auth { password: Some("wrong horse".into()), ..Auth::default() };
    assert_eq!(code(accounts.admit("bob", Some(&wrong)).await), ErrorCode::WrongCredentials);
    let right = Auth { password: Some("correct horse".into()), ..Auth::default() };
    assert!(accounts.admit("bob", Some(&right)).await.expect("password signs in").issue_token);

    assert_eq!(accounts.logout_everywhere("bob").await.expect("revoked"), 1);
    assert_eq!(code(accounts.admit("bob", Some(&with_token)).await), ErrorCode::WrongCredentials);
}

#[tokio::test]
async fn registering_takes_over_a_device_claim_and_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let token = {
        let accounts = Accounts::open(dir.path()).expect("open");
        let admitted = accounts.admit("cy", Some(&device("laptop"))).await.expect("admitted");
        accounts.claim("cy", admitted.claim.expect("a claim")).await.expect("claimed");
        accounts.register("cy", "Cy", "a long passphrase".into()).await.expect("registered")
    };
    let accounts = Accounts::open(dir.path()).expect("reopen");
    assert_eq!(code(accounts.admit("cy", Some(&device("laptop"))).await), ErrorCode::SignInRequired);
    let with_token = Auth { token: Some(token), ..Auth::default() };
    assert!(accounts.admit("cy", Some(&with_token)).await.is_ok());
}

#[test]
fn no_secret_is_stored_in_the_clear() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let token = runtime.block_on(async {
        let accounts = Accounts::open(dir.path()).expect("open");
        let admitted = accounts.admit("dee", Some(&device("device-key-1234567890"))).await.expect("admitted");
        accounts.claim("dee", admitted.claim.expect("a claim")).await.expect("claimed");
        accounts.register("eve", "Eve", "plain password 1".into()).await.expect("registered")
    });
    drop(runtime);
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("list") {
        stored.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    let text = String::from_utf8_lossy(&stored);
    for secret in ["device-key-1234567890", "plain password 1", token.expose()] {
        assert!(!text.contains(secret), "{secret:?} is stored in the clear");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(super::ACCOUNTS_FILE)).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o077, 0, "accounts.sqlite3 is readable by others: {mode:o}");
    }
}
