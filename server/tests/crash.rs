//! A server SIGKILLed in the middle of a send storm from several clients and restarted on the same data directory
//! loses nothing and duplicates nothing: every acked message is stored under its acked seq, senders that resend their
//! unacked messages with the same `client_id` post each exactly once, seqs stay gap-free, and a reader that resumes
//! with `join {after}` sees every message exactly once, in seq order, across the crash.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parlor_protocol::{Ack, ChatMessage, ClientMessage, ServerEvent};
use tokio::time::Instant;

use crate::process::ServerProcess;
use crate::util::{Client, WAIT};

const SENDERS: usize = 5;
const PER_SENDER: usize = 300;
const TOTAL: usize = SENDERS * PER_SENDER;
/// Sends in flight per sender: pipelined, so the kill catches some stored-but-unacked ones.
const WINDOW: usize = 16;
/// The kill comes once this many sends (of [`TOTAL`]) are acked.
const KILL_AFTER_ACKS: usize = TOTAL / 5;
/// Far above the storm's pace: this test is about durability, not rate limits.
const RATE_ARGS: [&str; 4] = ["--rate-per-second", "1000000", "--rate-burst", "1000000"];

fn client_id(nick: &str, n: usize) -> String {
    format!("{nick}-{n}")
}

fn text(nick: &str, n: usize) -> String {
    format!("{nick} says {n}")
}

/// One storming client's bookkeeping, carried across the crash.
struct Sender {
    nick: String,
    /// The next message number never sent.
    next: usize,
    /// Sent, not acked yet.
    pending: BTreeSet<usize>,
    /// Acked: the first ack of each message number.
    acks: HashMap<usize, Ack>,
    /// Acks that said `duplicate: true`, by message number.
    duplicates: BTreeSet<usize>,
}

impl Sender {
    fn new(k: usize) -> Self {
        let nick = format!("s{k}");
        Self { nick, next: 0, pending: BTreeSet::new(), acks: HashMap::new(), duplicates: BTreeSet::new() }
    }

    fn send(&self, n: usize) -> ClientMessage {
        ClientMessage::Send {
            room: "lobby".into(),
            text: text(&self.nick, n),
            client_id: client_id(&self.nick, n),
            poll: None,
            reply_to: None,
            announce: false,
        }
    }

    async fn connect(&self, url: &str) -> Client {
        let mut client = Client::connect(url).await;
        client.hello(&self.nick).await;
        client.join("lobby", None).await;
        client
    }

    /// Resends every pending message (same `client_id`), then sends the rest, `WINDOW` at a time, until all are
    /// acked or the connection dies. Returns the client if it is still connected.
    async fn storm(mut self, mut client: Client, acked: Arc<AtomicUsize>) -> (Self, Option<Client>) {
        for n in self.pending.clone() {
            if !client.try_send(&self.send(n)).await {
                return (self, None);
            }
        }
        while self.acks.len() < PER_SENDER {
            while self.pending.len() < WINDOW && self.next < PER_SENDER {
                let n = self.next;
                self.next += 1;
                self.pending.insert(n);
                if !client.try_send(&self.send(n)).await {
                    return (self, None);
                }
            }
            match client.try_recv().await {
                None => return (self, None),
                Some(ServerEvent::Ack(ack)) => self.on_ack(ack, &acked),
                Some(ServerEvent::Error(err)) => panic!("{}: a send was refused: {err:?}", self.nick),
                Some(_) => {}
            }
        }
        (self, Some(client))
    }

    fn on_ack(&mut self, ack: Ack, acked: &AtomicUsize) {
        let n: usize = ack.client_id.rsplit('-').next().and_then(|n| n.parse().ok()).expect("one of ours");
        assert!(self.pending.remove(&n), "{}: an ack for {n}, which was not pending: {ack:?}", self.nick);
        if ack.duplicate {
            self.duplicates.insert(n);
        }
        self.acks.insert(n, ack);
        acked.fetch_add(1, Ordering::Relaxed);
    }
}

/// Records every lobby message until the connection ends or `until` messages are held in all.
async fn read(mut client: Client, mut seen: Vec<ChatMessage>, until: usize) -> Vec<ChatMessage> {
    while seen.len() < until {
        match client.try_recv().await {
            None => break,
            Some(ServerEvent::Message(message)) if message.room == "lobby" => seen.push(message),
            Some(_) => {}
        }
    }
    seen
}

