//! Tauri's build step, with a permission generated for each app command so that `capabilities/` can grant exactly
//! the commands the UI uses and nothing else.

/// Every `#[tauri::command]` the app registers; each gets an `allow-<name>` permission.
const COMMANDS: &[&str] = &[
    "app_info",
    "auto_connect",
    "connect",
    "disconnect",
    "forget_profile",
    "trust_certificate",
    "register_nickname",
    "logout_everywhere",
    "send_message",
    "send_poll",
    "vote",
    "close_poll",
    "react",
    "edit_message",
    "delete_message",
    "send_announcement",
    "acknowledge",
    "mute_member",
    "remove_member",
    "pin_message",
    "search_room",
    "export_room",
    "set_room_password",
    "open_link",
    "join_room",
    "leave_room",
    "create_room",
    "set_topic",
    "set_typing",
    "lock_room",
    "unlock_room",
    "slow_mode",
    "raise_hand",
    "call_on",
    "clear_hands",
    "load_history",
    "host_start",
    "host_stop",
    "host_status",
    "set_notify_prefs",
    "set_active_room",
    "set_unread",
];

fn main() {
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build step");
}
