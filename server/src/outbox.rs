//! The queue of encoded events waiting to be written to one client.
//!
//! Producers (the storage thread, other connections) never wait on a client: they push shared, already-encoded
//! frames and move on. Two kinds of frames share the queue, bounded differently:
//! - *pushes*, what others cause (messages, presence, typing): bounded in bytes; a client that stops reading
//!   overflows the bound and is disconnected with close 4001 instead of growing the server's memory;
//! - *replies* to this client's own requests (`joined` with its replay, `history`, errors): never a reason to cut a
//!   client off, however large a page is; instead the connection stops reading further requests while replies over
//!   the bound are waiting ([`Outbox::replies_backlogged`]), so a client that asks without reading only stalls
//!   itself.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parlor_protocol::ServerEvent;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// One encoded event. Cloning shares the bytes, so a broadcast is encoded once for all its recipients.
pub(crate) type Frame = Utf8Bytes;

/// Encodes an event once, ready to be pushed to any number of outboxes.
pub(crate) fn encode(event: &ServerEvent) -> Frame {
    // Serialising these plain structs cannot fail: every map key is a string and every value is representable.
    match serde_json::to_string(event) {
        Ok(json) => Frame::from(json),
        Err(err) => {
            tracing::error!(%err, "failed to encode an event");
            Frame::from(r#"{"type":"error","code":"unavailable","message":"internal encoding error"}"#)
        }
    }
}

/// Identifies a connection for the lifetime of the server process.
pub(crate) type PeerId = u64;

#[derive(Debug)]
struct Shared {
    /// Bytes of pushes waiting.
    queued_bytes: AtomicUsize,
    /// Bytes of replies waiting.
    reply_bytes: AtomicUsize,
    limit: usize,
    overflowed: AtomicBool,
    overflow: Notify,
}

/// The sending side of a connection's outbox; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct PeerHandle {
    id: PeerId,
    tx: mpsc::UnboundedSender<Queued>,
    shared: Arc<Shared>,
}

/// A frame in the queue, with the counter it is charged to.
#[derive(Debug)]
struct Queued {
    frame: Frame,
    reply: bool,
}

/// The receiving side, owned by the connection's task.
#[derive(Debug)]
pub(crate) struct Outbox {
    rx: mpsc::UnboundedReceiver<Queued>,
    shared: Arc<Shared>,
}

/// A new outbox holding at most `limit_bytes` of frames.
pub(crate) fn outbox(id: PeerId, limit_bytes: usize) -> (PeerHandle, Outbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        queued_bytes: AtomicUsize::new(0),
        reply_bytes: AtomicUsize::new(0),
        limit: limit_bytes,
        overflowed: AtomicBool::new(false),
        overflow: Notify::new(),
    });
    (PeerHandle { id, tx, shared: shared.clone() }, Outbox { rx, shared })
}

impl PeerHandle {
    /// The connection this handle writes to.
    pub(crate) fn id(&self) -> PeerId {
        self.id
    }

    /// Queues a push. Returns false when the connection is gone or has overflowed (and is being cut off).
    pub(crate) fn send(&self, frame: &Frame) -> bool {
        if self.shared.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        let len = frame.len();
        let queued = self.shared.queued_bytes.fetch_add(len, Ordering::Relaxed) + len;
        // One frame larger than the limit still goes to a reader that has nothing waiting: the limit is for readers
        // that fall behind, and this one has not.
        if queued > self.shared.limit && queued > len {
            self.shared.overflowed.store(true, Ordering::Relaxed);
            self.shared.overflow.notify_one();
            return false;
        }
        self.tx.send(Queued { frame: frame.clone(), reply: false }).is_ok()
    }

    /// Encodes and queues one push for this connection only.
    pub(crate) fn send_event(&self, event: &ServerEvent) -> bool {
        self.send(&encode(event))
    }

