//! Naming rules shared by the server and clients.
//!
//! Nicknames and room names appear in other people's windows, so they are restricted to letters and digits of any
//! script plus a few separators: no spaces, no control or bidirectional-override characters, nothing that could
//! pretend to be someone else by reordering text. Both are compared case-insensitively through [`fold`].

use thiserror::Error;

/// Longest nickname, in characters.
pub const MAX_NICK_CHARS: usize = 32;
/// Longest room name, in characters.
pub const MAX_ROOM_CHARS: usize = 32;
/// Longest client id, in bytes (printable ASCII).
pub const MAX_CLIENT_ID_BYTES: usize = 64;

/// Why a name or a piece of text was refused. The message is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameError {
    /// Nothing was given.
    #[error("the name is empty")]
    Empty,
    /// The name is longer than its limit.
    #[error("the name is longer than {max} characters")]
    TooLong {
        /// The limit that was exceeded.
        max: usize,
    },
    /// A character outside letters, digits and `_ - .` (or `_ -` for rooms).
    #[error("the name may hold only letters, digits and {allowed}; {found:?} is not allowed")]
    BadChar {
        /// The first character refused.
        found: char,
        /// The separators this kind of name allows, for the message.
        allowed: &'static str,
    },
}

/// The case-insensitive key of a nickname or room name: two names with the same key are the same name.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

fn check(name: &str, max: usize, extra: &'static [char], allowed: &'static str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > max {
        return Err(NameError::TooLong { max });
    }
    // A letter whose lowercase is several characters (`İ` → `i̇`) would fold into a longer name holding a combining
    // mark, which the rules themselves refuse: the folded name must stay a valid one.
    let allowed_char = |c: &char| (c.is_alphanumeric() || extra.contains(c)) && c.to_lowercase().count() == 1;
    match name.chars().find(|c| !allowed_char(c)) {
        Some(found) => Err(NameError::BadChar { found, allowed }),
        None => Ok(()),
    }
}

/// Checks a nickname: 1–32 letters or digits (any script) or `_ - .`.
pub fn validate_nick(nick: &str) -> Result<(), NameError> {
    check(nick, MAX_NICK_CHARS, &['_', '-', '.'], "_ - .")
}

/// Checks a room name: 1–32 letters or digits (any script) or `_ -`. Room names never start with `@`, which marks a
/// direct conversation.
pub fn validate_room(room: &str) -> Result<(), NameError> {
    check(room, MAX_ROOM_CHARS, &['_', '-'], "_ -")
}

/// Checks a client id: 1–64 bytes of printable ASCII. A UUID is a good choice.
pub fn validate_client_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_ID_BYTES && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether text is fit to show others: at least one visible character and no control characters other than tab and
/// line breaks, nor bidirectional overrides that would make it read differently from how it was written.
pub fn is_displayable_text(text: &str) -> bool {
    // Most chat text is ASCII, checked a byte at a time; the server checks every message, so this is on its hot path.
    if text.is_ascii() {
        displayable_ascii(text.as_bytes())
    } else {
        displayable_unicode(text)
    }
}

/// [`displayable_unicode`] for ASCII: printable or a line break or tab, and something that is not a space.
fn displayable_ascii(text: &[u8]) -> bool {
    // Folds without early exit, so the compiler vectorises them: rejected text is rare.
    let printable =
        text.iter().fold(true, |ok, &b| ok & (matches!(b, b' '..=b'~') | matches!(b, b'\n' | b'\t' | b'\r')));
    printable && text.iter().fold(false, |seen, &b| seen | b.is_ascii_graphic())
}

fn displayable_unicode(text: &str) -> bool {
    text.chars().any(|c| !c.is_whitespace() && !is_invisible_format(c))
        && text.chars().all(|c| (!c.is_control() || matches!(c, '\n' | '\t' | '\r')) && !is_bidi_control(c))
}

