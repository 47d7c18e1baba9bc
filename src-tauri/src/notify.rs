//! Native notifications for direct messages and @mentions, through notify-rust (D-Bus on Linux, Notification
//! Center on macOS, toasts on Windows).
//!
//! [`decide`] is a pure function of the event and the user's settings, so the rules are tested without a desktop;
//! [`show`] talks to the OS and must never block the event stream, so it runs on its own thread.

use std::collections::BTreeSet;

use parlor_protocol::names::fold;
use parlor_protocol::ChatMessage;
use serde::Deserialize;

/// The user's notification settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NotifyPrefs {
    /// Do not disturb: no notifications at all.
    pub dnd: bool,
    /// Rooms that never notify.
    pub muted: BTreeSet<String>,
}

/// What the window is showing, which decides whether a message is already seen.
#[derive(Debug, Clone, Copy)]
pub struct Attention<'a> {
    /// Whether the app window has the focus.
    pub focused: bool,
    /// The room on screen.
    pub active_room: Option<&'a str>,
}

/// A notification to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The headline.
    pub summary: String,
    /// The message text (shortened).
    pub body: String,
}

/// Longest body shown, in characters.
const BODY_CHARS: usize = 200;

/// Whether `text` mentions `@nick` as a word (case-insensitive): `@ana,` does, `@anabel` and `mail@ana.org` do not.
pub fn mentions(text: &str, nick: &str) -> bool {
    let text = fold(text);
    let needle = format!("@{}", fold(nick));
    let is_name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    text.match_indices(&needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(is_name_char) && !after.is_some_and(|c| is_name_char(c) && c != '.')
    })
}

/// Decides whether a message deserves a notification, and what it says.
pub fn decide(message: &ChatMessage, me: &str, prefs: &NotifyPrefs, attention: Attention<'_>) -> Option<Notice> {
    if prefs.dnd || fold(&message.from) == fold(me) || prefs.muted.contains(&message.room) {
        return None;
    }
    if attention.focused && attention.active_room == Some(message.room.as_str()) {
        return None;
    }
    let summary = if message.room.starts_with('@') {
        format!("{} (direct message)", message.from)
    } else if mentions(&message.text, me) {
        format!("{} mentioned you in {}", message.from, message.room)
    } else {
        return None;
    };
    let mut body: String = message.text.chars().take(BODY_CHARS).collect();
    if message.text.chars().count() > BODY_CHARS {
        body.push('…');
    }
    Some(Notice { summary, body })
}

/// Raises the notification on a separate thread; `on_click` runs if the user clicks it (where the platform reports
/// clicks). Failures (no notification service, for instance) are logged and otherwise ignored: chat goes on.
pub fn show(notice: Notice, on_click: impl FnOnce() + Send + 'static) {
    let spawned = std::thread::Builder::new().name("parlor-notify".into()).spawn(move || {
        let mut notification = notify_rust::Notification::new();
        notification.appname("Parlor").summary(&notice.summary).body(&notice.body);
        #[cfg(all(unix, not(target_os = "macos")))]
        notification.action("default", "Open Parlor");
        match notification.show() {
            #[cfg(all(unix, not(target_os = "macos")))]
            Ok(handle) => handle.wait_for_action(|action| {
                if action == "default" {
                    on_click();
                }
            }),
            #[cfg(not(all(unix, not(target_os = "macos"))))]
            Ok(_) => drop(on_click),
            Err(err) => tracing::warn!(%err, "could not show a notification (is a notification service running?)"),
        }
    });
    if let Err(err) = spawned {
        tracing::warn!(%err, "could not start the notification thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(room: &str, from: &str, text: &str) -> ChatMessage {
        ChatMessage {
            room: room.into(),
            id: 1,
            seq: 1,
            from: from.into(),
            text: text.into(),
            ts: 0,
            client_id: "c".into(),
            ..ChatMessage::default()
        }
    }

    const AWAY: Attention<'static> = Attention { focused: false, active_room: Some("lobby") };

    #[test]
    fn direct_messages_and_mentions_notify() {
        let prefs = NotifyPrefs::default();
        let dm = decide(&message("@bo", "Bo", "psst"), "ana", &prefs, AWAY).expect("a DM notifies");
        assert_eq!(dm, Notice { summary: "Bo (direct message)".into(), body: "psst".into() });
        let mention = decide(&message("lobby", "bo", "hey @Ana, look"), "ana", &prefs, AWAY).expect("notifies");
        assert_eq!(mention.summary, "bo mentioned you in lobby");
        assert_eq!(decide(&message("lobby", "bo", "hello all"), "ana", &prefs, AWAY), None);
    }

    #[test]
    fn own_seen_muted_and_dnd_messages_do_not_notify() {
        let prefs = NotifyPrefs::default();
        assert_eq!(decide(&message("@bo", "ANA", "mine"), "ana", &prefs, AWAY), None);
        let looking = Attention { focused: true, active_room: Some("@bo") };
        assert_eq!(decide(&message("@bo", "bo", "seen"), "ana", &prefs, looking), None);
        let elsewhere = Attention { focused: true, active_room: Some("lobby") };
        assert!(decide(&message("@bo", "bo", "other room"), "ana", &prefs, elsewhere).is_some());
        let muted = NotifyPrefs { dnd: false, muted: ["lobby".to_owned()].into() };
        assert_eq!(decide(&message("lobby", "bo", "@ana hi"), "ana", &muted, AWAY), None);
        let dnd = NotifyPrefs { dnd: true, muted: BTreeSet::new() };
        assert_eq!(decide(&message("@bo", "bo", "hi"), "ana", &dnd, AWAY), None);
    }

    #[test]
    fn mentions_need_the_whole_nickname() {
        assert!(mentions("@ana", "ana"));
        assert!(mentions("thanks @ANA.", "ana"));
        assert!(!mentions("@anabel", "ana"));
        assert!(!mentions("mail@ana", "ana"));
        assert!(!mentions("ana", "ana"));
    }

    #[test]
    fn long_bodies_are_shortened() {
        let long = "x".repeat(500);
        let notice = decide(&message("@bo", "bo", &long), "ana", &NotifyPrefs::default(), AWAY).expect("notifies");
        assert_eq!(notice.body.chars().count(), BODY_CHARS + 1);
    }
}
