//! The reference: the least a tokio-tungstenite broadcast server can do, measured in the same run as Parlor.
//!
//! It accepts a WebSocket on any path and relays every text frame to every connection (the sender included), with
//! nothing else: no protocol, no validation, no storage. Like parlor-server it encodes nothing per recipient (the
//! received `Utf8Bytes` is shared), queues frames in a per-connection unbounded channel drained by a writer task that
//! batches up to 64 frames per flush, and uses the same tungstenite buffer settings — so the ratio between the two
//! isolates what Parlor's protocol, hub and persistence cost.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// Frames written per flush, as in parlor-server.
const WRITE_BATCH: usize = 64;

/// Every open connection's queue, by connection number.
type Peers = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Utf8Bytes>>>>;

/// The tungstenite settings parlor-server uses: a 4 KiB read buffer, writes batched up to 64 KiB.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(64 * 1024)
}

/// Runs the reference server until the process is killed; prints `… listening on ws://ADDR/ws` first.
pub fn main(bind: SocketAddr) -> anyhow::Result<()> {
    // The same runtime as parlor-server's `#[tokio::main]`: one worker per CPU the process may use.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async {
        let listener = TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
        let addr = listener.local_addr()?;
        println!("Reference server listening on ws://{addr}/ws (tokio-tungstenite broadcast, no protocol)");
        serve(listener).await;
        Ok(())
    })
}

/// Accepts connections forever.
pub async fn serve(listener: TcpListener) {
    let peers: Peers = Arc::default();
    let next_id = AtomicU64::new(0);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, next_id.fetch_add(1, Ordering::Relaxed), peers.clone()));
            }
            // Usually out of file descriptors: wait for some to close instead of spinning.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

async fn connection(stream: TcpStream, id: u64, peers: Peers) {
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(ws_config())).await else { return };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    peers.lock().unwrap_or_else(PoisonError::into_inner).insert(id, tx);
    let writer = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            if write_batch(&mut sink, first, &mut rx).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(message)) = source.next().await {
        if let Message::Text(text) = message {
            for peer in peers.lock().unwrap_or_else(PoisonError::into_inner).values() {
                let _ = peer.send(text.clone());
            }
        }
    }
    peers.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    writer.abort();
}

/// Writes `first` and whatever else is already queued, then flushes once.
async fn write_batch(
    sink: &mut SplitSink<WebSocketStream<TcpStream>, Message>,
    first: Utf8Bytes,
    rx: &mut mpsc::UnboundedReceiver<Utf8Bytes>,
) -> Result<(), tungstenite::Error> {
    sink.feed(Message::Text(first)).await?;
    for _ in 1..WRITE_BATCH {
        let Ok(frame) = rx.try_recv() else { break };
        sink.feed(Message::Text(frame)).await?;
    }
    sink.flush().await
}
