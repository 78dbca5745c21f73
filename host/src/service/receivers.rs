//! The running receivers, kept across reloads: a receiver whose settings did
//! not change keeps its listeners (and re-reads its certificates); one whose
//! settings changed is stopped and started again; one no pipeline uses any
//! more is stopped.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{DRAIN_DEADLINE, ServiceError};
use crate::config::{ComponentId, ReceiverConfig};
use crate::pipeline::Router;
use crate::receiver::{self, ReceiverError, RunningReceiver};

/// How long a restarted receiver retries binding while its predecessor closes.
const REBIND_FOR: Duration = Duration::from_secs(3);

struct Entry {
    config: ReceiverConfig,
    running: RunningReceiver,
    stop: watch::Sender<bool>,
}

/// Receivers by id.
#[derive(Default)]
pub struct Receivers {
    entries: BTreeMap<ComponentId, Entry>,
    /// Stopped receivers finishing their in-flight requests.
    stopping: JoinSet<()>,
}

impl Receivers {
    /// Makes the running receivers match `wanted`.
    pub async fn apply(
        &mut self,
        wanted: &BTreeMap<ComponentId, ReceiverConfig>,
        router: &Router,
    ) -> Result<(), ServiceError> {
        let stale: Vec<ComponentId> = self
            .entries
            .iter()
            .filter(|(id, e)| wanted.get(*id) != Some(&e.config))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            if let Some(entry) = self.entries.remove(&id) {
                tracing::info!(receiver = %id, "stopping receiver (its settings changed or no pipeline uses it)");
                self.stop(entry);
            }
        }
        for (id, config) in wanted {
            match self.entries.get(id) {
                Some(entry) => {
                    // Same settings: keep the listeners, re-read the certificates.
                    entry
                        .running
                        .reload_tls()
                        .map_err(|e| ServiceError::Receiver {
                            id: id.to_string(),
                            reason: e.to_string(),
                        })?;
                }
                None => {
                    let entry = start(id, config, router).await?;
                    self.entries.insert(id.clone(), entry);
                }
            }
        }
        Ok(())
    }

    fn stop(&mut self, entry: Entry) {
        let _ = entry.stop.send(true);
        let running = entry.running;
        self.stopping.spawn(async move {
            if tokio::time::timeout(DRAIN_DEADLINE, running.wait())
                .await
                .is_err()
            {
                tracing::warn!(
                    "a client kept its connection open past {DRAIN_DEADLINE:?}; closing"
                );
            }
        });
    }

    /// Stops every receiver and waits for their in-flight requests.
    pub async fn stop_all(&mut self) {
        for (_, entry) in std::mem::take(&mut self.entries) {
            self.stop(entry);
        }
        while self.stopping.join_next().await.is_some() {}
    }
}

/// A stop switch and the future that completes when it is thrown.
fn stop_signal() -> (
    watch::Sender<bool>,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (stop, mut stopped) = watch::channel(false);
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    (stop, shutdown)
}

async fn start(
    id: &ComponentId,
    config: &ReceiverConfig,
    router: &Router,
) -> Result<Entry, ServiceError> {
    let name = id.to_string();
    let otlp = match config {
        ReceiverConfig::Otlp(otlp) => otlp,
        // Native receivers bind nothing: they start at once.
        ReceiverConfig::HostMetrics(host) => {
            let (stop, shutdown) = stop_signal();
            let running =
                receiver::hostmetrics::start(&name, host, router.for_receiver(&name), shutdown);
            tracing::info!(receiver = name, interval = ?host.collection_interval, "scraping host metrics");
            return Ok(Entry {
                config: config.clone(),
                running,
                stop,
            });
        }
        ReceiverConfig::FileLog(filelog) => {
            let storage = match &filelog.file_storage {
                Some(storage) => {
                    if storage.create_directory {
                        std::fs::create_dir_all(&storage.directory).map_err(|e| {
                            ServiceError::Receiver {
                                id: name.clone(),
                                reason: format!(
                                    "cannot create {}: {e}",
                                    storage.directory.display()
                                ),
                            }
                        })?;
                    }
                    if !storage.directory.is_dir() {
                        return Err(ServiceError::Receiver {
                            id: name,
                            reason: format!(
                                "storage folder {} does not exist",
                                storage.directory.display()
                            ),
                        });
                    }
                    Some(storage.directory.as_path())
                }
                None => None,
            };
            let (stop, shutdown) = stop_signal();
            let running = receiver::filelog::start(
                &name,
                filelog,
                storage,
                router.for_receiver(&name),
                shutdown,
            );
            tracing::info!(receiver = name, include = ?filelog.include, "tailing files");
            return Ok(Entry {
                config: config.clone(),
                running,
                stop,
            });
        }
    };
    let deadline = tokio::time::Instant::now() + REBIND_FOR;
    loop {
        let (stop, shutdown) = stop_signal();
        match receiver::start(&name, otlp, router.for_receiver(&name), shutdown).await {
            Ok(running) => {
                for (transport, addr) in [("grpc", running.grpc_addr), ("http", running.http_addr)]
                {
                    if let Some(addr) = addr {
                        tracing::info!(receiver = name, transport, address = %addr, "listening");
                    }
                }
                return Ok(Entry {
                    config: config.clone(),
                    running,
                    stop,
                });
            }
            // A restarted receiver's predecessor may still hold the port for a moment.
            Err(ReceiverError::Bind { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => {
                return Err(ServiceError::Receiver {
                    id: name,
                    reason: e.to_string(),
                });
            }
        }
    }
}
