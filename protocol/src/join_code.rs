//! Join codes: six characters the host reads out or writes on the board ("K7P-3QX"), which a student types instead
//! of an address. The student's app broadcasts [`ASK`] and the code on the LAN (UDP, port [`DISCOVERY_PORT`], and
//! this computer); the server with that code answers [`ANSWER`] and a [`JoinAnswer`], and the app builds the join
//! link from the address the answer came from. A class needs no DNS and nobody spells out an IP address or a
//! certificate fingerprint.
//!
//! The code only finds the server; it proves nothing. Anyone on the LAN can hear a broadcast and answer it, as they
//! could hand out a wrong address: where that matters, give the join link with its fingerprint instead.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

/// The UDP port servers listen on for join codes, next to the default chat port.
pub const DISCOVERY_PORT: u16 = 7879;

/// What a student's app sends: this prefix, then the code.
pub const ASK: &str = "PARLOR-JOIN? ";
/// What the server answers: this prefix, then a JSON [`JoinAnswer`].
pub const ANSWER: &str = "PARLOR-JOIN! ";

/// Letters and digits that cannot be misread for one another (no 0/O, 1/I/L).
pub const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// The server's answer to its join code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinAnswer {
    /// The chat port (TCP).
    pub port: u16,
    /// The certificate's SHA-256 fingerprint (64 hex digits) when the server speaks `wss://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl JoinAnswer {
    /// The join link for a server found at `ip`.
    pub fn link(&self, ip: IpAddr) -> String {
        let host = SocketAddr::new(ip, self.port);
        match &self.fingerprint {
            Some(fingerprint) => format!("wss://{host}/ws#sha256={fingerprint}"),
            None => format!("ws://{host}/ws"),
        }
    }

    /// Reads a datagram: the answer, if it is one.
    pub fn parse(datagram: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(datagram).ok()?.strip_prefix(ANSWER)?;
        serde_json::from_str(text).ok()
    }
}

/// A code as typed, made comparable: upper case, without dashes or spaces.
pub fn normalise(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// The code as shown to people: `K7P-3QX`.
pub fn display(code: &str) -> String {
    let code = normalise(code);
    match code.len() {
        6 => format!("{}-{}", &code[..3], &code[3..]),
        _ => code,
    }
}

/// Whether `text` looks like a join code rather than an address (six characters of the code alphabet).
pub fn is_code(text: &str) -> bool {
    let code = normalise(text);
    code.len() == 6 && code.bytes().all(|b| ALPHABET.contains(&b)) && !text.contains(['.', ':', '/'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_compared_and_shown_without_case_or_dashes() {
        assert_eq!(display("k7p3qx"), "K7P-3QX");
        assert!(is_code("K7P-3QX") && is_code("k7p 3qx"));
        assert!(!is_code("10.0.0.5") && !is_code("lobby") && !is_code("ABC:12") && !is_code("O0I1L2"));
    }

    #[test]
    fn the_answer_makes_the_join_link() {
        let ip = "192.168.1.20".parse().expect("ip");
        assert_eq!(JoinAnswer { port: 7878, fingerprint: None }.link(ip), "ws://192.168.1.20:7878/ws");
        let tls = JoinAnswer { port: 7878, fingerprint: Some("ab".repeat(32)) };
        assert_eq!(tls.link(ip), format!("wss://192.168.1.20:7878/ws#sha256={}", "ab".repeat(32)));
        let datagram = format!("{ANSWER}{}", serde_json::to_string(&tls).expect("json"));
        assert_eq!(JoinAnswer::parse(datagram.as_bytes()), Some(tls));
        assert_eq!(JoinAnswer::parse(b"PARLOR-JOIN! nope"), None);
    }
}
