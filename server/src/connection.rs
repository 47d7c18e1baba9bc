//! One chat connection's I/O loop: read frames into the [`Session`], write the outbox in batches, ping the quiet,
//! and close with the right code.
//!
//! Generic over any `Stream + Sink` of WebSocket messages, so the loop does not care whether the socket came from
//! hyper's upgrade, a TLS stream or a test channel.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use parlor_protocol::CloseCode;
use tokio::time::{self, Instant};
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::outbox::{self, Frame, Outbox};
use crate::server::Shared;
use crate::session::{CloseRequest, Session};
use crate::shutdown::Shutdown;

/// Most frames written per flush: enough to batch a burst, few enough to keep reading in between.
const WRITE_BATCH: usize = 64;

/// How long a closing handshake may take before the socket is simply dropped.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves one chat connection until it ends.
pub(crate) async fn serve<S>(mut ws: S, shared: Arc<Shared>, mut shutdown: Shutdown, peer: SocketAddr)
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    let (handle, mut outbox) = outbox::outbox(shared.hub.next_peer_id(), shared.limits.outbound_queue_bytes);
    let (write_timeout, idle_timeout) = (shared.limits.write_timeout, shared.limits.idle_timeout);
    let (hello_timeout, ping_interval) = (shared.limits.hello_timeout, shared.limits.ping_interval);
    let mut session = Session::new(shared, handle, peer.ip());
    let hello_deadline = time::sleep(hello_timeout);
    tokio::pin!(hello_deadline);
    let mut ping = time::interval_at(Instant::now() + ping_interval, ping_interval);
    let mut last_heard = Instant::now();

    let overflow = outbox.overflow_signal();
    let close: Option<CloseRequest> = loop {
        tokio::select! {
            biased;
            () = shutdown.recv() => break Some((CloseCode::GoingAway, "server is shutting down".into())),
            () = overflow.wait() => {
                break Some((CloseCode::SlowConsumer, "you stopped reading and fell too far behind".into()))
            }
            Some(frame) = outbox.recv() => {
                let write = write_batch(&mut ws, frame, &mut outbox, write_timeout);
                // A client that stopped reading blocks the write; its overflow must still cut it off promptly.
                let written = tokio::select! {
                    written = write => written,
                    () = overflow.wait() => Err(()),
                };
                if written.is_err() {
                    if overflow.happened() {
                        break Some((CloseCode::SlowConsumer, "you stopped reading and fell too far behind".into()));
                    }
                    break None;
                }
            }
            // While large replies wait, read no more requests: the client's own backlog bounds what it can ask.
            incoming = ws.next(), if !outbox.replies_backlogged() => {
                last_heard = Instant::now();
                let outcome = match incoming {
                    None => break None,
                    Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
                        let reason = format!("frame of {size} bytes exceeds the hard limit of {max_size}");
                        break Some((CloseCode::MessageTooBig, reason));
                    }
                    Some(Err(WsError::Utf8(_))) => {
                        break Some((CloseCode::InvalidPayload, "a text frame was not valid UTF-8".into()));
                    }
                    Some(Err(err)) => {
                        tracing::debug!(%err, "connection failed");
                        break None;
                    }
                    // Boxed: the dispatch of every request kind is a large future, and inline it would sit in
                    // every idle connection's task (5.8 KB of task instead of 2.4 KB).
                    Some(Ok(Message::Text(text))) => Box::pin(session.on_text(text.as_str())).await,
                    Some(Ok(Message::Binary(_))) => session.on_binary(),
                    Some(Ok(Message::Close(_))) => break None,
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(()),
                };
                if let Err(close) = outcome {
                    break Some(close);
                }
            }
            () = &mut hello_deadline, if !session.greeted() => {
                break Some((CloseCode::HelloTimeout, "no hello arrived in time".into()));
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > idle_timeout {
                    break Some((CloseCode::IdleTimeout, "nothing heard from you for too long".into()));
                }
                let ping = time::timeout(write_timeout, ws.send(Message::Ping(Default::default())));
                if !matches!(ping.await, Ok(Ok(()))) {
                    break None;
                }
            }
        }
    };
    session.end();
    let goodbye_sent = match close {
        Some((code, reason)) => {
            tracing::debug!(code = code.as_u16(), %reason, "closing");
            let frame = CloseFrame { code: WsCloseCode::from(code.as_u16()), reason: reason.into() };
            matches!(time::timeout(CLOSE_TIMEOUT, ws.send(Message::Close(Some(frame)))).await, Ok(Ok(())))
        }
        None => true,
    };
    if goodbye_sent {
        let _ = time::timeout(CLOSE_TIMEOUT, ws.close()).await;
        // Complete the closing handshake: wait for the client's close before dropping the socket, or its unread
        // close frame could be lost to a TCP reset.
        let _ = time::timeout(CLOSE_TIMEOUT, async { while let Some(Ok(_)) = ws.next().await {} }).await;
    }
}

/// Writes `first` and whatever else is already queued, then flushes once.
async fn write_batch<S>(ws: &mut S, first: Frame, outbox: &mut Outbox, timeout: std::time::Duration) -> Result<(), ()>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let write = async {
        ws.feed(Message::Text(first)).await?;
        for _ in 1..WRITE_BATCH {
            let Some(frame) = outbox.try_recv() else { break };
            ws.feed(Message::Text(frame)).await?;
        }
        ws.flush().await
    };
    match time::timeout(timeout, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            tracing::debug!(%err, "write failed");
            Err(())
        }
        Err(_) => {
            tracing::info!("a client stopped reading; dropping it");
            Err(())
        }
    }
}
