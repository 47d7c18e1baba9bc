//! A room's posting rules, set by moderators: a lock (only moderators post, until unlocked or for a while), slow
//! mode (one message per participant every N seconds), muted participants (who read but do not post) and removed
//! ones (who may not join). Pure state and decisions; the hub holds one per room and tells the members when it
//! changes.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

/// Why a post is refused, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The room is locked.
    Locked,
    /// Slow mode: this participant may post again after this long.
    SlowMode(Duration),
    /// A moderator muted this participant.
    Muted,
}

/// One room's rules.
#[derive(Debug, Default)]
pub(crate) struct RoomRules {
    /// `Some(None)`: locked until unlocked; `Some(Some(t))`: locked until `t` (with `t` as Unix ms for clients).
    lock: Option<Option<(Instant, i64)>>,
    slow_mode: Duration,
    /// Folded nickname → when it last posted, kept only while slow mode is on.
    last_post: HashMap<String, Instant>,
    /// Folded nickname → nickname as shown, of those who may not post.
    muted: BTreeMap<String, String>,
    /// Folded nickname → nickname as shown, of those who may not join.
    removed: BTreeMap<String, String>,
}

impl RoomRules {
    /// Locks the room; with `until`, only until then (`until_ms` is the same moment as Unix milliseconds).
    pub(crate) fn lock(&mut self, until: Option<(Instant, i64)>) {
        self.lock = Some(until);
    }

    pub(crate) fn unlock(&mut self) {
        self.lock = None;
    }

    /// Sets slow mode; zero turns it off.
    pub(crate) fn set_slow_mode(&mut self, every: Duration) {
        self.slow_mode = every;
        if every.is_zero() {
            self.last_post.clear();
        }
    }

    pub(crate) fn locked(&self) -> bool {
        self.lock.is_some()
    }

    /// When a timed lock ends, as Unix milliseconds.
    pub(crate) fn locked_until_ms(&self) -> Option<i64> {
        self.lock.flatten().map(|(_, ms)| ms)
    }

    pub(crate) fn slow_mode(&self) -> Duration {
        self.slow_mode
    }

    /// Whether these are the rules of a fresh room, which a joining client need not be told about.
    pub(crate) fn is_default(&self) -> bool {
        self.lock.is_none() && self.slow_mode.is_zero() && self.muted.is_empty() && self.removed.is_empty()
    }

    /// Mutes (`true`) or unmutes the participant `key` (shown as `nick`).
    pub(crate) fn set_muted(&mut self, key: &str, nick: &str, muted: bool) {
        if muted {
            self.muted.insert(key.to_owned(), nick.to_owned());
        } else {
            self.muted.remove(key);
        }
    }

    /// Removes (`true`) or readmits the participant `key` (shown as `nick`).
    pub(crate) fn set_removed(&mut self, key: &str, nick: &str, removed: bool) {
        if removed {
            self.removed.insert(key.to_owned(), nick.to_owned());
        } else {
            self.removed.remove(key);
        }
    }

    /// Whether `key` may not join.
    pub(crate) fn is_removed(&self, key: &str) -> bool {
        self.removed.contains_key(key)
    }

    /// The muted, as shown, sorted by folded nickname.
    pub(crate) fn muted(&self) -> Vec<String> {
        self.muted.values().cloned().collect()
    }

    /// The removed, as shown, sorted by folded nickname.
    pub(crate) fn removed(&self) -> Vec<String> {
        self.removed.values().cloned().collect()
    }

    /// Why `key` may not post anything now (a lock or a mute), without counting a post for slow mode: for live
    /// data, which slow mode does not govern.
    pub(crate) fn silenced(&self, key: &str, moderator: bool) -> Option<Refusal> {
        if moderator {
            return None;
        }
        if self.locked() {
            return Some(Refusal::Locked);
        }
        self.muted.contains_key(key).then_some(Refusal::Muted)
    }

