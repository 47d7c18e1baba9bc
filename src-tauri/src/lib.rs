//! # parlor-desktop
//!
//! The Tauri 2 shell of the Parlor desktop app. It is only a shell: the connection logic lives in `parlor-client`,
//! the server in `parlor-server`, the interface in `ui/`.
//!
//! ## Layout
//! - [`commands`]: the commands the UI invokes (see `docs/APP-BRIDGE.md`).
//! - [`events`]: what travels to the UI on the event channel (never a session token).
//! - [`state`]: the one managed state.
//! - [`session`]: a connection — the client core plus the task forwarding its events and raising notifications.
//! - [`credentials`]: secrets in the OS keyring (server passwords, session tokens, the device key); [`profiles`]:
//!   recent servers in a config file.
//! - [`notify`]: when to notify, and notify-rust; [`tray`]: the tray icon; [`host`]: the built-in server.
//! - [`address`]: what a person types (or a join link) → the URL to dial; [`error`]: the error every command returns.

pub mod address;
pub mod commands;
pub mod credentials;
pub mod error;
pub mod events;
pub mod host;
pub mod links;
pub mod notify;
pub mod profiles;
pub mod session;
pub mod state;
pub mod tray;

use std::io::IsTerminal;

use tauri::{AppHandle, Manager, RunEvent, Runtime};

use crate::state::AppState;

/// Brings the main window to the front (from the tray, a notification, or a second launch).
pub fn focus_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Starts the app with logging to stderr (`PARLOR_LOG` sets the filter) and exits when its window closes.
pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PARLOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Err(err) = run_app(tauri::Builder::default()) {
        tracing::error!(%err, "Parlor could not start");
        eprintln!("Parlor could not start: {err}");
        std::process::exit(1);
    }
}

/// Builds and runs the app on any Tauri runtime.
pub fn run_app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Result<()> {
    let started = std::time::Instant::now();
    let app = builder
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| focus_main_window(app)))
        .plugin(links::guard())
        .setup(move |app| {
            let state =
                AppState::new(app.handle(), started).map_err(|err| Box::new(err) as Box<dyn std::error::Error>)?;
            app.manage(state);
            if let Err(err) = tray::build(app.handle()) {
                tracing::warn!(%err, "no tray icon on this desktop");
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::auto_connect,
            commands::connect,
            commands::disconnect,
            commands::forget_profile,
            commands::trust_certificate,
            commands::register_nickname,
            commands::logout_everywhere,
            commands::send_message,
            commands::join_room,
            commands::leave_room,
            commands::create_room,
            commands::set_topic,
            commands::set_typing,
            commands::lock_room,
            commands::unlock_room,
            commands::slow_mode,
            commands::raise_hand,
            commands::call_on,
            commands::clear_hands,
            commands::send_poll,
            commands::vote,
            commands::close_poll,
            commands::react,
            commands::edit_message,
            commands::delete_message,
            commands::send_announcement,
            commands::acknowledge,
            commands::mute_member,
            commands::remove_member,
            commands::pin_message,
            commands::search_room,
            commands::export_room,
            commands::set_room_password,
            commands::open_link,
            commands::load_history,
            commands::host_start,
            commands::host_stop,
            commands::host_status,
            commands::set_notify_prefs,
            commands::set_active_room,
            commands::set_unread,
        ])
        .build(tauri::generate_context!())?;
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // Close the connection (close 1000) and stop hosting (clients get "going away", history is flushed).
            let state = app.state::<AppState>();
            tauri::async_runtime::block_on(async {
                if let Some(session) = state.session.lock().await.take() {
                    session.stop().await;
                }
                if let Some(hosted) = state.host.lock().await.take() {
                    hosted.stop().await;
                }
            });
        }
    });
    Ok(())
}
