//! How long to wait before reconnecting: exponential growth with random jitter, so a restarted server is not hit by
//! every client at the same instant, and a long outage costs at most one attempt per `max`.

use std::time::Duration;

/// Reconnection timing: the `n`th consecutive failure waits `initial × multiplier^(n-1)`, capped at `max`, then
/// scaled by a random factor in `1 ± jitter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub initial: Duration,
    /// The longest wait, whatever the attempt or jitter.
    pub max: Duration,
    /// How much each further failure multiplies the wait (values below 1 count as 1).
    pub multiplier: f64,
    /// The random spread, as a fraction of the wait: 0.5 means ±50 % (clamped to 0–1).
    pub jitter: f64,
}

impl Default for Backoff {
    /// 500 ms, doubling up to 30 s, ±50 %.
    fn default() -> Self {
        Self { initial: Duration::from_millis(500), max: Duration::from_secs(30), multiplier: 2.0, jitter: 0.5 }
    }
}

impl Backoff {
    /// The wait before retrying after failure number `attempt` (1-based), given `random` uniform in `[0, 1)`.
    /// Pure, so the schedule can be tested without a clock.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let max = self.max.as_secs_f64();
        let growth = if self.multiplier.is_finite() { self.multiplier.max(1.0) } else { 1.0 };
        let exponent = i32::try_from(attempt.saturating_sub(1).min(1024)).unwrap_or(1024);
        let base = (self.initial.as_secs_f64() * growth.powi(exponent)).min(max);
        let jitter = if self.jitter.is_finite() { self.jitter.clamp(0.0, 1.0) } else { 0.0 };
        let random = if random.is_finite() { random.clamp(0.0, 1.0) } else { 0.5 };
        let seconds = (base * (1.0 + jitter * (2.0 * random - 1.0))).clamp(0.0, max);
        Duration::try_from_secs_f64(seconds).unwrap_or(self.max)
    }
}

/// The attempt counter and random source the connection task keeps between failures.
#[derive(Debug)]
pub(crate) struct Retry {
    backoff: Backoff,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Retry {
    /// A fresh counter with its own random source.
    pub(crate) fn new(backoff: Backoff) -> Self {
        Self::with_rng(backoff, fastrand::Rng::new())
    }

    /// A counter with a given random source, for repeatable tests.
    pub(crate) fn with_rng(backoff: Backoff, rng: fastrand::Rng) -> Self {
        Self { backoff, attempt: 0, rng }
    }

    /// Counts one more failure and says which attempt that was and how long to wait before the next.
    pub(crate) fn next_delay(&mut self) -> (u32, Duration) {
        self.attempt = self.attempt.saturating_add(1);
        (self.attempt, self.backoff.delay(self.attempt, self.rng.f64()))
    }

    /// Starts over after a successful `welcome`, so the next loss is retried quickly again.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let backoff = Backoff::default();
        let waits: Vec<Duration> = (1..=9).map(|attempt| backoff.delay(attempt, 0.5)).collect();
        let expected = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000].map(ms);
        assert_eq!(waits, expected);
        assert_eq!(backoff.delay(u32::MAX, 0.5), ms(30000));
    }

    #[test]
    fn jitter_spreads_the_wait_within_bounds() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(1, 0.0), ms(250));
        assert_eq!(backoff.delay(3, 0.0), ms(1000));
        assert_eq!(backoff.delay(3, 0.75), ms(2500));
        // Never above the cap, even with the jitter pushing up.
        assert_eq!(backoff.delay(20, 0.999), ms(30000));
        let mut retry = Retry::new(backoff);
        for _ in 0..200 {
            let (attempt, wait) = retry.next_delay();
            let base = Backoff { jitter: 0.0, ..Backoff::default() }.delay(attempt, 0.0);
            assert!(wait >= base / 2 && wait <= ms(30000), "attempt {attempt}: {wait:?}");
        }
    }

    #[test]
    fn odd_settings_do_not_panic() {
        let odd = Backoff { initial: ms(100), max: ms(1000), multiplier: f64::NAN, jitter: f64::INFINITY };
        assert_eq!(odd.delay(5, f64::NAN), ms(100));
        let shrinking = Backoff { multiplier: 0.1, jitter: -3.0, ..Backoff::default() };
        assert_eq!(shrinking.delay(4, 0.3), ms(500));
        let zero = Backoff { initial: Duration::ZERO, ..Backoff::default() };
        assert_eq!(zero.delay(3, 0.9), Duration::ZERO);
    }

    #[test]
    fn the_counter_resets_after_success() {
        let mut retry = Retry::with_rng(Backoff { jitter: 0.0, ..Backoff::default() }, fastrand::Rng::with_seed(7));
        assert_eq!(retry.next_delay(), (1, ms(500)));
        assert_eq!(retry.next_delay(), (2, ms(1000)));
        retry.reset();
        assert_eq!(retry.next_delay(), (1, ms(500)));
    }
}