fn assert_seqs_from_one(messages: &[ChatMessage], who: &str) {
    for (i, message) in messages.iter().enumerate() {
        assert_eq!(message.seq, i as u64 + 1, "{who}: seq {} at position {i}: a gap or a repeat", message.seq);
    }
}

/// The whole room, paged with `history {after}`.
async fn stored_history(url: &str) -> Vec<ChatMessage> {
    let mut auditor = Client::connect(url).await;
    auditor.hello("auditor").await;
    let mut all: Vec<ChatMessage> = Vec::new();
    loop {
        let after = all.last().map_or(0, |m| m.seq);
        let request =
            ClientMessage::History { room: "lobby".into(), before: None, after: Some(after), limit: Some(200) };
        auditor.send(&request).await;
        let page = auditor
            .recv_until(|e| match e {
                ServerEvent::History(page) => Some(page),
                ServerEvent::Error(err) => panic!("history refused: {err:?}"),
                _ => None,
            })
            .await;
        all.extend(page.messages);
        if !page.has_more {
            return all;
        }
    }
}

/// Runs every sender's storm in parallel, returning them with their still-open clients.
fn storm_all(
    senders: Vec<Sender>,
    clients: Vec<Client>,
    acked: &Arc<AtomicUsize>,
) -> tokio::task::JoinSet<(Sender, Option<Client>)> {
    let mut storms = tokio::task::JoinSet::new();
    for (sender, client) in senders.into_iter().zip(clients) {
        storms.spawn(sender.storm(client, acked.clone()));
    }
    storms
}

async fn join_all(mut storms: tokio::task::JoinSet<(Sender, Option<Client>)>) -> Vec<(Sender, Option<Client>)> {
    let mut done = Vec::new();
    while let Some(result) = storms.join_next().await {
        done.push(result.expect("a sender task"));
    }
    done.sort_by(|a, b| a.0.nick.cmp(&b.0.nick));
    done
}

/// Every message stored exactly once, seqs gap-free, and every ack names the stored message's seq and id.
fn assert_acks_stored(history: &[ChatMessage], finished: &[(Sender, Option<Client>)]) {
    assert_eq!(history.len(), TOTAL, "every message stored exactly once");
    assert_seqs_from_one(history, "the stored history");
    let mut by_id: HashMap<&str, &ChatMessage> = HashMap::new();
    for message in history {
        assert!(by_id.insert(&message.client_id, message).is_none(), "stored twice: {message:?}");
    }
    for (sender, _) in finished {
        assert!(sender.pending.is_empty() && sender.acks.len() == PER_SENDER, "{} finished", sender.nick);
        for (n, ack) in &sender.acks {
            let stored = by_id.get(ack.client_id.as_str()).unwrap_or_else(|| panic!("acked but lost: {ack:?}"));
            assert_eq!((stored.seq, stored.id), (ack.seq, ack.id), "stored where its ack said");
            assert_eq!((stored.from.as_str(), stored.text.clone()), (sender.nick.as_str(), text(&sender.nick, *n)));
        }
    }
}