/// Embeddings, overrides and isolates, which make text display in another order than it was typed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Zero-width and byte-order characters: text made only of these looks empty.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// What a `room` field names: a room everyone can join, or a direct conversation with one user (`"@nick"`).
///
/// Direct conversations are named from the reader's side: Alice's conversation with Bob is `"@bob"` for her and
/// `"@alice"` for him, so a client never needs to know how the server keys it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Conversation {
    /// A shared room, by its folded name.
    Room(String),
    /// A direct conversation with this user, by the folded nickname.
    Direct(String),
}

impl Conversation {
    /// Parses a `room` field, folding case and checking the name.
    pub fn parse(field: &str) -> Result<Self, NameError> {
        match field.strip_prefix('@') {
            Some(nick) => validate_nick(nick).map(|()| Self::Direct(fold(nick))),
            None => validate_room(field).map(|()| Self::Room(fold(field))),
        }
    }

    /// The name as a client sees it: `lobby` or `@bob`.
    pub fn display(&self) -> String {
        match self {
            Self::Room(room) => room.clone(),
            Self::Direct(nick) => format!("@{nick}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_check_agrees_with_the_unicode_one_on_every_short_ascii_text() {
        let mut texts: Vec<String> = (0u8..128).map(|a| char::from(a).to_string()).collect();
        for a in 0u8..128 {
            for b in 0u8..128 {
                texts.push([char::from(a), char::from(b)].iter().collect());
            }
        }
        for odd in ["\u{b}x", "x\u{c}", " \t\r\n", "a\u{7f}", "\u{0}b", "   x   ", "~"] {
            texts.push(odd.to_owned());
        }
        for text in texts {
            assert_eq!(displayable_ascii(text.as_bytes()), displayable_unicode(&text), "{text:?}");
        }
    }

    #[test]
    fn nicknames_accept_letters_of_any_script() {
        for ok in ["alice", "Zoë", "李雷", "a.b-c_d", "x", &"n".repeat(32)] {
            assert_eq!(validate_nick(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn nicknames_refuse_spaces_controls_and_bidi() {
        assert_eq!(validate_nick(""), Err(NameError::Empty));
        assert_eq!(validate_nick(&"n".repeat(33)), Err(NameError::TooLong { max: 32 }));
        for bad in ["a b", "a\u{0}", "evil\u{202E}gnp", "a:b", "<script>", "@me", "a/b"] {
            assert!(matches!(validate_nick(bad), Err(NameError::BadChar { .. })), "{bad:?}");
        }
    }

    #[test]
    fn rooms_refuse_dots_and_at_signs() {
        assert_eq!(validate_room("maths-2b"), Ok(()));
        assert!(validate_room("a.b").is_err());
        assert!(validate_room("@x").is_err());
    }

    #[test]
    fn conversations_fold_case_and_tell_rooms_from_direct() {
        assert_eq!(Conversation::parse("Lobby"), Ok(Conversation::Room("lobby".into())));
        assert_eq!(Conversation::parse("@Bob"), Ok(Conversation::Direct("bob".into())));
        assert_eq!(Conversation::parse("@Bob").map(|c| c.display()), Ok("@bob".into()));
        assert!(Conversation::parse("@").is_err());
    }

    #[test]
    fn text_must_be_visible_and_free_of_controls() {
        assert!(is_displayable_text("hello\nworld\t!"));
        assert!(!is_displayable_text("   \n"));
        assert!(!is_displayable_text("\u{200B}\u{FEFF} "));
        assert!(!is_displayable_text("bell\u{7}"));
        assert!(!is_displayable_text("abc\u{202E}def"));
    }

    #[test]
    fn client_ids_are_short_printable_ascii() {
        assert!(validate_client_id("3f2c-11"));
        assert!(!validate_client_id(""));
        assert!(!validate_client_id("has space"));
        assert!(!validate_client_id(&"x".repeat(65)));
    }
}
