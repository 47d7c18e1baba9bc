//! The stop signal every long-running task listens to, so that Ctrl-C ends connections cleanly (close 1001) instead
//! of dropping them.

use tokio::sync::watch;

/// Fires once when the server is told to stop.
#[derive(Debug)]
pub(crate) struct ShutdownTrigger(watch::Sender<bool>);

/// A listener for the stop signal; clone one per task.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(watch::Receiver<bool>);

/// A trigger and its first listener.
pub(crate) fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Tells every listener to stop.
    pub(crate) fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Waits until the stop signal fires (at once if it already has, or if the trigger is gone).
    pub(crate) async fn recv(&mut self) {
        // An error means the trigger was dropped, which also means stop.
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}
