//! The commands the UI invokes (docs/APP-BRIDGE.md). Each is thin: check input, call the session, host or settings,
//! and turn failures into an [`AppError`] the UI can branch on.

use parlor_server::transcript;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use parlor_client::trust::{self, Fingerprint};
use parlor_client::{Draft, Password};
use parlor_protocol::PollSpec;

use crate::error::AppError;
use crate::events::UiEvent;
use crate::host::{HostInfo, Hosted};
use crate::profiles::Profile;
use crate::session::{Login, Session};
use crate::state::AppState;
use crate::{address, tray};

/// A saved server as the connect screen lists it.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    url: String,
    nick: String,
    remembered: bool,
}

/// The reply to `app_info`.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    version: &'static str,
    profiles: Vec<ProfileView>,
}

/// Where a connection goes.
#[derive(Debug, Serialize)]
pub struct Connected {
    url: String,
    nick: String,
}

/// Version and recent servers, for the connect screen.
#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, AppError> {
    // The UI asks for this first, right after its first render: the launch time benchmarks report.
    if !state.ready_logged.swap(true, std::sync::atomic::Ordering::Relaxed) {
        let ms = u64::try_from(state.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(ms, "window ready: the UI made its first call");
    }
    let profiles = state.profiles.list().unwrap_or_else(|err| {
        tracing::warn!(%err, "ignoring the profiles file");
        Vec::new()
    });
    let profiles = profiles
        .into_iter()
        .map(|Profile { url, nick, remember, .. }| ProfileView { url, nick, remembered: remember })
        .collect();
    Ok(AppInfo { version: env!("CARGO_PKG_VERSION"), profiles })
}

async fn replace_session<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    login: Login,
    on_event: Channel<UiEvent>,
) -> Result<Connected, AppError> {
    let mut current = state.session.lock().await;
    if let Some(old) = current.take() {
        old.stop().await;
    }
    let connected = Connected { url: login.address.url.clone(), nick: login.nick.clone() };
    let session = Session::start(app, state, login, on_event)?;
    *current = Some(session);
    Ok(connected)
}

/// The stored session token of a profile. A keyring that cannot be read only costs the sign-in (the server then
/// asks for the password, and says so), so it is logged rather than stopping the connection.
async fn stored_token(state: &AppState, url: &str, nick: &str) -> Option<Password> {
    state.secrets.session_token(url, nick).await.unwrap_or_else(|err| {
        tracing::warn!(%err, "cannot read the session token; connecting without it");
        None
    })
}

/// Connects with the newest remembered profile, its secrets from the keyring; `None` when there is none.
#[tauri::command]
pub async fn auto_connect<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    on_event: Channel<UiEvent>,
) -> Result<Option<Connected>, AppError> {
    let Some(profile) = state.profiles.remembered()? else { return Ok(None) };
    let address = address::normalize(&profile.url)?;
    let server_password = state.secrets.server_password(&address.url, &profile.nick).await?;
    let session_token = stored_token(&state, &address.url, &profile.nick).await;
    let device_key = state.secrets.device_key().await;
    let login = Login {
        address,
        nick: profile.nick,
        server_password,
        account_password: None,
        session_token,
        device_key,
        // The app hosts nothing yet at launch.
        moderator_token: None,
        remember: true,
    };
    let connected = replace_session(&app, &state, login, on_event).await?;
    Ok(Some(connected))
}

