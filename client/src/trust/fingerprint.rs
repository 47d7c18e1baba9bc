//! A certificate's SHA-256 fingerprint: 64 hex digits on the wire and in files, grouped by four for people.

use sha2::{Digest, Sha256};
use thiserror::Error;

/// The SHA-256 of a certificate's DER bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

/// A fingerprint that does not parse.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("a SHA-256 fingerprint is 64 hexadecimal digits (spaces and colons allowed); got {0} digits")]
pub struct FingerprintError(usize);

impl Fingerprint {
    /// The fingerprint of a certificate in DER form.
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Parses 64 hex digits, ignoring case, spaces and colons (as people copy them).
    pub fn parse(text: &str) -> Result<Self, FingerprintError> {
        let digits: Vec<u8> =
            text.bytes().filter(|b| !matches!(b, b' ' | b':')).map(|b| b.to_ascii_lowercase()).collect();
        let value = |d: u8| (d as char).to_digit(16);
        if digits.len() != 64 || digits.iter().any(|&d| value(d).is_none()) {
            return Err(FingerprintError(digits.len()));
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            let (high, low) = (value(pair[0]).unwrap_or(0), value(pair[1]).unwrap_or(0));
            *byte = u8::try_from(high * 16 + low).unwrap_or(0);
        }
        Ok(Self(bytes))
    }

    /// Groups of four digits separated by spaces, for reading aloud and comparing by eye.
    pub fn grouped(&self) -> String {
        let hex = self.to_string();
        hex.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_paste_and_prints_canonically() {
        let fp = Fingerprint::of(b"x");
        let canonical = fp.to_string();
        assert_eq!(canonical.len(), 64);
        assert_eq!(Fingerprint::parse(&canonical), Ok(fp.clone()));
        assert_eq!(Fingerprint::parse(&fp.grouped().to_uppercase()), Ok(fp.clone()));
        let colons: Vec<String> = canonical.as_bytes().chunks(2).map(|c| String::from_utf8_lossy(c).into()).collect();
        assert_eq!(Fingerprint::parse(&colons.join(":")), Ok(fp));
        assert_eq!(Fingerprint::parse("abc"), Err(FingerprintError(3)));
        assert!(Fingerprint::parse(&"g".repeat(64)).is_err());
    }
}
