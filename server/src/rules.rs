//! A room's posting rules, set by moderators: a lock (only moderators post, until unlocked or for a while) and slow
//! mode (one message per participant every N seconds). Pure state and decisions; the hub holds one per room and
//! tells the members when it changes.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// Why a post is refused, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The room is locked.
    Locked,
    /// Slow mode: this participant may post again after this long.
    SlowMode(Duration),
}

/// One room's rules.
#[derive(Debug, Default)]
pub(crate) struct RoomRules {
    /// `Some(None)`: locked until unlocked; `Some(Some(t))`: locked until `t` (with `t` as Unix ms for clients).
    lock: Option<Option<(Instant, i64)>>,
    slow_mode: Duration,
    /// Folded nickname → when it last posted, kept only while slow mode is on.
    last_post: HashMap<String, Instant>,
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
        self.lock.is_none() && self.slow_mode.is_zero()
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
        if moderator {
            return Ok(());
        }
        if self.locked() {
            return Err(Refusal::Locked);
        }
        if self.slow_mode.is_zero() {
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
