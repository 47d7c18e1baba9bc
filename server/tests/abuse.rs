//! Load abuse: fifty clients flooding one room cannot get past the per-connection rate limit, cannot starve a
//! well-behaved client sending at exactly the allowed rate (every message acked, every one delivered in order), and
//! cannot blow up the server's memory; connect/disconnect churn, however a connection ends, leaks no connection slot.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parlor_protocol::{ClientMessage, ErrorCode, ServerEvent};
use parlor_server::ServerLimits;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

use crate::process::{health_connections, rss_kib, wait_no_connections, ServerProcess};
use crate::util::{Client, TestServer, WAIT};

const FLOODERS: usize = 50;
const FLOOD: Duration = Duration::from_secs(3);
/// The documented defaults (§16), passed explicitly so the bounds below are about known numbers.
const RATE: u64 = 10;
const BURST: u64 = 20;
/// Acks a connection may get beyond `BURST + RATE × its lifetime`: none really; two for rounding.
const SLACK: u64 = 2;
/// The well-behaved client sends at exactly the sustained rate, so it must never be refused.
const GOOD_EVERY: Duration = Duration::from_millis(1000 / RATE);
const GOOD_COUNT: usize = 30;
/// Generous ceiling on the server's resident memory during and after the flood. An idle debug build sits near
/// 10–20 MiB; the flood's per-connection buffers and queues are bounded (1 MiB outbound each at most), so anything
/// near this figure means a leak or an unbounded queue.
const MAX_RSS_KIB: u64 = 256 * 1024;

type SentAt = Arc<Mutex<HashMap<String, Instant>>>;

/// What one flooding connection got.
#[derive(Debug, Default)]
struct Flooded {
    sent: u64,
    acks: u64,
    rate_limited: u64,
    close: Option<u16>,
    lifetime: Duration,
    /// Whether the flood was over before the connection ended (then the flooder closed it, not the server).
    outlived_flood: bool,
}

impl Flooded {
    /// The most acks the rate limit allows this connection (its `hello` and `join` spent two tokens).
    fn allowed(&self) -> u64 {
        BURST + (RATE as f64 * self.lifetime.as_secs_f64()).ceil() as u64 + SLACK
    }
}

