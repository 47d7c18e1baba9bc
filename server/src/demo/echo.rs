//! The echo bot: answers every message in its room with a reply quoting it — the seed tutorials' first server,
//! done as a chat participant.

use std::future::Future;

use parlor_protocol::{names, ClientMessage, ServerEvent};

use super::{Bot, BotOptions, DemoError};

/// Echoes until `stop` resolves (then returns `Ok`) or the connection ends.
pub async fn echo(options: BotOptions, stop: impl Future<Output = ()>) -> Result<(), DemoError> {
    let mut bot = Bot::start(options).await?;
    let me = names::fold(&bot.options.nick);
    tokio::pin!(stop);
    loop {
        let event = tokio::select! {
            () = &mut stop => return Ok(()),
            event = bot.next() => event?,
        };
        let ServerEvent::Message(message) = event else { continue };
        if names::fold(&message.from) == me || message.room != bot.options.room || message.deleted {
            continue;
        }
        let text: String = format!("echo: {}", message.text).chars().take(4000).collect();
        let reply = ClientMessage::Send {
            room: message.room.clone(),
            text,
            client_id: format!("echo-{}-{}", message.room, message.seq),
            poll: None,
            reply_to: Some(message.seq),
            announce: false,
        };
        bot.send(&reply).await?;
    }
}
