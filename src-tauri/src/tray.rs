//! The tray icon: the unread total in its tooltip, and a menu to show the window, toggle do-not-disturb, or quit.

use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::events::{PrefsChanged, UiEvent};
use crate::state::AppState;

const TRAY_ID: &str = "main";
const DND_ID: &str = "dnd";

/// Creates the tray icon. A desktop without a tray simply shows none.
pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let show = MenuItem::with_id(app, "show", "Show Parlor", true, None::<&str>)?;
    let dnd = CheckMenuItem::with_id(app, DND_ID, "Do not disturb", true, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &dnd, &PredefinedMenuItem::separator(app)?, &quit])?;
    let mut tray = TrayIconBuilder::with_id(TRAY_ID).menu(&menu).tooltip("Parlor").on_menu_event(move |app, event| {
        match event.id().as_ref() {
            "show" => crate::focus_main_window(app),
            DND_ID => toggle_dnd(app),
            "quit" => app.exit(0),
            _ => {}
        }
    });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(DndItem(dnd));
    Ok(())
}

fn toggle_dnd<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let prefs = {
        let mut prefs = state.prefs.lock().unwrap_or_else(|p| p.into_inner());
        prefs.dnd = !prefs.dnd;
        prefs.clone()
    };
    let event = UiEvent::Prefs(PrefsChanged { dnd: prefs.dnd, muted: prefs.muted.into_iter().collect() });
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(session) = app.state::<AppState>().session.lock().await.as_ref() {
            session.send_ui(event);
        }
    });
}

/// The tray's do-not-disturb item, kept so the UI's switch can move its tick.
struct DndItem<R: Runtime>(CheckMenuItem<R>);

/// Keeps the tray's do-not-disturb tick in step with the setting.
pub fn show_dnd<R: Runtime>(app: &AppHandle<R>, dnd: bool) {
    if let Some(item) = app.try_state::<DndItem<R>>() {
        let _ = item.0.set_checked(dnd);
    }
}

/// Shows the unread total in the window title and the tray tooltip.
pub fn show_unread<R: Runtime>(app: &AppHandle<R>, total: u32) {
    let title = if total == 0 { "Parlor".to_owned() } else { format!("Parlor ({total})") };
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.set_title(&title);
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let tooltip = if total == 0 { "Parlor".to_owned() } else { format!("Parlor — {total} unread") };
        let _ = tray.set_tooltip(Some(tooltip));
    }
}
