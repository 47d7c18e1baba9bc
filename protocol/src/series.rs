//! Live data: numbers a bot (or any script) publishes into a room, for clients to draw as line charts — the seed
//! tutorial's "a random number every 0.2 s to every browser", done for any named series.
//!
//! Data points are not chat: they are not stored and have no sequence number. The server keeps the newest
//! [`DATA_WINDOW`] per room in memory and sends them after `joined`, so a chart opened late is not empty.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::names::is_displayable_text;

/// Data events a server keeps per room, and the window a client should draw.
pub const DATA_WINDOW: usize = 120;
/// Most series in one `publish`.
pub const MAX_SERIES_PER_PUBLISH: usize = 8;
/// Longest series name, in characters.
pub const SERIES_NAME_MAX_CHARS: usize = 32;

/// Series name → value, as published. JSON numbers (never NaN or infinite: JSON has none).
pub type Points = BTreeMap<String, Number>;

/// A `data` event: points one publisher sent to a room at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataPoints {
    /// The room.
    pub room: String,
    /// The publisher's nickname.
    pub from: String,
    /// When the server received them, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// The values, by series name.
    pub points: Points,
}

/// Checks a `publish`: one to [`MAX_SERIES_PER_PUBLISH`] series, each named by one line of at most
/// [`SERIES_NAME_MAX_CHARS`] visible characters, with a finite value.
pub fn validate_points(points: &Points) -> bool {
    (1..=MAX_SERIES_PER_PUBLISH).contains(&points.len())
        && points.iter().all(|(name, value)| {
            name.chars().count() <= SERIES_NAME_MAX_CHARS
                && is_displayable_text(name)
                && !name.contains(['\n', '\r'])
                && value.as_f64().is_some_and(f64::is_finite)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(pairs: &[(&str, f64)]) -> Points {
        pairs.iter().map(|(name, value)| ((*name).to_owned(), Number::from_f64(*value).expect("finite"))).collect()
    }

    #[test]
    fn points_need_one_to_eight_named_finite_series() {
        assert!(validate_points(&points(&[("random", 0.42)])));
        assert!(validate_points(&points(&[("a", 1.0), ("b", -2.5)])));
        assert!(!validate_points(&Points::new()));
        let nine: Vec<(String, f64)> = (0..9).map(|n| (format!("s{n}"), 1.0)).collect();
        let nine: Vec<(&str, f64)> = nine.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        assert!(!validate_points(&points(&nine)));
        assert!(!validate_points(&points(&[("", 1.0)])));
        assert!(!validate_points(&points(&[("two\nlines", 1.0)])));
        assert!(!validate_points(&points(&[(&"x".repeat(SERIES_NAME_MAX_CHARS + 1), 1.0)])));
    }

    #[test]
    fn integers_and_fractions_both_count() {
        let parsed: Points =
            serde_json::from_str(r#"{"count": 3, "temp": 21.5, "big": 18446744073709551615}"#).expect("numbers");
        assert!(validate_points(&parsed));
    }
}
