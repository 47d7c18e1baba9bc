//! The ticker: a random value every interval (0.2 s by default), as series `random` (uniform in 0..1, the seed's
//! demo) and `walk` (a random walk, which makes a livelier line).

use std::future::Future;
use std::time::Duration;

use parlor_protocol::{ClientMessage, Points};
use serde_json::Number;

use super::{Bot, BotOptions, DemoError};

/// Publishes until `stop` resolves (then returns `Ok`) or the connection ends.
pub async fn ticker(options: BotOptions, every: Duration, stop: impl Future<Output = ()>) -> Result<(), DemoError> {
    let mut bot = Bot::start(options).await?;
    let mut tick = tokio::time::interval(every);
    let mut walk = 0.0_f64;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(()),
            _ = tick.tick() => {
                let random = unit_random();
                walk += random - 0.5;
                let points: Points = [("random", random), ("walk", walk)]
                    .into_iter()
                    .filter_map(|(name, value)| Some((name.to_owned(), Number::from_f64(round(value))?)))
                    .collect();
                bot.send(&ClientMessage::Publish { room: bot.options.room.clone(), points }).await?;
            }
            event = bot.next() => {
                event?;
            }
        }
    }
}

/// A uniform value in 0..1 from the OS's random source (0.5 if it fails: a flat line, not a crash).
fn unit_random() -> f64 {
    getrandom::u64().map_or(0.5, |bits| (bits >> 11) as f64 / (1_u64 << 53) as f64)
}

/// Four decimals are plenty for a chart and keep frames short.
fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}