/// Connects to a server. With `remember`, saves the profile, keeps the server password in the keyring, and signs in
/// with the stored session token when no account password is typed; without it, the profile's token is forgotten.
/// The account password itself is never stored.
#[tauri::command]
#[allow(clippy::too_many_arguments)] // One per field of the connect form, as the bridge sends them.
pub async fn connect<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    nick: String,
    password: Option<String>,
    account_password: Option<String>,
    remember: bool,
    on_event: Channel<UiEvent>,
) -> Result<Connected, AppError> {
    // A join code (e.g. K7P-3QX) is looked up on the network first; the server that answers gives its join link.
    let url = if parlor_protocol::join_code::is_code(&url) {
        let targets = parlor_client::join_code::default_targets();
        parlor_client::join_code::find(&url, &targets, parlor_client::join_code::WAIT).await?
    } else {
        url
    };
    let address = address::normalize(&url)?;
    let nick = nick.trim().to_owned();
    parlor_protocol::names::validate_nick(&nick)
        .map_err(|err| AppError::InvalidInput(format!("that nickname is not allowed: {err}")))?;
    let server_password = password.and_then(Password::new);
    let account_password = account_password.and_then(Password::new);
    let secrets = &state.secrets;
    let session_token = if remember {
        match &server_password {
            Some(secret) => secrets.save_server_password(&address.url, &nick, secret).await?,
            None => secrets.forget_server_password(&address.url, &nick).await?,
        }
        // A typed password is a fresh sign-in: it gets a new token, which replaces the stored one.
        match account_password {
            Some(_) => None,
            None => stored_token(&state, &address.url, &nick).await,
        }
    } else {
        // No longer remembered: this computer keeps no sign-in for the profile. (Only a remembered profile can have
        // one, so other connections, such as to a hosted server, do not touch the keyring for it.)
        if state.profiles.is_remembered(&address.url, &nick).unwrap_or(true) {
            if let Err(err) = secrets.forget_session_token(&address.url, &nick).await {
                tracing::warn!(%err, "cannot remove the stored session token");
            }
        }
        None
    };
    if let Err(err) = state.profiles.touch(&address.url, &nick, remember) {
        tracing::warn!(%err, "could not save the profile; connecting anyway");
    }
    let device_key = secrets.device_key().await;
    let moderator_token = state.host.lock().await.as_ref().and_then(|hosted| hosted.moderator_token_for(&address.url));
    let login = Login {
        address,
        nick,
        server_password,
        account_password,
        session_token,
        device_key,
        moderator_token,
        remember,
    };
    replace_session(&app, &state, login, on_event).await
}

/// Disconnects; the UI goes back to the connect screen.
#[tauri::command]
pub async fn disconnect(state: State<'_, AppState>) -> Result<(), AppError> {
    if let Some(session) = state.session.lock().await.take() {
        session.stop().await;
    }
    Ok(())
}

/// Forgets a saved server and its keyring entries (server password and session token).
#[tauri::command]
pub async fn forget_profile(state: State<'_, AppState>, url: String, nick: String) -> Result<(), AppError> {
    state.secrets.forget_server_password(&url, &nick).await?;
    state.secrets.forget_session_token(&url, &nick).await?;
    state.profiles.forget(&url, &nick)
}

/// Trusts the certificate the current server presented after the client refused it as changed, then connects
/// again on the same event stream. `fingerprint` is the one the user was shown: if the server has presented
/// another since, nothing is trusted, so the user only ever trusts what they compared.
#[tauri::command]
pub async fn trust_certificate<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    fingerprint: String,
) -> Result<Connected, AppError> {
    let mut current = state.session.lock().await;
    let session = current.as_ref().ok_or(AppError::NotConnected)?;
    let shown = Fingerprint::parse(&fingerprint)
        .map_err(|err| AppError::InvalidInput(format!("that is not a certificate fingerprint: {err}")))?;
    let presented = session.untrusted().and_then(|presented| Fingerprint::parse(&presented).ok());
    if presented.as_ref() != Some(&shown) {
        return Err(AppError::InvalidInput(
            "the server did not present that certificate; nothing was trusted. Connect again to see what it presents now"
                .into(),
        ));
    }
    let mut login = session.login();
    // The join link's pin named the old certificate; from now on known-servers.json names the new one.
    login.address.pin = None;
    trust::trust_fingerprint(&state.client_dir(), login.address.host_port(), &shown)
        .map_err(|err| AppError::Storage(err.to_string()))?;
    tracing::warn!(server = %login.address.host_port(), fingerprint = %shown, "the user trusted a new server certificate");
    let channel = session.channel().clone();
    if let Some(old) = current.take() {
        old.stop().await;
    }
    let connected = Connected { url: login.address.url.clone(), nick: login.nick.clone() };
    *current = Some(Session::start(&app, &state, login, channel)?);
    Ok(connected)
}