/// A resend of a message acked before the crash is answered as a duplicate with its original seq and id.
async fn assert_acked_resend_is_duplicate(finished: Vec<(Sender, Option<Client>)>, pre_crash: &[HashMap<usize, Ack>]) {
    let mut resent = 0;
    for ((sender, client), before) in finished.into_iter().zip(pre_crash) {
        let mut client = client.expect("still connected after finishing");
        let Some((n, original)) = before.iter().max_by_key(|(n, _)| **n) else { continue };
        let again = client.say_with_id("lobby", &text(&sender.nick, *n), &original.client_id).await;
        assert!(again.duplicate && again.seq == original.seq && again.id == original.id, "{again:?} vs {original:?}");
        resent += 1;
    }
    assert!(resent > 0, "some sender had an ack before the crash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_storm_keeps_every_acked_message_and_posts_nothing_twice() {
    let data = tempfile::tempdir().expect("temporary directory");
    let mut server = ServerProcess::start(data.path(), 0, &RATE_ARGS).await;
    let url = server.url();
    let started = Instant::now();

    // Phase 1: everyone connected and joined first, so the kill can only land mid-storm.
    let mut reader = Client::connect(&url).await;
    reader.hello("reader").await;
    assert_eq!(reader.join("lobby", None).await.last_seq, 0);
    let reading = tokio::spawn(read(reader, Vec::new(), TOTAL));
    let senders: Vec<Sender> = (0..SENDERS).map(Sender::new).collect();
    let mut clients = Vec::new();
    for sender in &senders {
        clients.push(sender.connect(&url).await);
    }
    let acked = Arc::new(AtomicUsize::new(0));
    let storms = storm_all(senders, clients, &acked);
    let deadline = Instant::now() + WAIT;
    while acked.load(Ordering::Relaxed) < KILL_AFTER_ACKS {
        assert!(Instant::now() < deadline, "the storm stalled before the kill");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill().await;
    let killed_at = Instant::now();
    let senders: Vec<Sender> = join_all(storms).await.into_iter().map(|(sender, _)| sender).collect();
    let seen_before = reading.await.expect("the reader");
    let acked_at_kill = acked.load(Ordering::Relaxed);
    let in_flight: usize = senders.iter().map(|s| s.pending.len()).sum();
    assert!(acked_at_kill < TOTAL && in_flight > 0, "the kill came mid-storm ({acked_at_kill} of {TOTAL} acked)");
    assert!(senders.iter().all(|s| s.duplicates.is_empty()), "nothing is a duplicate before the crash");
    assert_seqs_from_one(&seen_before, "the reader before the crash");
    let pre_crash: Vec<HashMap<usize, Ack>> = senders.iter().map(|s| s.acks.clone()).collect();
    let unacked_at_kill: Vec<BTreeSet<usize>> = senders.iter().map(|s| s.pending.clone()).collect();

    // Phase 2: restart on the same port and data; the reader resumes, the senders resend and finish.
    server.restart().await;
    let mut reader = Client::connect(&url).await;
    reader.hello("reader").await;
    let held = seen_before.last().map_or(0, |m| m.seq);
    let joined = reader.join("lobby", Some(held)).await;
    assert_eq!(joined.gap, None, "a short replay has no gap");
    let reading = tokio::spawn(read(reader, seen_before.clone(), TOTAL));
    let mut clients = Vec::new();
    for sender in &senders {
        clients.push(sender.connect(&url).await);
    }
    let finished = join_all(storm_all(senders, clients, &acked)).await;
    let seen = tokio::time::timeout(WAIT, reading).await.expect("the reader caught up in time").expect("the reader");
    let recovered_at = Instant::now();

    // The stored room: every message once, seqs 1..=TOTAL, each acked one where its ack said.
    let history = stored_history(&url).await;
    assert_acks_stored(&history, &finished);
    for (((sender, _), before), unacked) in finished.iter().zip(&pre_crash).zip(&unacked_at_kill) {
        for (n, ack) in before {
            assert_eq!(sender.acks.get(n), Some(ack), "an ack from before the crash still holds");
        }
        // Only a message in flight at the kill can have been stored without its ack getting out.
        assert!(sender.duplicates.is_subset(unacked), "{}: duplicates {:?}", sender.nick, sender.duplicates);
    }
    let stored_unacked: usize = finished.iter().map(|(sender, _)| sender.duplicates.len()).sum();
    assert_acked_resend_is_duplicate(finished, &pre_crash).await;

    // The reader saw every message once, in seq order, across the crash.
    assert_seqs_from_one(&seen, "the reader across the crash");
    let seen_ids: Vec<&str> = seen.iter().map(|m| m.client_id.as_str()).collect();
    let stored_ids: Vec<&str> = history.iter().map(|m| m.client_id.as_str()).collect();
    assert_eq!(seen_ids, stored_ids, "the reader saw exactly the stored messages");
    println!(
        "crash: {TOTAL} messages from {SENDERS} senders; SIGKILL {:?} into the storm, after {acked_at_kill} acks with \
         {in_flight} sends in flight, {stored_unacked} of them stored but unacked; reader held {held}; \
         restarted and complete {:?} after the kill",
        killed_at - started,
        recovered_at - killed_at,
    );
    assert!(server.log().lines().all(|line| !line.contains("panicked")), "no panic:\n{}", server.log());
}
