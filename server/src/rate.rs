//! A token bucket per connection: steady senders never notice it, a flood is cut to the sustained rate.

use std::time::Duration;

use tokio::time::Instant;

/// Allows `rate` frames per second on average and `burst` at once.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(rate_per_second: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self { rate: f64::from(rate_per_second.max(1)), burst, tokens: burst, last: Instant::now() }
    }

    /// Takes one token, or says how long until one is available.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_allowed_then_the_sustained_rate() {
        let mut bucket = TokenBucket::new(10, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(bucket.take(start).is_ok());
        }
        let wait = bucket.take(start).expect_err("the fourth frame at once is refused");
        assert_eq!(wait, Duration::from_millis(100));
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(bucket.take(Instant::now()).is_ok());
        assert!(bucket.take(Instant::now()).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_only_to_the_burst() {
        let mut bucket = TokenBucket::new(5, 2);
        tokio::time::advance(Duration::from_secs(60)).await;
        let now = Instant::now();
        assert!(bucket.take(now).is_ok());
        assert!(bucket.take(now).is_ok());
        assert!(bucket.take(now).is_err());
    }
}
