//! Answering join codes (see [`parlor_protocol::join_code`]): a UDP socket next to the chat port that replies to
//! the broadcast of this server's code, and to nothing else.

use std::sync::Arc;

use parlor_protocol::join_code::{normalise, JoinAnswer, ALPHABET, ANSWER, ASK};
use tokio::net::UdpSocket;

use crate::shutdown::Shutdown;

/// A fresh random code, e.g. `K7P3QX` (shown as `K7P-3QX`); `None` if the OS has no randomness to give.
pub(crate) fn new_code() -> Option<String> {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect())
}

/// Answers join-code broadcasts until shutdown.
pub(crate) async fn serve(socket: Arc<UdpSocket>, code: String, answer: JoinAnswer, mut shutdown: Shutdown) {
    let Ok(reply) = serde_json::to_string(&answer).map(|json| format!("{ANSWER}{json}")) else { return };
    let mut buf = [0u8; 128];
    loop {
        let received = tokio::select! {
            () = shutdown.recv() => return,
            received = socket.recv_from(&mut buf) => received,
        };
        let Ok((len, from)) = received else { continue };
        let asked = std::str::from_utf8(&buf[..len]).ok().and_then(|text| text.strip_prefix(ASK));
        if asked.is_some_and(|asked| normalise(asked) == code) {
            if let Err(err) = socket.send_to(reply.as_bytes(), from).await {
                tracing::debug!(%err, %from, "could not answer a join code");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use parlor_protocol::join_code::is_code;

    use super::*;

    #[test]
    fn new_codes_are_join_codes() {
        for _ in 0..100 {
            let code = new_code().expect("randomness");
            assert!(is_code(&code), "{code}");
        }
    }
}
