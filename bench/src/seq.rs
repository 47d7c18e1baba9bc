//! Per-receiver sequence checking: every message of a stream must arrive exactly once, in order.
//!
//! A stream is a room on parlor-server (its `seq` is 1, 2, 3…), or one sender on the reference server (its own
//! counter). A jump forward counts the skipped numbers as lost; a number at or below the last one is a duplicate;
//! whatever is still missing when the run ends (see [`SeqTracker::missing`]) is lost too.

/// What one receiver has seen of each stream.
#[derive(Debug, Clone, Default)]
pub struct SeqTracker {
    /// Highest `seq` seen per stream (or the starting point given by `joined.last_seq`).
    last: Vec<u64>,
    /// Numbers skipped by jumps forward.
    gaps: u64,
    /// Numbers seen again.
    duplicates: u64,
}

/// How one observed number relates to what came before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Exactly the next one.
    Next,
    /// Ahead of the next one: this many were skipped.
    Gap(u64),
    /// Already seen (or older).
    Duplicate,
}

impl SeqTracker {
    /// A tracker for streams that start after `start` (0 for "nothing yet").
    pub fn starting_at(start: u64) -> Self {
        Self { last: vec![start], ..Self::default() }
    }

    /// Records `seq` on `stream`.
    pub fn observe(&mut self, stream: usize, seq: u64) -> Seen {
        if stream >= self.last.len() {
            self.last.resize(stream + 1, 0);
        }
        let last = &mut self.last[stream];
        if seq <= *last {
            self.duplicates += 1;
            return Seen::Duplicate;
        }
        let skipped = seq - *last - 1;
        *last = seq;
        if skipped == 0 {
            Seen::Next
        } else {
            self.gaps += skipped;
            Seen::Gap(skipped)
        }
    }

    /// The highest number seen on `stream`.
    pub fn last(&self, stream: usize) -> u64 {
        self.last.get(stream).copied().unwrap_or(0)
    }

    /// How many numbers up to each stream's final one (`finals[stream]`) never arrived at the end of the stream.
    pub fn missing(&self, finals: &[u64]) -> u64 {
        finals.iter().enumerate().map(|(stream, last)| last.saturating_sub(self.last(stream))).sum()
    }

    /// Numbers skipped by jumps forward so far.
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    /// Numbers seen more than once so far.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_numbers_are_clean() {
        let mut tracker = SeqTracker::starting_at(40);
        assert_eq!(tracker.observe(0, 41), Seen::Next);
        assert_eq!(tracker.observe(0, 42), Seen::Next);
        assert_eq!((tracker.gaps(), tracker.duplicates(), tracker.last(0)), (0, 0, 42));
        assert_eq!(tracker.missing(&[42]), 0);
    }

    #[test]
    fn jumps_count_every_skipped_number_and_repeats_count_as_duplicates() {
        let mut tracker = SeqTracker::starting_at(0);
        assert_eq!(tracker.observe(0, 1), Seen::Next);
        assert_eq!(tracker.observe(0, 4), Seen::Gap(2));
        assert_eq!(tracker.observe(0, 4), Seen::Duplicate);
        assert_eq!(tracker.observe(0, 2), Seen::Duplicate, "a late one after a jump is not taken back");
        assert_eq!((tracker.gaps(), tracker.duplicates()), (2, 2));
    }

    #[test]
    fn streams_are_independent_and_the_tail_counts_as_missing() {
        let mut tracker = SeqTracker::starting_at(0);
        tracker.observe(2, 1);
        tracker.observe(2, 2);
        tracker.observe(0, 1);
        assert_eq!(tracker.last(1), 0);
        assert_eq!(tracker.missing(&[3, 1, 2]), 2 + 1);
        assert_eq!(tracker.missing(&[1, 0, 2]), 0);
    }
}
