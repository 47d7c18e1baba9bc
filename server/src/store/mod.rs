//! Persistent history in one SQLite file: a single writer thread with group commit, and a small pool of read-only
//! connections for history pages. Nothing here blocks an async worker thread.
//!
//! - [`schema`]: pragmas and migrations.
//! - [`conv`]: how rooms and direct conversations are keyed.
//! - [`extras`]: the changeable part of a message (poll, reactions, quote, edits), one JSON column.
//! - [`writer`]: the writer thread and the operations it serves.
//! - [`checkpoint`]: WAL checkpoints on their own thread, off the ack path.
//! - [`query`]: reads shared by replay and history.

mod checkpoint;
mod conv;
mod extras;
pub(crate) mod query;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use parlor_protocol::{ChatMessage, Conversation, HistoryPage};
use rusqlite::Connection;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

use crate::config::ServerLimits;
use crate::hub::{Hub, NickTaken};
use crate::outbox::PeerHandle;
pub(crate) use conv::ConvKey;
pub(crate) use query::Anchor;
pub(crate) use writer::{Append, Change, Edit, Greeting, Op, SERVER_NAME};

/// Messages indexed per background step (one a second): a few milliseconds of the writer's time.
const BACKGROUND_INDEX_STEP: i64 = 500;
/// Messages indexed per step while a search waits for the index to catch up.
const SEARCH_INDEX_STEP: i64 = 5_000;

/// Operations that may wait for the writer before senders feel back-pressure.
const QUEUE_DEPTH: usize = 16 * 1024;

/// Why a storage request failed.
#[derive(Debug, Error)]
pub(crate) enum StoreError {
    /// SQLite refused.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The writer thread has stopped (the server is shutting down).
    #[error("the storage thread has stopped")]
    Closed,
    /// The writer thread could not be started.
    #[error("cannot start the storage thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    ops: mpsc::Sender<Op>,
    readers: Arc<Readers>,
    /// [`ServerLimits::reply_budget`], for history pages.
    reply_budget: usize,
}

/// The writer thread, joined at shutdown.
#[derive(Debug)]
pub(crate) struct WriterThread(std::thread::JoinHandle<()>, checkpoint::Checkpointer);

#[derive(Debug)]
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Milliseconds since the Unix epoch, the timestamp stored with each message.
pub(crate) fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens (creating if needed) the database at `path`, builds the hub from its rooms, and starts the writer.
    pub(crate) fn open(path: &Path, limits: ServerLimits) -> Result<(Self, Arc<Hub>, WriterThread), StoreError> {
        let conn = schema::open_writer(path, now_ms())?;
        let rooms = {
            let mut stmt = conn.prepare("SELECT name, topic, password_hash FROM rooms")?;
            let rows = stmt.query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, Option<String>>(2)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let hub = Arc::new(Hub::new(rooms.iter().map(|(name, topic, _)| (name.clone(), topic.clone()))));
        for (name, _, hash) in rooms {
            hub.set_password(&name, hash);
        }
        {
            let mut stmt = conn.prepare("SELECT room, key FROM room_admissions")?;
            let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
            for row in rows {
                let (room, key) = row?;
                hub.admit(&room, &key);
            }
        }
        let reply_budget = limits.reply_budget();
        let writer = writer::Writer::new(conn, hub.clone(), limits)?;
        let (ops, rx) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("parlor-store".into())
            .spawn(move || writer.run(rx))
            .map_err(StoreError::Thread)?;
        let readers = Arc::new(Readers { path: path.to_owned(), idle: Mutex::new(Vec::new()) });
        let checkpointer = checkpoint::Checkpointer::start(path)?;
        Ok((Self { ops, readers, reply_budget }, hub, WriterThread(thread, checkpointer)))
    }

    /// Queues an operation for the writer, waiting only if its queue is full.
    pub(crate) async fn submit(&self, op: Op) -> Result<(), StoreError> {
        self.ops.send(op).await.map_err(|_| StoreError::Closed)
    }

    /// Puts a connection online under `nick` (the writer sends `welcome`).
    pub(crate) async fn hello(
        &self,
        handle: PeerHandle,
        nick: String,
        key: String,
        greeting: Greeting,
    ) -> Result<Result<(), NickTaken>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Op::Hello { handle, nick, key, greeting, reply }).await?;
        answer.await.map_err(|_| StoreError::Closed)
    }

    /// Reads one page of history on a blocking thread.
    pub(crate) async fn history(
        &self,
        conversation: &Conversation,
        viewer: &str,
        anchor: Anchor,
        limit: u32,
    ) -> Result<HistoryPage, StoreError> {
        let readers = self.readers.clone();
        let conv = ConvKey::new(conversation, viewer);
        let viewer = viewer.to_owned();
        let budget = self.reply_budget;
        let page = move || readers.with(|conn| query::page(conn, &conv, &viewer, anchor, limit, budget));
        tokio::task::spawn_blocking(page).await.map_err(|_| StoreError::Closed)?
    }

    /// Finds messages of one conversation matching the words of `query`, newest first (see
    /// [`query::match_expression`]); `None` when the query has no words.
    pub(crate) async fn search(
        &self,
        conversation: &Conversation,
        viewer: &str,
        query: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Option<(Vec<ChatMessage>, bool)>, StoreError> {
        let Some(expression) = query::match_expression(query) else { return Ok(None) };
        // Bring the index up to date first, a step at a time so chat interleaves with it.
        loop {
            let (done, caught_up) = oneshot::channel();
            self.submit(Op::Index { rows: SEARCH_INDEX_STEP, done: Some(done) }).await?;
            if caught_up.await.map_err(|_| StoreError::Closed)? {
                break;
            }
        }
        let readers = self.readers.clone();
        let conv = ConvKey::new(conversation, viewer);
        let viewer = viewer.to_owned();
        let find = move || readers.with(|conn| query::search(conn, &conv, &viewer, &expression, before, limit));
        tokio::task::spawn_blocking(find).await.map_err(|_| StoreError::Closed)?.map(Some)
    }

    /// Asks the writer to index a small step of messages for search, unless its queue is full (then chat comes
    /// first and the next tick tries again).
    pub(crate) fn index_some(&self) {
        let _ = self.ops.try_send(Op::Index { rows: BACKGROUND_INDEX_STEP, done: None });
    }

    /// Commits what is pending, checkpoints the WAL and stops the writer.
    pub(crate) async fn shutdown(&self, thread: WriterThread) {
        let WriterThread(writer, checkpointer) = thread;
        // Stop the periodic checkpoints first, so the writer's final one does not find the WAL busy.
        let _ = tokio::task::spawn_blocking(move || drop(checkpointer)).await;
        let (reply, done) = oneshot::channel();
        if self.ops.send(Op::Shutdown { reply }).await.is_ok() {
            let _ = done.await;
        }
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    }
}

impl Readers {
    fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => schema::open_reader(&self.path)?,
        };
        let result = read(&conn);
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        Ok(result?)
    }
}
