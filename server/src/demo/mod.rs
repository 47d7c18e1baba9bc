//! The demo bots, as the seed tutorials had them: a ticker that publishes a random number every 0.2 s into a room
//! (drawn as a live chart by every client) and an echo bot that answers each message. They are ordinary clients of
//! a running server — `parlor-server demo ticker --room lab` — and show what a script of one's own can do.

mod echo;
mod ticker;

use futures_util::{SinkExt, StreamExt};
use parlor_protocol::{Auth, ClientMessage, Conversation, ErrorCode, Secret, ServerEvent, PROTOCOL_VERSION};
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use echo::echo;
pub use ticker::ticker;

/// Where a demo bot goes and who it is.
#[derive(Debug, Clone)]
pub struct BotOptions {
    /// The server's WebSocket URL, e.g. `ws://127.0.0.1:7878/ws`.
    pub url: String,
    /// The room to post in (created if missing).
    pub room: String,
    /// The bot's nickname.
    pub nick: String,
    /// A bot token (`parlor-server bot add NICK`), when the nickname is a bot account.
    pub token: Option<String>,
}

/// Why a demo bot stopped.
#[derive(Debug, Error)]
pub enum DemoError {
    /// The server could not be reached.
    #[error("cannot connect to {url}: {reason} (is the server running? start it with `parlor-server`)")]
    Connect {
        /// The URL tried.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server refused the bot.
    #[error("the server refused the bot: {0}")]
    Refused(String),
    /// The connection ended.
    #[error("the connection ended: {0}")]
    Closed(String),
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A bot's connection: greeted, in its room.
struct Bot {
    ws: Socket,
    options: BotOptions,
}

impl Bot {
    /// Connects, says hello, creates the room if needed and joins it.
    async fn start(mut options: BotOptions) -> Result<Self, DemoError> {
        match Conversation::parse(&options.room) {
            Ok(Conversation::Room(room)) => options.room = room,
            _ => return Err(DemoError::Refused(format!("{:?} is not a room name", options.room))),
        }
        let (ws, _) = tokio_tungstenite::connect_async(options.url.as_str())
            .await
            .map_err(|err| DemoError::Connect { url: options.url.clone(), reason: err.to_string() })?;
        let mut bot = Self { ws, options };
        let auth = bot.options.token.as_ref().map(|token| Auth { token: Some(Secret::new(token)), ..Auth::default() });
        let hello = ClientMessage::Hello {
            protocol: PROTOCOL_VERSION,
            nick: bot.options.nick.clone(),
            client: Some(concat!("parlor-demo/", env!("CARGO_PKG_VERSION")).to_owned()),
            password: None,
            auth,
        };
        bot.send(&hello).await?;
        bot.until(|event| match event {
            ServerEvent::Welcome(_) => Some(Ok(())),
            ServerEvent::Error(error) => Some(Err(DemoError::Refused(error.message))),
            _ => None,
        })
        .await??;
        let room = bot.options.room.clone();
        bot.send(&ClientMessage::CreateRoom { room: room.clone(), topic: None, password: None }).await?;
        bot.send(&ClientMessage::Join { room, after: None, after_rev: None, password: None }).await?;
        bot.until(|event| match event {
            ServerEvent::Joined(_) => Some(Ok(())),
            ServerEvent::Error(error) if error.code != ErrorCode::RoomExists => {
                Some(Err(DemoError::Refused(error.message)))
            }
            _ => None,
        })
        .await??;
        Ok(bot)
    }

    async fn send(&mut self, message: &ClientMessage) -> Result<(), DemoError> {
        let text = serde_json::to_string(message).map_err(|err| DemoError::Closed(err.to_string()))?;
        self.ws.send(Message::text(text)).await.map_err(|err| DemoError::Closed(err.to_string()))
    }

    /// The next server event; answering pings happens while reading.
    async fn next(&mut self) -> Result<ServerEvent, DemoError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(event) = serde_json::from_str(text.as_str()) {
                        return Ok(event);
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let reason = frame.map_or_else(|| "closed".to_owned(), |f| f.reason.to_string());
                    return Err(DemoError::Closed(reason));
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(DemoError::Closed(err.to_string())),
                None => return Err(DemoError::Closed("the server went away".into())),
            }
        }
    }

    async fn until<T>(&mut self, mut pick: impl FnMut(ServerEvent) -> Option<T>) -> Result<T, DemoError> {
        loop {
            if let Some(found) = pick(self.next().await?) {
                return Ok(found);
            }
        }
    }
}
