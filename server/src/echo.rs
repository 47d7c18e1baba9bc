//! The `/echo` endpoint: every frame comes straight back. A connectivity check for a new network, and the first
//! demo of every WebSocket tutorial.

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::shutdown::Shutdown;

/// Echoes text and binary frames until the peer closes, goes quiet for `idle`, or the server stops.
pub(crate) async fn serve<S>(mut ws: S, mut shutdown: Shutdown, idle: std::time::Duration)
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    loop {
        tokio::select! {
            () = shutdown.recv() => {
                let frame = CloseFrame { code: WsCloseCode::Away, reason: "server is shutting down".into() };
                let _ = ws.send(Message::Close(Some(frame))).await;
                break;
            }
            incoming = tokio::time::timeout(idle, ws.next()) => match incoming {
                Ok(Some(Ok(message @ (Message::Text(_) | Message::Binary(_))))) => {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => break,
                Ok(Some(Ok(_))) => {}
            },
        }
    }
    let _ = ws.close().await;
}