/// Registers the connected nickname as an account with `password`. The answer arrives as a `registered` event (its
/// token stays in the shell) or an `error` (`already_registered`, `weak_password`).
#[tauri::command]
pub async fn register_nickname(state: State<'_, AppState>, password: String) -> Result<(), AppError> {
    with_client(&state, |client| client.register(&password)).await
}

/// Revokes every session token of the signed-in account; the answer is a `logged_out` event, after which the
/// stored token is gone from the keyring.
#[tauri::command]
pub async fn logout_everywhere(state: State<'_, AppState>) -> Result<(), AppError> {
    with_client(&state, |client| client.logout_everywhere()).await
}

/// Runs `act` on the connected client.
async fn with_client<T>(
    state: &AppState,
    act: impl FnOnce(&parlor_client::Client) -> Result<T, parlor_client::ClientError>,
) -> Result<T, AppError> {
    let session = state.session.lock().await;
    let session = session.as_ref().ok_or(AppError::NotConnected)?;
    Ok(act(session.client())?)
}

/// Posts a message (queued while offline); returns its client id.
#[tauri::command]
pub async fn send_message(
    state: State<'_, AppState>,
    room: String,
    text: String,
    reply_to: Option<u64>,
) -> Result<String, AppError> {
    with_client(&state, |client| client.post(&room, Draft { text, reply_to, ..Draft::default() })).await
}

/// Moderators: queues an announcement that each participant acknowledges; returns its client id.
#[tauri::command]
pub async fn send_announcement(state: State<'_, AppState>, room: String, text: String) -> Result<String, AppError> {
    with_client(&state, |client| client.post(&room, Draft { text, announce: true, ..Draft::default() })).await
}

/// Searches a room's history (the answer is a `search_results` event).
#[tauri::command]
pub async fn search_room(
    state: State<'_, AppState>,
    room: String,
    query: String,
    before: Option<u64>,
) -> Result<(), AppError> {
    with_client(&state, |client| client.search(&room, &query, before)).await
}

/// Says "I've read it" to an announcement.
#[tauri::command]
pub async fn acknowledge(state: State<'_, AppState>, room: String, seq: u64) -> Result<(), AppError> {
    with_client(&state, |client| client.acknowledge(&room, seq)).await
}

/// Moderators: mutes or unmutes someone in a room.
#[tauri::command]
pub async fn mute_member(state: State<'_, AppState>, room: String, nick: String, muted: bool) -> Result<(), AppError> {
    with_client(&state, |client| client.mute(&room, &nick, muted)).await
}

/// Moderators: removes someone from a room, or readmits them.
#[tauri::command]
pub async fn remove_member(
    state: State<'_, AppState>,
    room: String,
    nick: String,
    removed: bool,
) -> Result<(), AppError> {
    with_client(&state, |client| client.remove(&room, &nick, removed)).await
}

/// Moderators: pins a message (or, without `seq`, unpins).
#[tauri::command]
pub async fn pin_message(state: State<'_, AppState>, room: String, seq: Option<u64>) -> Result<(), AppError> {
    with_client(&state, |client| client.pin(&room, seq)).await
}

/// Queues a poll (its question and options) like a message; returns its client id.
#[tauri::command]
pub async fn send_poll(
    state: State<'_, AppState>,
    room: String,
    question: String,
    options: Vec<String>,
    multiple: bool,
) -> Result<String, AppError> {
    let draft = Draft { text: question, poll: Some(PollSpec { options, multiple }), ..Draft::default() };
    with_client(&state, |client| client.post(&room, draft)).await
}

/// Votes in a poll, replacing the user's earlier vote (no choices: withdraws it).
#[tauri::command]
pub async fn vote(state: State<'_, AppState>, room: String, seq: u64, choices: Vec<u32>) -> Result<(), AppError> {
    with_client(&state, |client| client.vote(&room, seq, &choices)).await
}

/// Ends a poll (its creator or a moderator).
#[tauri::command]
pub async fn close_poll(state: State<'_, AppState>, room: String, seq: u64) -> Result<(), AppError> {
    with_client(&state, |client| client.close_poll(&room, seq)).await
}

