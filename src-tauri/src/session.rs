//! One connection to a server: the client core, and the task that forwards its events to the UI, keeps session
//! tokens in the keyring, and raises notifications on the way.

use std::sync::{Arc, Mutex, PoisonError};

use parlor_client::{Client, ClientConfig, ClientEvent, ConnectionState, Password};
use parlor_protocol::ServerEvent;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::address::Address;
use crate::credentials::Secrets;
use crate::error::AppError;
use crate::events::{self, UiEvent};
use crate::notify::{self, Attention};
use crate::state::AppState;

/// The client's name in `hello`, for server logs.
const CLIENT_NAME: &str = concat!("parlor-desktop/", env!("CARGO_PKG_VERSION"));

/// Everything a connection is made with. It lives in memory for as long as the connection does (to connect again
/// after the user trusts a new certificate); only the session token and the server password of a remembered
/// profile are ever written, to the keyring. The account password is dropped as soon as a token replaces it.
#[derive(Debug, Clone)]
pub struct Login {
    /// Where to connect, with the join link's fingerprint if there was one.
    pub address: Address,
    /// The nickname as typed: it names the profile and its keyring entries.
    pub nick: String,
    /// The server password, when the host set one.
    pub server_password: Option<Password>,
    /// The password of a registered nickname, typed for this sign-in.
    pub account_password: Option<Password>,
    /// A session token from an earlier sign-in.
    pub session_token: Option<Password>,
    /// This device's key (none when the keyring is unavailable: then the app is a guest).
    pub device_key: Option<Password>,
    /// The moderator token of the server this app hosts, when connecting to it.
    pub moderator_token: Option<Password>,
    /// Whether the profile is remembered: only then does a session token go to the keyring.
    pub remember: bool,
}

/// What the forwarder learns that commands need later.
#[derive(Debug)]
struct Learned {
    /// The login, with the newest token and without the account password once a token replaced it.
    login: Login,
    /// The fingerprint (grouped) of the certificate the server presented when the client refused it as changed.
    untrusted: Option<String>,
}

/// A live connection.
pub struct Session {
    client: Client,
    forwarder: JoinHandle<()>,
    /// The server address, normalised, without a fingerprint.
    pub url: String,
    /// The nickname.
    pub nick: String,
    /// Where events go; kept to push shell events (settings changes) to the same UI, and for the connection that
    /// replaces this one after the user trusted a new certificate.
    channel: Channel<UiEvent>,
    learned: Arc<Mutex<Learned>>,
}

impl Session {
    /// Connects (in the background: progress arrives as `state` events) and starts forwarding.
    pub fn start<R: Runtime>(
        app: &AppHandle<R>,
        state: &AppState,
        login: Login,
        channel: Channel<UiEvent>,
    ) -> Result<Self, AppError> {
        let (events, received) = mpsc::unbounded_channel();
        // One outbox file for every server: the client keys queued messages by server and nickname.
        let mut config = ClientConfig::new(login.address.dial(), &login.nick, state.client_dir());
        config.password = login.server_password.clone();
        config.account_password = login.account_password.clone();
        config.session_token = login.session_token.clone();
        config.device_key = login.device_key.clone();
        config.moderator_token = login.moderator_token.clone();
        config.client_name = CLIENT_NAME.to_owned();
        let client = Client::start(config, events)?;
        let (url, nick) = (login.address.url.clone(), login.nick.clone());
        tracing::info!(
            %url,
            %nick,
            pinned = login.address.pin.is_some(),
            signing_in = login.account_password.is_some(),
            token = login.session_token.is_some(),
            device = login.device_key.is_some(),
            "connecting"
        );
        let learned = Arc::new(Mutex::new(Learned { login, untrusted: None }));
        let forwarder = Forwarder {
            app: app.clone(),
            secrets: state.secrets.clone(),
            learned: learned.clone(),
            channel: channel.clone(),
        };
        let forwarder = tokio::spawn(forwarder.run(received));
        Ok(Self { client, forwarder, url, nick, channel, learned })
    }

