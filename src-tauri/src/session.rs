//! One connection to a server: the client core, and the task that forwards its events to the UI and raises
//! notifications on the way.

use parlor_client::{Client, ClientConfig, ClientEvent, Password};
use parlor_protocol::ServerEvent;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::AppError;
use crate::events::UiEvent;
use crate::notify::{self, Attention};
use crate::state::AppState;

/// The client's name in `hello`, for server logs.
const CLIENT_NAME: &str = concat!("parlor-desktop/", env!("CARGO_PKG_VERSION"));

/// A live connection.
pub struct Session {
    client: Client,
    forwarder: JoinHandle<()>,
    /// The server address, normalised.
    pub url: String,
    /// The nickname.
    pub nick: String,
    /// Where events go; kept to push shell events (settings changes) to the same UI.
    channel: Channel<UiEvent>,
}

impl Session {
    /// Connects (in the background: progress arrives as `state` events) and starts forwarding.
    pub fn start<R: Runtime>(
        app: &AppHandle<R>,
        state: &AppState,
        url: String,
        nick: String,
        password: Option<Password>,
        channel: Channel<UiEvent>,
    ) -> Result<Self, AppError> {
        let (events, received) = mpsc::unbounded_channel();
        // One outbox file for every server: the client keys queued messages by server and nickname.
        let mut config = ClientConfig::new(&url, &nick, state.data_dir.join("outbox"));
        config.password = password;
        config.client_name = CLIENT_NAME.to_owned();
        let client = Client::start(config, events)?;
        let forwarder = tokio::spawn(forward(app.clone(), nick.clone(), received, channel.clone()));
        tracing::info!(%url, %nick, "connecting");
        Ok(Self { client, forwarder, url, nick, channel })
    }

    /// The client, for commands.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends a shell event to this session's UI.
    pub fn send_ui(&self, event: UiEvent) {
        if let Err(err) = self.channel.send(event) {
            tracing::debug!(%err, "the UI channel is gone");
        }
    }

    /// Disconnects cleanly and stops forwarding.
    pub async fn stop(self) {
        self.client.shutdown().await;
        let _ = self.forwarder.await;
        tracing::info!(url = %self.url, "disconnected");
    }
}

async fn forward<R: Runtime>(
    app: AppHandle<R>,
    mut nick: String,
    mut events: mpsc::UnboundedReceiver<ClientEvent>,
    channel: Channel<UiEvent>,
) {
    while let Some(event) = events.recv().await {
        if let ClientEvent::Server { event } = &event {
            match event {
                ServerEvent::Welcome(welcome) => nick.clone_from(&welcome.nick),
                ServerEvent::Message(message) => maybe_notify(&app, &nick, message),
                _ => {}
            }
        }
        if let Err(err) = channel.send(UiEvent::Client(event)) {
            tracing::debug!(%err, "the UI channel is gone; dropping an event");
        }
    }
}

fn maybe_notify<R: Runtime>(app: &AppHandle<R>, me: &str, message: &parlor_protocol::ChatMessage) {
    let state = app.state::<AppState>();
    let window = app.get_webview_window("main");
    let focused = window.as_ref().and_then(|w| w.is_focused().ok()).unwrap_or(false);
    let active_room = state.active_room();
    let attention = Attention { focused, active_room: active_room.as_deref() };
    if let Some(notice) = notify::decide(message, me, &state.prefs(), attention) {
        let app = app.clone();
        notify::show(notice, move || crate::focus_main_window(&app));
    }
}