/// Adds or takes back the user's reaction to a message.
#[tauri::command]
pub async fn react(
    state: State<'_, AppState>,
    room: String,
    seq: u64,
    emoji: String,
    on: bool,
) -> Result<(), AppError> {
    with_client(&state, |client| client.react(&room, seq, &emoji, on)).await
}

/// Changes the text of the user's own message.
#[tauri::command]
pub async fn edit_message(state: State<'_, AppState>, room: String, seq: u64, text: String) -> Result<(), AppError> {
    with_client(&state, |client| client.edit(&room, seq, &text)).await
}

/// Deletes a message: the user's own, or anyone's for a moderator.
#[tauri::command]
pub async fn delete_message(state: State<'_, AppState>, room: String, seq: u64) -> Result<(), AppError> {
    with_client(&state, |client| client.delete(&room, seq)).await
}

/// Joins a room or opens a direct conversation.
#[tauri::command]
pub async fn join_room(state: State<'_, AppState>, room: String, password: Option<String>) -> Result<(), AppError> {
    match password.filter(|p| !p.is_empty()) {
        Some(password) => with_client(&state, |client| client.join_with_password(&room, &password)).await,
        None => with_client(&state, |client| client.join(&room)).await,
    }
}

/// Leaves a room.
#[tauri::command]
pub async fn leave_room(state: State<'_, AppState>, room: String) -> Result<(), AppError> {
    with_client(&state, |client| client.leave(&room)).await
}

/// Creates a room.
#[tauri::command]
pub async fn create_room(
    state: State<'_, AppState>,
    room: String,
    topic: Option<String>,
    password: Option<String>,
) -> Result<(), AppError> {
    let topic = topic.unwrap_or_default();
    match password.filter(|p| !p.is_empty()) {
        Some(password) => {
            with_client(&state, |client| client.create_room_with_password(&room, &topic, &password)).await
        }
        None => with_client(&state, |client| client.create_room(&room, &topic)).await,
    }
}

/// Moderators: gives a room a password, or (empty) removes it.
#[tauri::command]
pub async fn set_room_password(state: State<'_, AppState>, room: String, password: String) -> Result<(), AppError> {
    with_client(&state, |client| client.set_room_password(&room, &password)).await
}

/// Changes a room's topic.
#[tauri::command]
pub async fn set_topic(state: State<'_, AppState>, room: String, topic: String) -> Result<(), AppError> {
    with_client(&state, |client| client.set_topic(&room, &topic)).await
}

/// Moderators: locks a room, for `seconds` or until unlocked (the answer arrives as a `room_state` event).
#[tauri::command]
pub async fn lock_room(state: State<'_, AppState>, room: String, seconds: Option<u32>) -> Result<(), AppError> {
    with_client(&state, |client| client.lock_room(&room, seconds)).await
}

/// Moderators: unlocks a room.
#[tauri::command]
pub async fn unlock_room(state: State<'_, AppState>, room: String) -> Result<(), AppError> {
    with_client(&state, |client| client.unlock_room(&room)).await
}

/// Moderators: sets slow mode (0 turns it off).
#[tauri::command]
pub async fn slow_mode(state: State<'_, AppState>, room: String, seconds: u32) -> Result<(), AppError> {
    with_client(&state, |client| client.slow_mode(&room, seconds)).await
}

/// Raises or lowers the user's hand in a room.
#[tauri::command]
pub async fn raise_hand(state: State<'_, AppState>, room: String, raised: bool) -> Result<(), AppError> {
    with_client(&state, |client| client.raise_hand(&room, raised)).await
}

/// Moderators: calls on someone in a room.
#[tauri::command]
pub async fn call_on(state: State<'_, AppState>, room: String, nick: String) -> Result<(), AppError> {
    with_client(&state, |client| client.call_on(&room, &nick)).await
}

/// Moderators: lowers every hand in a room.
#[tauri::command]
pub async fn clear_hands(state: State<'_, AppState>, room: String) -> Result<(), AppError> {
    with_client(&state, |client| client.clear_hands(&room)).await
}

/// Says whether the user is typing.
#[tauri::command]
pub async fn set_typing(state: State<'_, AppState>, room: String, typing: bool) -> Result<(), AppError> {
    with_client(&state, |client| client.typing(&room, typing)).await
}

