//! `parlor-server`: parse arguments, start the server, stop it on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::io::IsTerminal;

use anyhow::Context;
use clap::{Parser, Subcommand};
use parlor_server::demo::{self, BotOptions};
use parlor_server::transcript;
use parlor_server::{Config, ServerPassword, DEFAULT_BIND};

/// Parlor's LAN chat server. Clients connect to ws://ADDRESS/ws.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address and port to listen on. The default accepts only this computer; use 0.0.0.0:7878 to let others on
    /// the LAN join. Port 0 picks a free port.
    #[arg(long, default_value = DEFAULT_BIND, env = "PARLOR_BIND")]
    bind: SocketAddr,
    /// Where to keep the history database (default: this OS's per-user data directory).
    #[arg(long, env = "PARLOR_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Log filter: error, warn, info, debug, trace, or a tracing directive such as `parlor_server=debug`.
    #[arg(long, default_value = "info", env = "PARLOR_LOG")]
    log_level: String,
    /// Most WebSocket connections at once.
    #[arg(long)]
    max_connections: Option<usize>,
    /// Messages kept per room; older ones are pruned.
    #[arg(long)]
    history_limit: Option<u64>,
    /// Sustained requests per second allowed per connection (default 10). Benchmarks raise it.
    #[arg(long)]
    rate_per_second: Option<u32>,
    /// Requests a connection may send at once above the sustained rate (default 20).
    #[arg(long)]
    rate_burst: Option<u32>,
    /// A file holding the password clients must give (first line). Also read from PARLOR_PASSWORD. A file or the
    /// environment keeps it off the command line, where other users of this computer could see it.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Serve wss:// with a self-signed certificate made on first start and kept in the data directory. The
    /// fingerprint printed at start goes in the join link, so clients know they reached this server.
    #[arg(long, env = "PARLOR_TLS")]
    tls: bool,
    /// With --tls, still accept plain ws:// from other computers (this computer may always use it).
    #[arg(long, requires = "tls")]
    allow_plain: bool,
    /// A web page origin allowed to open WebSockets (e.g. http://10.0.0.5:8080); repeat for more. Pages served by
    /// this server are always allowed, and clients that are not browsers send no origin.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<String>,
    /// Most connections from one other computer (default 32; 0 = no limit). This computer is never limited.
    #[arg(long)]
    max_connections_per_ip: Option<usize>,
    /// Sustained requests per second from one other computer across its connections (default 50; 0 = no limit).
    #[arg(long)]
    ip_rate_per_second: Option<u32>,
    /// Most rooms on the server (default 1000).
    #[arg(long)]
    max_rooms: Option<usize>,
    /// Deepest JSON nesting accepted in a request (default 16).
    #[arg(long)]
    max_json_depth: Option<usize>,
    /// Largest request frame answered normally, in bytes (default 16384); larger ones get frame_too_large.
    #[arg(long)]
    max_frame_bytes: Option<usize>,
    /// Largest frame read at all, in bytes (default 1 MiB); tungstenite stops reading beyond it and the
    /// connection is closed with 1009.
    #[arg(long)]
    hard_frame_bytes: Option<usize>,
    /// Longest message text, in characters (default 4000).
    #[arg(long)]
    max_text_chars: Option<usize>,
    /// Bytes of events that may wait for one slow reader before it is disconnected with 4001 (default 1 MiB).
    #[arg(long)]
    outbound_queue_bytes: Option<usize>,
    /// UDP port to answer the join code on (default 7879; 0 turns join codes off). Students type the code the server
    /// prints instead of its address.
    #[arg(long, default_value_t = parlor_protocol::join_code::DISCOVERY_PORT)]
    join_code_port: u16,
    /// Without a command, run the server.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bots: scripts that post as a named account with a token.
    #[command(subcommand)]
    Bot(BotCommand),
    /// Demo bots, as the tutorials had them, talking to a running server.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Write a room's transcript (every stored message, with poll results) as Markdown, HTML or JSON. Reads the
    /// history database directly; the server may be running.
    Export {
        /// The room.
        #[arg(long)]
        room: String,
        /// md, html or json.
        #[arg(long, default_value = "md")]
        format: String,
        /// Where to write it (default: parlor-ROOM-DATE.EXT in the current directory; `-` for standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum BotCommand {
    /// Make a token for bot NAME (registering it on first use) and print it. A script sends it as
    /// `Authorization: Bearer TOKEN` to POST /api/v1/rooms/ROOM/messages, or in `hello` as `auth.token`.
    Add {
        /// The bot's nickname.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Publish a random number (series `random` and `walk`) into a room every 0.2 s; clients draw a live chart.
    Ticker {
        #[command(flatten)]
        bot: BotArgs,
        /// Milliseconds between values.
        #[arg(long, default_value_t = 200)]
        every_ms: u64,
    },
    /// Answer every message in a room with "echo: …" as a reply.
    Echo {
        #[command(flatten)]
        bot: BotArgs,
    },
}

#[derive(Debug, clap::Args)]
struct BotArgs {
    /// The room (created if missing).
    #[arg(long)]
    room: String,
    /// The server's WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:7878/ws")]
    url: String,
    /// The bot's nickname (default: the demo's name).
    #[arg(long)]
    nick: Option<String>,
    /// A bot token from `parlor-server bot add`; also read from PARLOR_BOT_TOKEN.
    #[arg(long, env = "PARLOR_BOT_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl BotArgs {
    fn options(self, default_nick: &str) -> BotOptions {
        BotOptions {
            url: self.url,
            room: self.room,
            nick: self.nick.unwrap_or_else(|| default_nick.to_owned()),
            token: self.token,
        }
    }
}

/// Runs a subcommand instead of the server.
async fn run_command(command: Command, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    match command {
        Command::Bot(BotCommand::Add { name }) => {
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => {
                    Config::default_data_dir().context("this OS has no per-user data directory; pass --data-dir")?
                }
            };
            let token = parlor_server::create_bot_token(&data_dir, &name).await?;
            // stdout carries only the token, for scripts; the explanation goes to stderr.
            println!("{token}");
            eprintln!(
                "Bot {name:?} can now post with this token (shown once; run again for another): \
                 `Authorization: Bearer TOKEN` on POST /api/v1/rooms/ROOM/messages, or `auth.token` in `hello`."
            );
        }
        Command::Export { room, format, out } => {
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => {
                    Config::default_data_dir().context("this OS has no per-user data directory; pass --data-dir")?
                }
            };
            let format = transcript::Format::parse(&format)
                .with_context(|| format!("--format {format:?}: choose md, html or json"))?;
            let text = transcript::export(&data_dir, &room, format)?;
            match out {
                Some(path) if path.as_os_str() == "-" => print!("{text}"),
                out => {
                    let path = out.unwrap_or_else(|| {
                        PathBuf::from(transcript::file_name(&room, format, parlor_server::transcript::now_ms()))
                    });
                    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("Wrote the transcript of {room:?} to {}", path.display());
                }
            }
        }
        Command::Demo(DemoCommand::Ticker { bot, every_ms }) => {
            let every = std::time::Duration::from_millis(every_ms.max(20));
            eprintln!("Publishing to {:?} every {} ms; Ctrl-C stops.", bot.room, every.as_millis());
            demo::ticker(bot.options("ticker"), every, stop_signal()).await?;
        }
        Command::Demo(DemoCommand::Echo { bot }) => {
            eprintln!("Echoing messages in {:?}; Ctrl-C stops.", bot.room);
            demo::echo(bot.options("echo"), stop_signal()).await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .with_context(|| format!("--log-level {:?} is not a valid log filter", args.log_level))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    if let Some(command) = args.command {
        return run_command(command, args.data_dir).await;
    }
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => Config::default_data_dir().context("this OS has no per-user data directory; pass --data-dir")?,
    };
    let mut config = Config::new(data_dir);
    config.bind = args.bind;
    if let Some(max) = args.max_connections {
        config.limits.max_connections = max;
    }
    if let Some(rate) = args.rate_per_second {
        config.limits.rate_per_second = rate.max(1);
    }
    if let Some(burst) = args.rate_burst {
        config.limits.rate_burst = burst.max(1);
    }
    if let Some(limit) = args.history_limit {
        config.limits.history_limit = limit.max(1);
    }
    if let Some(max) = args.max_connections_per_ip {
        config.limits.max_connections_per_ip = max;
    }
    if let Some(rate) = args.ip_rate_per_second {
        config.limits.ip_rate_per_second = rate;
        config.limits.ip_rate_burst = rate.saturating_mul(2).max(1);
    }
    if let Some(max) = args.max_rooms {
        config.limits.max_rooms = max.max(1);
    }
    if let Some(depth) = args.max_json_depth {
        config.limits.max_json_depth = depth.max(2);
    }
    if let Some(bytes) = args.max_frame_bytes {
        config.limits.max_frame_bytes = bytes.max(1024);
    }
    if let Some(bytes) = args.hard_frame_bytes {
        config.limits.hard_frame_bytes = bytes.max(config.limits.max_frame_bytes);
    }
    if let Some(chars) = args.max_text_chars {
        config.limits.max_text_chars = chars.max(1);
    }
    if let Some(bytes) = args.outbound_queue_bytes {
        config.limits.outbound_queue_bytes = bytes.max(64 * 1024);
    }
    config.discovery_port = (args.join_code_port != 0).then_some(args.join_code_port);
    config.tls = args.tls;
    config.allow_plain = args.allow_plain;
    config.allowed_origins = args.allowed_origins;
    config.password = match &args.password_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the password file {}", path.display()))?;
            ServerPassword::new(text.lines().next().unwrap_or_default())
        }
        None => std::env::var("PARLOR_PASSWORD").ok().and_then(ServerPassword::new),
    };
    let data_dir = config.data_dir.clone();
    let server = parlor_server::start(config).await.context("the server could not start")?;
    let addr = server.local_addr();
    // stdout carries exactly this line, so scripts and the desktop app can read which port was picked.
    match server.tls_fingerprint() {
        Some(fingerprint) => {
            println!(
                "Parlor server listening on wss://{addr}/ws#sha256={fingerprint} (history in {})",
                data_dir.display()
            );
            eprintln!("Certificate fingerprint (SHA-256): {}", parlor_server::grouped_fingerprint(fingerprint));
            eprintln!("Give students the join link above: it lets their app check it reached this server.");
        }
        None => println!("Parlor server listening on ws://{addr}/ws (history in {})", data_dir.display()),
    }
    if let Some(code) = server.join_code() {
        eprintln!(
            "Join code: {} — students type it in the app instead of the address.",
            parlor_protocol::join_code::display(code)
        );
    }
    eprintln!(
        "To moderate (lock rooms, slow mode), send the token in {} with a `moderate` request; keep it private.",
        data_dir.join(parlor_server::MODERATOR_TOKEN_FILE).display()
    );
    if addr.ip().is_loopback() {
        eprintln!(
            "Only this computer can connect. To let others on the network join, run with --bind 0.0.0.0:{}",
            addr.port()
        );
    }
    stop_signal().await;
    eprintln!("Stopping: closing connections and saving history…");
    server.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