    /// Queues a reply to this connection's own request: never overflows (see the module's note).
    pub(crate) fn reply(&self, event: &ServerEvent) -> bool {
        self.reply_frame(encode(event))
    }

    /// [`PeerHandle::reply`] with a frame encoded already (one kept to be sent to many).
    pub(crate) fn reply_frame(&self, frame: Frame) -> bool {
        if self.shared.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        self.shared.reply_bytes.fetch_add(frame.len(), Ordering::Relaxed);
        self.tx.send(Queued { frame, reply: true }).is_ok()
    }
}

impl Outbox {
    /// The next frame to write, or `None` once every handle is dropped.
    pub(crate) async fn recv(&mut self) -> Option<Frame> {
        let queued = self.rx.recv().await?;
        Some(self.release(queued))
    }

    /// A frame that is ready now, for batching several into one write.
    pub(crate) fn try_recv(&mut self) -> Option<Frame> {
        let queued = self.rx.try_recv().ok()?;
        Some(self.release(queued))
    }

    fn release(&self, Queued { frame, reply }: Queued) -> Frame {
        let counter = if reply { &self.shared.reply_bytes } else { &self.shared.queued_bytes };
        counter.fetch_sub(frame.len(), Ordering::Relaxed);
        frame
    }

    /// Whether replies over the bound are waiting: the connection should read no further requests until they are
    /// written, so a client that asks without reading holds at most about one bound of replies in the server.
    pub(crate) fn replies_backlogged(&self) -> bool {
        self.shared.reply_bytes.load(Ordering::Relaxed) >= self.shared.limit
    }

    /// A listener for overflow that the connection can await while it also reads from this outbox.
    pub(crate) fn overflow_signal(&self) -> OverflowSignal {
        OverflowSignal(self.shared.clone())
    }
}

/// Resolves once a producer found the queue over its limit.
#[derive(Debug)]
pub(crate) struct OverflowSignal(Arc<Shared>);

impl OverflowSignal {
    /// Whether the queue has overflowed.
    pub(crate) fn happened(&self) -> bool {
        self.0.overflowed.load(Ordering::Relaxed)
    }

    /// Waits for the overflow (at once if it already happened).
    pub(crate) async fn wait(&self) {
        if self.0.overflowed.load(Ordering::Relaxed) {
            return;
        }
        self.0.overflow.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_arrive_in_order_and_free_their_bytes() {
        let (handle, mut outbox) = outbox(1, 100);
        assert!(handle.send(&Frame::from("first")));
        assert!(handle.send(&Frame::from("second")));
        assert_eq!(outbox.recv().await.as_deref(), Some("first"));
        assert_eq!(outbox.try_recv().as_deref(), Some("second"));
        assert_eq!(handle.shared.queued_bytes.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn overflow_refuses_further_frames_and_wakes_the_reader() {
        let (handle, outbox) = outbox(1, 10);
        assert!(handle.send(&Frame::from("123456")));
        assert!(!handle.send(&Frame::from("123456")), "over the limit");
        assert!(!handle.send(&Frame::from("1")), "stays refused once overflowed");
        tokio::time::timeout(std::time::Duration::from_secs(1), outbox.overflow_signal().wait())
            .await
            .expect("the overflow is signalled");
    }

    #[tokio::test]
    async fn replies_never_overflow_but_hold_back_reading_until_written() {
        let (handle, mut outbox) = outbox(1, 10);
        let big = ServerEvent::Pong { nonce: Some("a nonce longer than the bound".into()) };
        assert!(handle.reply(&big));
        assert!(handle.reply(&big), "a second large reply is queued too");
        assert!(outbox.replies_backlogged());
        assert!(handle.send(&Frame::from("push")), "replies do not count against pushes");
        assert!(!outbox.overflow_signal().happened());
        while outbox.try_recv().is_some() {}
        assert!(!outbox.replies_backlogged(), "written replies free their bytes");
        assert_eq!(handle.shared.queued_bytes.load(Ordering::Relaxed), 0);
    }
}
