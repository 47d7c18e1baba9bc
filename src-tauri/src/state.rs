//! The one piece of managed state: the current connection, host mode, notification settings and where files go.

use std::path::PathBuf;
use std::sync::Mutex;

use tauri::{AppHandle, Manager, Runtime};

use crate::credentials::Secrets;
use crate::error::AppError;
use crate::host::Hosted;
use crate::notify::NotifyPrefs;
use crate::profiles::Profiles;
use crate::session::Session;

/// Everything the commands share.
pub struct AppState {
    /// The connection to a server, if any. A tokio mutex: stopping a session awaits while holding it.
    pub session: tokio::sync::Mutex<Option<Session>>,
    /// The server hosted by this app, if any.
    pub host: tokio::sync::Mutex<Option<Hosted>>,
    /// Do-not-disturb and muted rooms.
    pub prefs: Mutex<NotifyPrefs>,
    /// The room on screen, so messages there do not notify while the window is focused.
    pub active_room: Mutex<Option<String>>,
    /// Recent servers.
    pub profiles: Profiles,
    /// The app's data directory: outboxes, known server certificates and the hosted server's history.
    pub data_dir: PathBuf,
    /// Passwords, session tokens and the device key, in the OS keyring.
    pub secrets: Secrets,
    /// When the process started, to log how long the window took to become usable (a benchmark figure).
    pub started: std::time::Instant,
    /// Whether that has been logged.
    pub ready_logged: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// Finds the per-user directories for this app.
    pub fn new<R: Runtime>(app: &AppHandle<R>, started: std::time::Instant) -> Result<Self, AppError> {
        let paths = app.path();
        let data_dir = paths.app_data_dir().map_err(|err| AppError::Config(format!("no data directory: {err}")))?;
        let config_dir =
            paths.app_config_dir().map_err(|err| AppError::Config(format!("no config directory: {err}")))?;
        Ok(Self {
            session: tokio::sync::Mutex::new(None),
            host: tokio::sync::Mutex::new(None),
            prefs: Mutex::new(NotifyPrefs::default()),
            active_room: Mutex::new(None),
            profiles: Profiles::new(config_dir.join("profiles.json")),
            data_dir,
            secrets: Secrets::os(),
            started,
            ready_logged: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The client core's data directory: the outbox and `known-servers.json` (the certificates trusted).
    pub fn client_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// A snapshot of the notification settings.
    pub fn prefs(&self) -> NotifyPrefs {
        self.prefs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The room on screen.
    pub fn active_room(&self) -> Option<String> {
        self.active_room.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
