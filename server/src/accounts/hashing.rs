//! Account passwords, hashed with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, OWASP's minimum).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`, or `None` if no salt could be drawn.
pub(super) fn hash(password: &str) -> Option<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).ok()?;
    let salt = SaltString::encode_b64(&salt).ok()?;
    Argon2::default().hash_password(password.as_bytes(), &salt).ok().map(|hash| hash.to_string())
}

/// Whether `password` matches the stored PHC string (a damaged string matches nothing).
pub(super) fn verify(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password_and_is_argon2id() {
        let stored = hash("correct horse").expect("hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify(&stored, "correct horse"));
        assert!(!verify(&stored, "correct horsE"));
        assert!(!verify("not a hash", "correct horse"));
        assert_ne!(hash("correct horse"), Some(stored), "a fresh salt every time");
    }
}
