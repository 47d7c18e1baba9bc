//! Finding a server by its join code ([`parlor_protocol::join_code`]): broadcast the code on the LAN and on this
//! computer, take the first server that answers, and build its join link from where the answer came from.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use parlor_protocol::join_code::{display, is_code, normalise, JoinAnswer, ASK, DISCOVERY_PORT};
use tokio::net::UdpSocket;

use crate::error::ClientError;

/// How long to wait for an answer: a LAN answers in milliseconds; a second covers a slow Wi-Fi.
pub const WAIT: Duration = Duration::from_millis(1500);

/// Where a code is asked by default: every computer on the LAN, and this one.
pub fn default_targets() -> Vec<SocketAddr> {
    vec![
        SocketAddr::from((Ipv4Addr::BROADCAST, DISCOVERY_PORT)),
        SocketAddr::from((Ipv4Addr::LOCALHOST, DISCOVERY_PORT)),
    ]
}

/// The join link of the server answering `code` at one of `targets`, within `wait`.
pub async fn find(code: &str, targets: &[SocketAddr], wait: Duration) -> Result<String, ClientError> {
    if !is_code(code) {
        return Err(ClientError::InvalidInput(format!("{code:?} is not a join code (six letters and digits)")));
    }
    let not_found = || {
        ClientError::InvalidInput(format!(
            "no server on this network answered the join code {}; check the code with the host, or type the \
             address the host shows",
            display(code)
        ))
    };
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .await
        .map_err(|err| ClientError::InvalidInput(format!("cannot look for the server on this network: {err}")))?;
    let _ = socket.set_broadcast(true);
    let ask = format!("{ASK}{}", normalise(code));
    let mut sent = false;
    for target in targets {
        // A network without broadcast refuses that one target; the others may still work.
        sent |= socket.send_to(ask.as_bytes(), target).await.is_ok();
    }
    if !sent {
        return Err(not_found());
    }
    let mut buf = [0u8; 512];
    let answer = tokio::time::timeout(wait, async {
        loop {
            let Ok((len, from)) = socket.recv_from(&mut buf).await else { continue };
            if let Some(answer) = JoinAnswer::parse(&buf[..len]) {
                return answer.link(from.ip());
            }
        }
    });
    answer.await.map_err(|_| not_found())
}
