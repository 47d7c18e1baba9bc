//! A client-side token bucket that keeps every outgoing frame under the server's rate limit.
//!
//! The server drops a frame that arrives without a token and cannot say which one it dropped, which would cost a
//! resend and, worse, could let a later message overtake an earlier one. Sending a little below the announced rate
//! (90 % of `rate_per_second`, a burst one smaller than `rate_burst`) means that practically never happens.

use std::time::Duration;

use parlor_protocol::Limits;
use tokio::time::Instant;

/// Allows `rate` frames per second on average and `burst` at once.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Pacer {
    /// A full bucket, at least one frame per second and a burst of one.
    pub(crate) fn new(rate_per_second: f64, burst: u32, now: Instant) -> Self {
        let rate = if rate_per_second.is_finite() { rate_per_second.max(1.0) } else { 1.0 };
        let burst = f64::from(burst.max(1));
        Self { rate, burst, tokens: burst, last: now }
    }

    /// The bucket for a server announcing `limits`: slightly slower and smaller than the server's own.
    pub(crate) fn for_limits(limits: &Limits, now: Instant) -> Self {
        Self::new(f64::from(limits.rate_per_second) * 0.9, limits.rate_burst.saturating_sub(1), now)
    }

    /// Takes a token for one frame, or says when the next one will be there.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Instant> {
        self.refill(now);
        // The tolerance absorbs rounding: a bucket refilled for exactly the wait it asked for must have its token.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            Ok(())
        } else {
            let wait = Duration::try_from_secs_f64((1.0 - self.tokens) / self.rate).unwrap_or(Duration::from_secs(1));
            Err(now + wait.max(Duration::from_millis(1)))
        }
    }

    /// Empties the bucket: after a `rate_limited` the server's own bucket is empty too, so start from nothing.
    pub(crate) fn drain(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = 0.0;
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate_per_second: u32, rate_burst: u32) -> Limits {
        Limits { rate_per_second, rate_burst, ..crate::config::default_limits() }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_ninety_percent_of_the_rate() {
        let start = Instant::now();
        let mut pacer = Pacer::for_limits(&limits(10, 20), start);
        for _ in 0..19 {
            assert_eq!(pacer.take(start), Ok(()));
        }
        let next = pacer.take(start).expect_err("the burst is one below the server's");
        // 9 frames per second: one token every 111 ms.
        assert_eq!(next - start, Duration::from_secs_f64(1.0 / 9.0));
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(pacer.take(Instant::now()).is_err());
        tokio::time::advance(Duration::from_millis(12)).await;
        assert_eq!(pacer.take(Instant::now()), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn sustained_sending_stays_under_the_server_rate() {
        let start = Instant::now();
        let mut pacer = Pacer::for_limits(&limits(10, 20), start);
        let mut sent = 0u32;
        let mut now = start;
        while now - start < Duration::from_secs(10) {
            match pacer.take(now) {
                Ok(()) => sent += 1,
                Err(at) => now = at,
            }
        }
        // The server would accept 20 + 10 × 10 = 120 in ten seconds; the pacer sends 19 + 9 × 10 = 109.
        assert!((108..=110).contains(&sent), "{sent}");
    }

    #[tokio::test(start_paused = true)]
    async fn tiny_limits_still_allow_one_frame_a_second() {
        let start = Instant::now();
        let mut pacer = Pacer::for_limits(&limits(1, 1), start);
        assert_eq!(pacer.take(start), Ok(()));
        assert_eq!(pacer.take(start), Err(start + Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(30)).await;
        // Idle time refills only up to the burst.
        assert_eq!(pacer.take(Instant::now()), Ok(()));
        assert!(pacer.take(Instant::now()).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn draining_waits_for_a_fresh_token() {
        let start = Instant::now();
        let mut pacer = Pacer::new(10.0, 5, start);
        pacer.drain(start);
        assert_eq!(pacer.take(start), Err(start + Duration::from_millis(100)));
    }
}
