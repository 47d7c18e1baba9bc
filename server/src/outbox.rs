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
//!
//! The queue is a `VecDeque` behind a mutex held only to push or pop, with a [`Notify`] to wake the connection.
//! tokio's unbounded channel did the same job but allocated a 32-slot block and a cache-padded header for every
//! connection up front (about 1.8 KiB each, a quarter of an idle connection's memory); an empty `VecDeque` holds
//! nothing, and a drained one gives back what a burst made it grow to.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use parlor_protocol::ServerEvent;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// One encoded event. Cloning shares the bytes, so a broadcast is encoded once for all its recipients.
pub(crate) type Frame = Utf8Bytes;

/// Encodes an event once, ready to be pushed to any number of outboxes.
pub(crate) fn encode(event: &ServerEvent) -> Frame {
    // Serialising these plain structs cannot fail: every map key is a string and every value is representable.
    match parlor_protocol::encode::to_json(event) {
        Ok(json) => Frame::from(json),
        Err(err) => {
            tracing::error!(%err, "failed to encode an event");
            Frame::from(r#"{"type":"error","code":"unavailable","message":"internal encoding error"}"#)
        }
    }
}

/// Identifies a connection for the lifetime of the server process.
pub(crate) type PeerId = u64;

/// Frames kept allocated in a drained queue; a queue that grew past this in a burst shrinks back.
const KEEP_SLOTS: usize = 8;

#[derive(Debug)]
struct Shared {
    queue: Mutex<VecDeque<Queued>>,
    /// Wakes the connection when a frame is queued.
    ready: Notify,
    /// The connection is gone: producers stop queueing.
    closed: AtomicBool,
    /// Live [`PeerHandle`]s: none left means no frame can come any more.
    handles: AtomicUsize,
    /// Bytes of pushes waiting.
    queued_bytes: AtomicUsize,
    /// Bytes of replies waiting.
    reply_bytes: AtomicUsize,
    limit: usize,
    overflowed: AtomicBool,
    overflow: Notify,
}

/// The sending side of a connection's outbox; cheap to clone.
#[derive(Debug)]
pub(crate) struct PeerHandle {
    id: PeerId,
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
    shared: Arc<Shared>,
}

/// A new outbox holding at most `limit_bytes` of frames.
pub(crate) fn outbox(id: PeerId, limit_bytes: usize) -> (PeerHandle, Outbox) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        ready: Notify::new(),
        closed: AtomicBool::new(false),
        handles: AtomicUsize::new(1),
        queued_bytes: AtomicUsize::new(0),
        reply_bytes: AtomicUsize::new(0),
        limit: limit_bytes,
        overflowed: AtomicBool::new(false),
        overflow: Notify::new(),
    });
    (PeerHandle { id, shared: shared.clone() }, Outbox { shared })
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
        self.shared.push(Queued { frame: frame.clone(), reply: false })
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
        self.shared.push(Queued { frame, reply: true })
    }
}

impl Shared {
    /// Gives back the bytes a frame was charged when queued.
    fn uncharge(&self, queued: &Queued) {
        let counter = if queued.reply { &self.reply_bytes } else { &self.queued_bytes };
        counter.fetch_sub(queued.frame.len(), Ordering::Relaxed);
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Queued>> {
        // Nothing panics while holding the lock, and a queue of frames is valid whatever happened to its holder.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a frame unless the connection is gone; the byte counters were charged by the caller.
    fn push(&self, queued: Queued) -> bool {
        if self.closed.load(Ordering::Relaxed) {
            self.uncharge(&queued);
            return false;
        }
        self.queue().push_back(queued);
        self.ready.notify_one();
        true
    }
}

impl Outbox {
    /// The next frame to write, waiting until one is queued; `None` once every handle is dropped and nothing is
    /// left (a one-off outbox, such as the HTTP API's, then knows no answer will come).
    pub(crate) async fn recv(&mut self) -> Option<Frame> {
        loop {
            if let Some(frame) = self.try_recv() {
                return Some(frame);
            }
            if self.shared.handles.load(Ordering::Acquire) == 0 {
                // A frame pushed just before the last handle went is still read.
                return self.try_recv();
            }
            // A push or the last handle's drop between the checks and here leaves a permit: this returns at once.
            self.shared.ready.notified().await;
        }
    }

    /// A frame that is ready now, for batching several into one write.
    pub(crate) fn try_recv(&mut self) -> Option<Frame> {
        let queued = {
            let mut queue = self.shared.queue();
            let queued = queue.pop_front();
            if queue.is_empty() && queue.capacity() > KEEP_SLOTS {
                queue.shrink_to(KEEP_SLOTS);
            }
            queued
        }?;
        Some(self.release(queued))
    }

    fn release(&self, queued: Queued) -> Frame {
        self.shared.uncharge(&queued);
        queued.frame
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

impl Clone for PeerHandle {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        Self { id: self.id, shared: self.shared.clone() }
    }
}

impl Drop for PeerHandle {
    fn drop(&mut self) {
        // The last handle wakes a reader waiting for frames that can no longer come; other drops wake nobody.
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.ready.notify_one();
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        // Frames still queued (shared with other recipients) are released now, not when the last handle goes.
        let drained = std::mem::take(&mut *self.shared.queue());
        drop(drained);
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

#[cfg(test)]
mod queue_tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_reader_is_woken_by_a_push_from_another_thread() {
        let (handle, mut outbox) = outbox(1, 1000);
        let pusher = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            handle.send(&Frame::from("late"))
        });
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), outbox.recv()).await;
        assert_eq!(frame.expect("woken").as_deref(), Some("late"));
        assert!(pusher.join().expect("the pusher"));
    }

    #[tokio::test]
    async fn a_reader_hears_none_once_the_last_handle_is_gone_and_the_queue_is_empty() {
        let (handle, mut outbox) = outbox(1, 1000);
        let copy = handle.clone();
        assert!(copy.send(&Frame::from("last words")));
        let dropper = std::thread::spawn(move || {
            drop(copy);
            std::thread::sleep(std::time::Duration::from_millis(20));
            drop(handle);
        });
        let wait = std::time::Duration::from_secs(5);
        assert_eq!(outbox.recv().await.as_deref(), Some("last words"), "what was queued is still read");
        assert_eq!(tokio::time::timeout(wait, outbox.recv()).await.expect("woken by the last drop"), None);
        dropper.join().expect("the dropper");
    }

    #[tokio::test]
    async fn a_gone_connection_refuses_frames_and_a_drained_burst_gives_back_its_memory() {
        let (handle, mut outbox) = outbox(1, 1 << 20);
        for n in 0..1000 {
            assert!(handle.send(&Frame::from(format!("frame {n}"))));
        }
        while outbox.try_recv().is_some() {}
        assert!(handle.shared.queue().capacity() <= KEEP_SLOTS, "the burst's slots were freed");
        drop(outbox);
        assert!(!handle.send(&Frame::from("after")), "nobody will write it");
        assert_eq!(handle.shared.queued_bytes.load(Ordering::Relaxed), 0, "and it costs nothing");
    }
}
