//! What a message may carry besides its text — a poll, reactions, a quoted reply, an edit mark — and the rules for
//! them, shared so that a client can check input before sending it and the server can refuse it with a coded error.
//!
//! All of it changes after the message is stored (votes, reactions, edits), so the server sends the whole message
//! again as `message_updated`, numbered by the conversation's revision counter: applying an update twice is harmless,
//! and a client that resumes names the last revision it saw to receive what changed meanwhile.

use serde::{Deserialize, Serialize};

use crate::names::{fold, is_displayable_text};

/// Most options in one poll: more would not fit a bar chart a class can read at a glance.
pub const POLL_MAX_OPTIONS: usize = 10;
/// Fewest options in a poll: one option is not a choice.
pub const POLL_MIN_OPTIONS: usize = 2;
/// Longest poll option, in characters.
pub const POLL_OPTION_MAX_CHARS: usize = 100;
/// Longest reaction, in characters: enough for a multi-codepoint emoji (a family, a flag with a modifier), not for
/// a sentence smuggled in as a reaction.
pub const REACTION_MAX_CHARS: usize = 10;
/// Most different reactions on one message.
pub const MAX_REACTIONS_PER_MESSAGE: usize = 20;
/// Longest quoted excerpt a reply carries, in characters; the full message is one `history` away.
pub const QUOTE_MAX_CHARS: usize = 140;

/// A poll as asked: the question is the message's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSpec {
    /// The choices, in order.
    pub options: Vec<String>,
    /// Whether a participant may pick more than one option.
    #[serde(default)]
    pub multiple: bool,
}

/// A poll with its current results, carried by its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    /// The choices with who picked each, in the order asked.
    pub options: Vec<PollOption>,
    /// Whether a participant may pick more than one option.
    pub multiple: bool,
    /// Closed by its creator or a moderator: the results are final and votes are refused.
    pub closed: bool,
}

/// One choice of a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollOption {
    /// The choice as written.
    pub text: String,
    /// Who picked it, in the order they voted. Polls are not anonymous: a class sees who answered what, as with a
    /// show of hands.
    pub voters: Vec<String>,
}

/// A moderator's announcement: each participant says "I've read it"; the room sees who has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// Who acknowledged it, first first.
    pub acks: Vec<String>,
}

impl Announcement {
    /// Records `who`'s acknowledgement (once; matched by folded nickname).
    pub fn acknowledge(&mut self, who: &str) {
        let key = fold(who);
        if !self.acks.iter().any(|a| fold(a) == key) {
            self.acks.push(who.to_owned());
        }
    }
}

/// One emoji on a message and who put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The emoji (any short text without spaces; clients offer emoji).
    pub emoji: String,
    /// Who reacted with it, first first.
    pub by: Vec<String>,
}

/// The message a reply answers, as it was when the reply was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The quoted message's sequence number, to scroll to it.
    pub seq: u64,
    /// Its sender.
    pub from: String,
    /// The start of its text (at most [`QUOTE_MAX_CHARS`] characters).
    pub text: String,
}

/// Why a poll, a vote or a reaction is refused, before anything is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtrasError {
    /// Too few or too many options, an empty or overlong one, or two the same.
    Poll,
    /// An option number out of range, several on a single-choice poll, or one twice.
    Vote,
    /// An empty or overlong reaction, or one with spaces or control characters.
    Reaction,
}

impl PollSpec {
    /// Checks the options: how many, how long, and that no two are the same (ignoring case and surrounding space).
    pub fn validate(&self) -> Result<(), ExtrasError> {
        let count = self.options.len();
        if !(POLL_MIN_OPTIONS..=POLL_MAX_OPTIONS).contains(&count) {
            return Err(ExtrasError::Poll);
        }
        let mut seen = Vec::with_capacity(count);
        for option in &self.options {
            let trimmed = option.trim();
            if trimmed.is_empty() || option.chars().count() > POLL_OPTION_MAX_CHARS || !is_displayable_text(option) {
                return Err(ExtrasError::Poll);
            }
            let folded = fold(trimmed);
            if seen.contains(&folded) {
                return Err(ExtrasError::Poll);
            }
            seen.push(folded);
        }
        Ok(())
    }

    /// The poll as first stored: nobody has voted.
    pub fn open(&self) -> Poll {
        let options = self.options.iter().map(|text| PollOption { text: text.clone(), voters: Vec::new() }).collect();
        Poll { options, multiple: self.multiple, closed: false }
    }
}

impl Poll {
    /// Replaces `voter`'s choices with `choices` (empty: withdraws the vote). Voters are matched by folded nickname.
    pub fn vote(&mut self, voter: &str, choices: &[u32]) -> Result<(), ExtrasError> {
        let mut picked = Vec::with_capacity(choices.len());
        for &choice in choices {
            let index = usize::try_from(choice).map_err(|_| ExtrasError::Vote)?;
            if index >= self.options.len() || picked.contains(&index) {
                return Err(ExtrasError::Vote);
            }
            picked.push(index);
        }
        if picked.len() > 1 && !self.multiple {
            return Err(ExtrasError::Vote);
        }
        let key = fold(voter);
        for (index, option) in self.options.iter_mut().enumerate() {
            option.voters.retain(|v| fold(v) != key);
            if picked.contains(&index) {
                option.voters.push(voter.to_owned());
            }
        }
        Ok(())
    }
}