    /// Ends a timed lock whose time is up; true if it did.
    pub(crate) fn expire(&mut self, now: Instant) -> bool {
        if matches!(self.lock, Some(Some((until, _))) if until <= now) {
            self.lock = None;
            return true;
        }
        false
    }

    /// Decides whether `key` may post now, and if so records the post for slow mode. Moderators always may.
    pub(crate) fn admit_post(&mut self, key: &str, moderator: bool, now: Instant) -> Result<(), Refusal> {
        if let Some(refusal) = self.silenced(key, moderator) {
            return Err(refusal);
        }
        if moderator || self.slow_mode.is_zero() {
            return Ok(());
        }
        if let Some(last) = self.last_post.get(key) {
            let next = *last + self.slow_mode;
            if next > now {
                return Err(Refusal::SlowMode(next - now));
            }
        }
        self.last_post.insert(key.to_owned(), now);
        // Forget who can post again anyway, so the map holds at most the participants of one interval.
        let every = self.slow_mode;
        self.last_post.retain(|_, last| *last + every > now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_stops_everyone_but_moderators_until_unlocked() {
        let mut rules = RoomRules::default();
        let now = Instant::now();
        rules.lock(None);
        assert_eq!(rules.admit_post("ana", false, now), Err(Refusal::Locked));
        assert_eq!(rules.admit_post("teacher", true, now), Ok(()));
        assert!(!rules.expire(now + Duration::from_secs(3600)), "an open-ended lock does not expire");
        rules.unlock();
        assert_eq!(rules.admit_post("ana", false, now), Ok(()));
        assert!(rules.is_default());
    }

    #[test]
    fn a_muted_participant_may_not_post_until_unmuted_and_others_may() {
        let mut rules = RoomRules::default();
        let now = Instant::now();
        rules.set_muted("bo", "Bo", true);
        assert_eq!(rules.admit_post("bo", false, now), Err(Refusal::Muted));
        assert_eq!(rules.silenced("bo", false), Some(Refusal::Muted));
        assert_eq!(rules.admit_post("ana", false, now), Ok(()));
        assert_eq!(rules.muted(), ["Bo"]);
        assert!(!rules.is_default());
        rules.set_muted("bo", "Bo", false);
        assert_eq!(rules.admit_post("bo", false, now), Ok(()));
        rules.set_removed("cy", "Cy", true);
        assert!(rules.is_removed("cy") && rules.removed() == ["Cy"]);
        rules.set_removed("cy", "Cy", false);
        assert!(rules.is_default());
    }

    #[test]
    fn a_timed_lock_ends_by_itself() {
        let mut rules = RoomRules::default();
        let now = Instant::now();
        rules.lock(Some((now + Duration::from_secs(60), 1_000)));
        assert_eq!(rules.locked_until_ms(), Some(1_000));
        assert!(!rules.expire(now + Duration::from_secs(59)));
        assert!(rules.expire(now + Duration::from_secs(60)));
        assert!(!rules.locked());
    }

    #[test]
    fn slow_mode_allows_one_post_per_interval_per_participant() {
        let mut rules = RoomRules::default();
        let now = Instant::now();
        rules.set_slow_mode(Duration::from_secs(10));
        assert_eq!(rules.admit_post("ana", false, now), Ok(()));
        assert_eq!(rules.admit_post("bo", false, now), Ok(()), "others are not held back by ana");
        let later = now + Duration::from_secs(4);
        assert_eq!(rules.admit_post("ana", false, later), Err(Refusal::SlowMode(Duration::from_secs(6))));
        assert_eq!(rules.admit_post("teacher", true, later), Ok(()));
        assert_eq!(rules.admit_post("ana", false, now + Duration::from_secs(10)), Ok(()));
        rules.set_slow_mode(Duration::ZERO);
        assert_eq!(rules.admit_post("ana", false, now + Duration::from_secs(10)), Ok(()));
    }
}
