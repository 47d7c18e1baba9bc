//! What a measured window adds up to: counts, rates, and latency percentiles from an HdrHistogram.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency recorded, in microseconds (one minute); larger ones are clamped to it.
const MAX_LATENCY_US: u64 = 60_000_000;

/// A latency histogram in microseconds, 3 significant digits, 1 µs to one minute.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant, valid histogram bounds")
}

/// Records one latency, clamping it into the histogram's range.
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).clamp(1, MAX_LATENCY_US);
    histogram.saturating_record(micros);
}

/// Latency percentiles of one window, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    /// How many latencies were recorded.
    pub samples: u64,
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Largest.
    pub max_us: u64,
    /// Mean.
    pub mean_us: f64,
}

impl Latency {
    /// Summarises a histogram; all zero when it is empty.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self { samples: 0, p50_us: 0, p90_us: 0, p99_us: 0, p999_us: 0, max_us: 0, mean_us: 0.0 };
        }
        Self {
            samples: histogram.len(),
            p50_us: histogram.value_at_quantile(0.50),
            p90_us: histogram.value_at_quantile(0.90),
            p99_us: histogram.value_at_quantile(0.99),
            p999_us: histogram.value_at_quantile(0.999),
            max_us: histogram.max(),
            mean_us: round2(histogram.mean()),
        }
    }
}

/// Events per second over `window`, rounded to a whole number.
pub fn per_second(count: u64, window: Duration) -> f64 {
    let secs = window.as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    (count as f64 / secs).round()
}

/// Rounds to two decimals, for figures that are printed and compared by people.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// `numerator / denominator` rounded to three decimals, or `None` when the denominator is zero.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| (numerator / denominator * 1000.0).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_recorded_latencies() {
        let mut h = histogram();
        for micros in 1..=1000 {
            record(&mut h, Duration::from_micros(micros));
        }
        let latency = Latency::of(&h);
        assert_eq!(latency.samples, 1000);
        assert!((499..=501).contains(&latency.p50_us), "{latency:?}");
        assert!((989..=991).contains(&latency.p99_us), "{latency:?}");
        assert_eq!(latency.max_us, 1000);
        assert!((latency.mean_us - 500.5).abs() < 1.0);
    }

    #[test]
    fn extremes_are_clamped_and_empty_windows_are_zero() {
        let mut h = histogram();
        assert_eq!(Latency::of(&h).samples, 0);
        record(&mut h, Duration::from_nanos(10));
        record(&mut h, Duration::from_secs(3600));
        let latency = Latency::of(&h);
        assert_eq!(latency.samples, 2);
        assert!(latency.max_us >= MAX_LATENCY_US && latency.max_us < MAX_LATENCY_US + MAX_LATENCY_US / 1000);
    }

    #[test]
    fn rates_and_ratios() {
        assert_eq!(per_second(1500, Duration::from_millis(500)), 3000.0);
        assert_eq!(per_second(5, Duration::ZERO), 0.0);
        assert_eq!(ratio(2.0, 3.0), Some(0.667));
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