/// Checks a reaction: short, no whitespace or control characters.
pub fn validate_reaction(emoji: &str) -> Result<(), ExtrasError> {
    let chars = emoji.chars().count();
    if chars == 0 || chars > REACTION_MAX_CHARS || emoji.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ExtrasError::Reaction);
    }
    Ok(())
}

/// Adds (`on`) or removes `who`'s `emoji` on a message's reactions, keeping first-come order. Returns false, changing
/// nothing, when adding a new emoji would pass [`MAX_REACTIONS_PER_MESSAGE`].
pub fn toggle_reaction(reactions: &mut Vec<Reaction>, emoji: &str, who: &str, on: bool) -> bool {
    let key = fold(who);
    match reactions.iter_mut().position(|r| r.emoji == emoji) {
        Some(at) => {
            let by = &mut reactions[at].by;
            by.retain(|n| fold(n) != key);
            if on {
                by.push(who.to_owned());
            } else if by.is_empty() {
                reactions.remove(at);
            }
        }
        None if !on => {}
        None if reactions.len() >= MAX_REACTIONS_PER_MESSAGE => return false,
        None => reactions.push(Reaction { emoji: emoji.to_owned(), by: vec![who.to_owned()] }),
    }
    true
}

/// The start of a message's text as a reply quotes it.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(QUOTE_MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(options: &[&str], multiple: bool) -> PollSpec {
        PollSpec { options: options.iter().map(|o| (*o).to_owned()).collect(), multiple }
    }

    #[test]
    fn a_poll_needs_two_to_ten_distinct_printable_options() {
        assert!(spec(&["yes", "no"], false).validate().is_ok());
        assert_eq!(spec(&["only"], false).validate(), Err(ExtrasError::Poll));
        assert_eq!(spec(&["a"; 11], false).validate(), Err(ExtrasError::Poll));
        assert_eq!(spec(&["Yes", " yes "], false).validate(), Err(ExtrasError::Poll));
        assert_eq!(spec(&["a", "  "], false).validate(), Err(ExtrasError::Poll));
        assert_eq!(spec(&["a", "b\u{0007}"], false).validate(), Err(ExtrasError::Poll));
        let long = "x".repeat(POLL_OPTION_MAX_CHARS + 1);
        assert_eq!(spec(&["a", &long], false).validate(), Err(ExtrasError::Poll));
    }

    #[test]
    fn a_vote_replaces_the_voters_earlier_choice() {
        let mut poll = spec(&["red", "green", "blue"], false).open();
        poll.vote("Ana", &[0]).expect("vote");
        poll.vote("bo", &[0]).expect("vote");
        poll.vote("ANA", &[2]).expect("change");
        assert_eq!(poll.options[0].voters, vec!["bo".to_owned()]);
        assert_eq!(poll.options[2].voters, vec!["ANA".to_owned()]);
        poll.vote("bo", &[]).expect("withdraw");
        assert!(poll.options[0].voters.is_empty());
    }

    #[test]
    fn single_choice_polls_take_one_option_and_indexes_must_exist() {
        let mut single = spec(&["a", "b"], false).open();
        assert_eq!(single.vote("ana", &[0, 1]), Err(ExtrasError::Vote));
        assert_eq!(single.vote("ana", &[2]), Err(ExtrasError::Vote));
        let mut multi = spec(&["a", "b"], true).open();
        assert!(multi.vote("ana", &[0, 1]).is_ok());
        assert_eq!(multi.vote("ana", &[1, 1]), Err(ExtrasError::Vote));
        assert_eq!(multi.options[0].voters.len(), 1, "a refused vote changes nothing");
    }

    #[test]
    fn reactions_toggle_per_person_and_vanish_when_nobody_is_left() {
        let mut reactions = Vec::new();
        assert!(toggle_reaction(&mut reactions, "👍", "ana", true));
        assert!(toggle_reaction(&mut reactions, "👍", "Bo", true));
        assert!(toggle_reaction(&mut reactions, "👍", "ANA", true), "repeating is harmless");
        assert_eq!(reactions[0].by, vec!["Bo".to_owned(), "ANA".to_owned()]);
        toggle_reaction(&mut reactions, "👍", "ana", false);
        toggle_reaction(&mut reactions, "👍", "bo", false);
        assert!(reactions.is_empty());
        for n in 0..MAX_REACTIONS_PER_MESSAGE {
            assert!(toggle_reaction(&mut reactions, &n.to_string(), "ana", true));
        }
        assert!(!toggle_reaction(&mut reactions, "🎉", "ana", true));
    }

    #[test]
    fn an_acknowledgement_counts_once_per_person() {
        let mut announcement = Announcement::default();
        announcement.acknowledge("Ana");
        announcement.acknowledge("ana");
        announcement.acknowledge("bo");
        assert_eq!(announcement.acks, ["Ana", "bo"]);
    }

    #[test]
    fn reactions_are_short_and_have_no_spaces() {
        assert!(validate_reaction("👨‍👩‍👧‍👦").is_ok());
        assert!(validate_reaction("").is_err());
        assert!(validate_reaction("a b").is_err());
        assert!(validate_reaction(&"x".repeat(REACTION_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn excerpts_cut_long_text_on_a_character_boundary() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(QUOTE_MAX_CHARS + 5);
        assert_eq!(excerpt(&long).chars().count(), QUOTE_MAX_CHARS + 1);
    }
}