/// Asks for a page of history, before or after a point (it arrives as a `history` event).
#[tauri::command]
pub async fn load_history(
    state: State<'_, AppState>,
    room: String,
    before: Option<u64>,
    after: Option<u64>,
) -> Result<(), AppError> {
    with_client(&state, |client| client.history(&room, before, after)).await
}

/// Starts the built-in server; `lan` opens it to the network.
#[tauri::command]
pub async fn host_start(state: State<'_, AppState>, lan: bool) -> Result<HostInfo, AppError> {
    let mut host = state.host.lock().await;
    if host.is_some() {
        return Err(AppError::AlreadyHosting);
    }
    let hosted = Hosted::start(state.data_dir.join("server"), lan).await?;
    let info = hosted.info().clone();
    *host = Some(hosted);
    Ok(info)
}

/// Stops the built-in server.
#[tauri::command]
pub async fn host_stop(state: State<'_, AppState>) -> Result<(), AppError> {
    if let Some(hosted) = state.host.lock().await.take() {
        hosted.stop().await;
    }
    Ok(())
}

/// Host: writes a room's transcript (with poll results) from this computer's hosted server, as `format` (`md`,
/// `html` or `json`), into the Downloads folder, and returns the file's path. Works after hosting stopped too.
#[tauri::command]
pub async fn export_room<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    room: String,
    format: String,
) -> Result<String, AppError> {
    let format = transcript::Format::parse(&format).ok_or_else(|| {
        AppError::InvalidInput(format!("{format:?} is not a transcript format; choose md, html or json"))
    })?;
    let history = state.data_dir.join("server");
    let folder = app.path().download_dir().unwrap_or_else(|_| state.data_dir.join("exports"));
    let write = move || -> Result<String, AppError> {
        let text = transcript::export(&history, &room, format).map_err(|err| match err {
            transcript::TranscriptError::Database(err) => AppError::Storage(err.to_string()),
            other => AppError::InvalidInput(format!("{other}; only rooms this computer hosted can be exported")),
        })?;
        std::fs::create_dir_all(&folder).map_err(|err| AppError::Storage(err.to_string()))?;
        // The file name is built from letters, digits, '-' and '_' only: it stays in the folder.
        let path = folder.join(transcript::file_name(&room, format, transcript::now_ms()));
        std::fs::write(&path, text).map_err(|err| AppError::Storage(format!("{}: {err}", path.display())))?;
        Ok(path.display().to_string())
    };
    tokio::task::spawn_blocking(write).await.map_err(|err| AppError::Internal(err.to_string()))?
}

/// Opens a link from a message in the system browser (only `http`, `https` and `mailto`; never inside the app).
#[tauri::command]
pub async fn open_link(url: String) -> Result<(), AppError> {
    let url = crate::links::external(&url)?;
    crate::links::open(&url)
}

/// What is being hosted, if anything.
#[tauri::command]
pub async fn host_status(state: State<'_, AppState>) -> Result<Option<HostInfo>, AppError> {
    Ok(state.host.lock().await.as_ref().map(|hosted| hosted.info().clone()))
}

/// Sets do-not-disturb and muted rooms.
#[tauri::command]
pub async fn set_notify_prefs<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dnd: bool,
    muted: Vec<String>,
) -> Result<(), AppError> {
    *state.prefs.lock().unwrap_or_else(|p| p.into_inner()) =
        crate::notify::NotifyPrefs { dnd, muted: muted.into_iter().collect() };
    tray::show_dnd(&app, dnd);
    Ok(())
}

/// Records the room on screen.
#[tauri::command]
pub async fn set_active_room(state: State<'_, AppState>, room: Option<String>) -> Result<(), AppError> {
    *state.active_room.lock().unwrap_or_else(|p| p.into_inner()) = room;
    Ok(())
}

/// Shows the unread total in the title and tray.
#[tauri::command]
pub async fn set_unread<R: Runtime>(app: AppHandle<R>, total: u32) -> Result<(), AppError> {
    tray::show_unread(&app, total);
    Ok(())
}