    /// The client, for commands.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The UI's event channel.
    pub fn channel(&self) -> &Channel<UiEvent> {
        &self.channel
    }

    /// Sends a shell event to this session's UI.
    pub fn send_ui(&self, event: UiEvent) {
        if let Err(err) = self.channel.send(event) {
            tracing::debug!(%err, "the UI channel is gone");
        }
    }

    /// The fingerprint (grouped) of the certificate the server presented, if the client refused it as changed.
    pub fn untrusted(&self) -> Option<String> {
        self.learned.lock().unwrap_or_else(PoisonError::into_inner).untrusted.clone()
    }

    /// The login to connect again with, as it stands now (newest token, no account password once signed in).
    pub fn login(&self) -> Login {
        self.learned.lock().unwrap_or_else(PoisonError::into_inner).login.clone()
    }

    /// Disconnects cleanly and stops forwarding.
    pub async fn stop(self) {
        self.client.shutdown().await;
        let _ = self.forwarder.await;
        tracing::info!(url = %self.url, "disconnected");
    }
}

/// The task between the client core and the UI.
struct Forwarder<R: Runtime> {
    app: AppHandle<R>,
    secrets: Secrets,
    learned: Arc<Mutex<Learned>>,
    channel: Channel<UiEvent>,
}

impl<R: Runtime> Forwarder<R> {
    async fn run(self, mut events: mpsc::UnboundedReceiver<ClientEvent>) {
        let mut me = self.login().nick;
        while let Some(event) = events.recv().await {
            let (ui, token) = events::for_ui(event);
            if let Some(token) = token {
                self.signed_in(token).await;
            }
            if let UiEvent::Client(client) = &ui {
                match client.as_ref() {
                    ClientEvent::Server { event } => match event {
                        ServerEvent::Welcome(welcome) => me.clone_from(&welcome.nick),
                        ServerEvent::Message(message) => maybe_notify(&self.app, &me, message),
                        ServerEvent::LoggedOut { sessions } => self.logged_out(*sessions).await,
                        _ => {}
                    },
                    ClientEvent::State(ConnectionState::Untrusted { presented, .. }) => {
                        self.learned().untrusted = Some(presented.clone());
                    }
                    _ => {}
                }
            }
            if let Err(err) = self.channel.send(ui) {
                tracing::debug!(%err, "the UI channel is gone; dropping an event");
            }
        }
    }

    fn learned(&self) -> std::sync::MutexGuard<'_, Learned> {
        self.learned.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn login(&self) -> Login {
        self.learned().login.clone()
    }

    /// A new session token (a password sign-in, or a registration): the client core already uses it for its own
    /// reconnects; a remembered profile also keeps it in the keyring for the next start.
    async fn signed_in(&self, token: Password) {
        let login = {
            let mut learned = self.learned();
            learned.login.session_token = Some(token.clone());
            learned.login.account_password = None;
            learned.login.clone()
        };
        if !login.remember {
            tracing::info!("signed in; the sign-in lasts until the app closes (the profile is not remembered)");
            return;
        }
        match self.secrets.save_session_token(&login.address.url, &login.nick, &token).await {
            Ok(()) => tracing::info!("signed in; the session token is in the keyring"),
            Err(err) => {
                tracing::warn!(%err, "signed in, but the keyring refused the session token: the password will be needed next time")
            }
        }
    }

    /// Every token of the account is revoked, this device's too: forget it, so the next start asks for the password.
    async fn logged_out(&self, sessions: u64) {
        let login = {
            let mut learned = self.learned();
            learned.login.session_token = None;
            learned.login.clone()
        };
        match self.secrets.forget_session_token(&login.address.url, &login.nick).await {
            Ok(()) => tracing::info!(sessions, "logged out everywhere; the session token is gone from the keyring"),
            Err(err) => tracing::warn!(%err, "logged out everywhere, but the keyring kept the revoked token"),
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
