//! The timer of stateful processors and connectors: `tick` every interval
//! until stopped.

use std::future::Future;
use std::ops::ControlFlow;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A task that calls `tick` every `interval`, the first time one interval
/// after it starts; a tick that runs late delays the next rather than
/// bunching them. It ends when stopped or when `tick` breaks.
pub struct Ticker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Ticker {
    pub fn start<F, Fut>(interval: Duration, mut tick: F) -> Ticker
    where
        F: FnMut(u64) -> Fut + Send + 'static,
        Fut: Future<Output = ControlFlow<()>> + Send,
    {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut timer = tokio::time::interval(interval);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            timer.tick().await;
            loop {
                tokio::select! {
                    _ = timer.tick() => {}
                    _ = stopped.changed() => return,
                }
                if tick(now_unix_nanos()).await.is_break() {
                    return;
                }
            }
        });
        Ticker { stop, task }
    }

    /// Stops the timer; a tick under way finishes first.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Wall-clock time in ns, as plugins see it through the host interface.
pub fn now_unix_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