/// Connects, joins, and sends as fast as the socket takes until `until` or until the server closes.
async fn flood_once(url: &str, nick: &str, until: Instant) -> Flooded {
    let start = Instant::now();
    let mut client = Client::connect(url).await;
    client.hello(nick).await;
    client.join("lobby", None).await;
    let (mut sink, mut stream) = client.ws.split();
    let prefix = format!("{nick}-");
    let ids = prefix.clone();
    let writer = tokio::spawn(async move {
        let mut sent = 0;
        while Instant::now() < until {
            let send = ClientMessage::Send {
                room: "lobby".into(),
                text: "flood".into(),
                client_id: format!("{ids}{sent}"),
                poll: None,
                reply_to: None,
                announce: false,
            };
            if sink.send(Message::text(serde_json::to_string(&send).expect("encode"))).await.is_err() {
                break;
            }
            sent += 1;
        }
        let _ = sink.close().await;
        sent
    });
    let mut got = Flooded::default();
    loop {
        match tokio::time::timeout(WAIT, stream.next()).await.expect("the flooder hears back") {
            Some(Ok(Message::Text(text))) => match serde_json::from_str(&text).expect("an event") {
                ServerEvent::Ack(ack) if ack.client_id.starts_with(&prefix) => got.acks += 1,
                ServerEvent::Error(err) if err.code == ErrorCode::RateLimited => got.rate_limited += 1,
                ServerEvent::Error(err) => panic!("{nick}: unexpected refusal {err:?}"),
                _ => {}
            },
            Some(Ok(Message::Close(frame))) => {
                got.close = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    got.outlived_flood = Instant::now() >= until;
    got.sent = writer.await.expect("the writer");
    got.lifetime = start.elapsed();
    got
}

/// One flooder: reconnects and floods again whenever it is closed, until the flood is over.
async fn flooder(url: String, k: usize, until: Instant) -> Vec<Flooded> {
    let mut connections = Vec::new();
    while Instant::now() < until {
        let nick = format!("f{k}n{}", connections.len());
        connections.push(flood_once(&url, &nick, until).await);
    }
    connections
}

/// Sends `GOOD_COUNT` messages, one every `GOOD_EVERY`, reading all the while; every one must be acked.
async fn behave(mut client: Client, sent_at: SentAt) {
    let mut tick = tokio::time::interval(GOOD_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut sent, mut acked) = (0, 0);
    while acked < GOOD_COUNT {
        tokio::select! {
            _ = tick.tick(), if sent < GOOD_COUNT => {
                let client_id = format!("good-{sent}");
                sent_at.lock().expect("lock").insert(client_id.clone(), Instant::now());
                let text = format!("good {sent}");
                client.send(&ClientMessage::Send { room: "lobby".into(), text, client_id, poll: None, reply_to: None, announce: false }).await;
                sent += 1;
            }
            event = client.try_recv() => match event {
                None => panic!("the good client was disconnected"),
                Some(ServerEvent::Ack(ack)) if ack.client_id.starts_with("good-") => acked += 1,
                Some(ServerEvent::Error(err)) => panic!("the good client was refused: {err:?}"),
                Some(_) => {}
            },
        }
    }
    client.ws.close(None).await.expect("close");
}

/// Reads the room until every good message arrived, in order; returns their latencies (send to delivery).
async fn watch(mut client: Client, sent_at: SentAt) -> Vec<Duration> {
    let mut latencies = Vec::new();
    let mut last_seq = 0;
    while latencies.len() < GOOD_COUNT {
        let Some(event) = client.try_recv().await else { panic!("the reader was disconnected") };
        let ServerEvent::Message(message) = event else { continue };
        assert!(message.seq > last_seq, "the room's seqs ascend: {} after {last_seq}", message.seq);
        last_seq = message.seq;
        if message.from == "good" {
            assert_eq!(message.client_id, format!("good-{}", latencies.len()), "good messages in order");
            let sent = sent_at.lock().expect("lock")[&message.client_id];
            latencies.push(sent.elapsed());
        }
    }
    client.ws.close(None).await.expect("close");
    latencies
}

/// Samples the server's RSS every 20 ms until `until`, returning the peak.
async fn peak_rss(pid: u32, until: Instant) -> u64 {
    let mut peak = 0;
    while Instant::now() < until {
        peak = peak.max(rss_kib(pid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    peak
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

/// Holds every flooding connection to the rate limit; returns a summary of the flood.
fn check_flooders(per_flooder: &[Vec<Flooded>]) -> String {
    for (k, flooded) in per_flooder.iter().enumerate() {
        assert!(flooded.iter().any(|c| c.rate_limited > 0), "flooder {k} was rate limited: {flooded:?}");
        assert!(flooded.iter().any(|c| c.close == Some(1008)), "flooder {k} was closed with 1008: {flooded:?}");
        for connection in flooded {
            assert!(connection.acks <= connection.allowed(), "flooder {k} beat the rate limit: {connection:?}");
            let closed_by_server = connection.close == Some(1008);
            assert!(closed_by_server || connection.outlived_flood, "flooder {k} was dropped: {connection:?}");
        }
    }
    let all: Vec<&Flooded> = per_flooder.iter().flatten().collect();
    let mut closes: BTreeMap<Option<u16>, usize> = BTreeMap::new();
    for connection in &all {
        *closes.entry(connection.close).or_default() += 1;
    }
    format!(
        "{} connections, {} sends, {} acked (at most {} on one connection), {} rate_limited, closes {closes:?}",
        all.len(),
        all.iter().map(|c| c.sent).sum::<u64>(),
        all.iter().map(|c| c.acks).sum::<u64>(),
        all.iter().map(|c| c.acks).max().unwrap_or_default(),
        all.iter().map(|c| c.rate_limited).sum::<u64>(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_flooders_are_held_to_the_rate_and_do_not_starve_a_polite_client() {
    let data = tempfile::tempdir().expect("temporary directory");
    let (rate, burst) = (RATE.to_string(), BURST.to_string());
    let server = ServerProcess::start(data.path(), 0, &["--rate-per-second", &rate, "--rate-burst", &burst]).await;
    let url = server.url();
    let idle_rss = server.rss_kib();

    let sent_at = SentAt::default();
    let mut reader = Client::connect(&url).await;
    reader.hello("reader").await;
    reader.join("lobby", None).await;
    let mut good = Client::connect(&url).await;
    good.hello("good").await;
    good.join("lobby", None).await;

    let until = Instant::now() + FLOOD;
    let sampling = tokio::spawn(peak_rss(server.pid(), until + Duration::from_millis(500)));
    let mut flooders = JoinSet::new();
    for k in 0..FLOODERS {
        flooders.spawn(flooder(url.clone(), k, until));
    }
    let watching = tokio::spawn(watch(reader, sent_at.clone()));
    behave(good, sent_at).await;
    let mut latencies = watching.await.expect("the reader");
    let mut per_flooder = Vec::new();
    while let Some(connections) = flooders.join_next().await {
        per_flooder.push(connections.expect("a flooder"));
    }
    let peak = sampling.await.expect("the sampler");
    wait_no_connections(server.addr).await;
    let after_rss = server.rss_kib();

    let summary = check_flooders(&per_flooder);
    assert!(peak < MAX_RSS_KIB && after_rss < MAX_RSS_KIB, "RSS peak {peak} KiB, after {after_rss} KiB");
    assert!(server.log().lines().all(|line| !line.contains("panicked")), "no panic:\n{}", server.log());

    latencies.sort();
    println!("abuse: {FLOODERS} flooders over {FLOOD:?}: {summary}");
    println!(
        "abuse: good client's {GOOD_COUNT} messages, latency p50 {:?} p99 {:?} max {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().expect("latencies"),
    );
    println!("abuse: server RSS idle {idle_rss} KiB, peak {peak} KiB, after {after_rss} KiB (bound {MAX_RSS_KIB})");
}

/// Connections per wave: the server's whole connection limit, so one leaked slot fails the next wave.
const SLOTS: usize = 16;
const WAVES: usize = 25;

/// One short-lived connection, ended in one of eight ways.
async fn churn_once(server: &TestServer, n: usize) {
    let addr = server.addr();
    let nick = format!("churn{n}");
    match n % 8 {
        0 => {
            let mut client = server.client(&nick).await;
            client.ws.close(None).await.expect("close");
            while let Some(Ok(_)) = client.ws.next().await {}
        }
        1 => drop(server.client(&nick).await),
        2 => drop(Client::connect(&server.url()).await),
        3 => {
            let mut client = server.client(&nick).await;
            client.join("lobby", None).await;
            let send = ClientMessage::Send {
                room: "lobby".into(),
                text: "bye".into(),
                client_id: nick,
                poll: None,
                reply_to: None,
                announce: false,
            };
            client.send(&send).await;
        }
        4 => drop(tokio::net::TcpStream::connect(addr).await.expect("tcp")),
        5 => {
            let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
            tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n").await.expect("half a request");
        }
        6 => {
            let mut client = server.client(&nick).await;
            // The server may close before the whole frame is written; the write then fails, the 1009 still arrives.
            let _ = client.ws.send(Message::text("z".repeat(1024 * 1024 + 1))).await;
            assert_eq!(client.expect_close().await, Some(1009));
        }
        _ => {
            let mut client = server.client(&nick).await;
            let frame = Frame::message(vec![b'{', 0xc3, 0x28], OpCode::Data(Data::Text), true);
            client.ws.send(Message::Frame(frame)).await.expect("send");
            assert_eq!(client.expect_close().await, Some(1007));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_churn_leaks_no_connection_slot() {
    let limits = ServerLimits { max_connections: SLOTS, ..ServerLimits::default() };
    let server = Arc::new(TestServer::with_limits(limits).await);
    let started = Instant::now();
    for wave in 0..WAVES {
        let mut churn = JoinSet::new();
        for i in 0..SLOTS {
            let server = server.clone();
            churn.spawn(async move { churn_once(&server, wave * SLOTS + i).await });
        }
        while let Some(done) = churn.join_next().await {
            done.expect("a churning client");
        }
        wait_no_connections(server.addr()).await;
    }
    println!("churn: {} connections in {:?}", WAVES * SLOTS, started.elapsed());

    // Every slot is free again, and the limit still holds.
    let mut full = Vec::new();
    for i in 0..SLOTS {
        full.push(server.client(&format!("after{i}")).await);
    }
    assert_eq!(health_connections(server.addr()).await, SLOTS as u64);
    let mut one_too_many = Client::connect(&server.url()).await;
    assert_eq!(one_too_many.expect_close().await, Some(1013));
    drop(full);
    wait_no_connections(server.addr()).await;
}
