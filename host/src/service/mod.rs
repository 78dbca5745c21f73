//! The running collector: builds pipelines from a config, starts receivers
//! and the telemetry endpoint, reloads on a changed file, SIGHUP or
//! `POST /reload`, and shuts down in order on SIGINT/SIGTERM (stop
//! accepting, flush batches, drain exporter queues).

mod collector;
mod receivers;
mod source;
mod watch;

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use collector::Collector;
pub use source::ConfigSource;

use crate::config::{Config, ConfigErrors};
use crate::pipeline::{self, Prepared};
use crate::plugin::PluginEngine;

/// How long shutdown waits for pipelines (and clients) to drain.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(30);
/// File events closer together than this make one reload (editors write in steps).
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Why the collector could not run.
///
/// The variants that wrap another error print it in their own message and
/// do not also report it as their `source`: `main` prints the whole chain,
/// which would say it twice.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid configuration:\n{0}")]
    Config(ConfigErrors),
    #[error("{0}")]
    Plugin(crate::plugin::LoadError),
    #[error("receiver {id}: {reason}")]
    Receiver { id: String, reason: String },
    #[error("telemetry endpoint {address}: {reason}")]
    Telemetry {
        address: String,
        reason: std::io::Error,
    },
}

impl From<ConfigErrors> for ServiceError {
    fn from(errors: ConfigErrors) -> Self {
        ServiceError::Config(errors)
    }
}

impl From<crate::plugin::LoadError> for ServiceError {
    fn from(error: crate::plugin::LoadError) -> Self {
        ServiceError::Plugin(error)
    }
}

/// A request to reload, from the file watcher, SIGHUP or `POST /reload`.
#[derive(Debug)]
pub struct ReloadRequest {
    /// What asked, for the log.
    pub reason: String,
    /// Where to say how it went (`POST /reload` answers with it).
    pub reply: Option<oneshot::Sender<Result<String, String>>>,
}

/// Checks a config the way `run` would use it, starting nothing: every
/// plugin is compiled and configured (its `init` sees its settings).
pub fn validate(config: Config) -> Result<Prepared, ConfigErrors> {
    let engine = PluginEngine::new().map_err(|e| {
        ConfigErrors(vec![crate::config::ConfigError {
            file: config.file.clone(),
            path: String::new(),
            line: None,
            message: e.to_string(),
        }])
    })?;
    pipeline::prepare(config, &engine)
}

/// Runs the collector until SIGINT or SIGTERM, reloading on request.
pub async fn run(source: ConfigSource, config: Config, hash: String) -> Result<(), ServiceError> {
    let (reload_tx, mut reloads) = mpsc::channel::<ReloadRequest>(16);
    let mut collector = Collector::start(source, config, hash, reload_tx.clone()).await?;
    let mut watcher = watch::FileWatcher::start(reload_tx.clone());
    if let Some(w) = watcher.as_mut() {
        w.watch(collector.watched_paths());
    }
    let mut hangup = hangup_signal();
    tracing::info!(config = %collector.source(), "ready");
    crate::malloc::release_free();

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut release = tokio::time::interval(crate::malloc::RELEASE_EVERY);
    release.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = release.tick() => crate::malloc::release_free(),
            _ = hangup.recv() => {
                let _ = reload_tx.try_send(ReloadRequest { reason: "SIGHUP".into(), reply: None });
            }
            Some(first) = reloads.recv() => {
                // Gather what arrives while files settle: one reload serves them all.
                let mut requests = vec![first];
                if requests[0].reply.is_none() {
                    tokio::time::sleep(DEBOUNCE).await;
                }
                while let Ok(more) = reloads.try_recv() {
                    requests.push(more);
                }
                let reason = requests.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>().join(", ");
                let outcome = collector.reload(&reason).await;
                crate::malloc::release_free();
                if let Some(w) = watcher.as_mut() {
                    w.watch(collector.watched_paths());
                }
                for request in requests {
                    if let Some(reply) = request.reply {
                        let _ = reply.send(outcome.clone());
                    }
                }
            }
        }
    }
    drop(watcher);
    collector.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("cannot listen for SIGTERM");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// SIGHUP as a stream of reload requests (never fires off Unix).
fn hangup_signal() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel(1);
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            let _ = tx.try_send(());
        }
    });
    #[cfg(not(unix))]
    drop(tx);
    rx
}
