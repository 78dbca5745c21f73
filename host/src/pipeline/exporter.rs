//! An exporter: a queue, and a worker that has the plugin encode each batch
//! and the transport deliver it, retrying (with a fresh instance after a
//! trap) before giving up on a batch and counting it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::batch::Batch;
use crate::plugin::{CallContext, CallError, ExporterPool};
use crate::telemetry::{ExporterLabels, TenantExportLabels, metrics};
use crate::transport::Destination;

/// Batches queued per exporter before pipelines wait (memory stays bounded
/// by the memory gate, which holds the bytes of queued batches).
const QUEUE_BATCHES: usize = 256;
/// Delivery attempts per batch: the first and three retries.
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The sending side of an exporter's queue.
pub struct ExporterHandle {
    id: String,
    queue: mpsc::Sender<Batch>,
}

impl ExporterHandle {
    /// Starts the exporter's worker; it ends once every handle is dropped
    /// and the queue is drained.
    pub fn start(
        id: &str,
        pool: ExporterPool,
        destination: Destination,
        environment: Arc<str>,
    ) -> (Arc<Self>, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(QUEUE_BATCHES);
        let worker = Worker {
            id: id.to_string(),
            pool,
            destination,
            environment,
        };
        let task = tokio::spawn(worker.run(rx));
        (
            Arc::new(ExporterHandle {
                id: id.to_string(),
                queue,
            }),
            task,
        )
    }

    /// Queues a batch, waiting while the queue is full.
    pub async fn enqueue(&self, batch: Batch) {
        let (items, signal) = (batch.items, batch.signal);
        if self.queue.send(batch).await.is_err() {
            tracing::error!(
                exporter = self.id,
                "exporter stopped; {items} {} lost",
                signal.item_name()
            );
            count_failed(&self.id, signal, items);
        }
    }
}

struct Worker {
    id: String,
    pool: ExporterPool,
    destination: Destination,
    environment: Arc<str>,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Batch>) {
        while let Some(batch) = rx.recv().await {
            self.export(batch).await;
        }
    }

    async fn export(&self, batch: Batch) {
        let labels = ExporterLabels {
            exporter: self.id.clone(),
            signal: batch.signal.to_string(),
        };
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            match self.attempt(&batch).await {
                Ok(()) => {
                    metrics()
                        .exporter_sent_items
                        .get_or_create(&labels)
                        .inc_by(batch.items as u64);
                    metrics()
                        .tenant_exported_items
                        .get_or_create(&TenantExportLabels {
                            tenant: batch.tenant.to_string(),
                            exporter: self.id.clone(),
                            signal: labels.signal.clone(),
                        })
                        .inc_by(batch.items as u64);
                    return;
                }
                Err(Failure::Permanent(reason)) => {
                    tracing::error!(
                        exporter = self.id,
                        items = batch.items,
                        "dropping a batch the exporter refused: {reason}"
                    );
                    break;
                }
                Err(Failure::Retryable(reason)) if attempt < ATTEMPTS => {
                    tracing::warn!(
                        exporter = self.id,
                        attempt,
                        "export failed, retrying in {backoff:?}: {reason}"
                    );
                    metrics().exporter_retries.get_or_create(&labels).inc();
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(Failure::Retryable(reason)) => {
                    tracing::error!(
                        exporter = self.id,
                        items = batch.items,
                        "dropping a batch after {ATTEMPTS} attempts: {reason}"
                    );
                }
            }
        }
        count_failed(&self.id, batch.signal, batch.items);
    }

    async fn attempt(&self, batch: &Batch) -> Result<(), Failure> {
        let ctx = CallContext {
            tenant: batch.tenant.to_string(),
            environment: self.environment.to_string(),
            pipeline: String::new(),
            metadata: batch.metadata.as_ref().clone(),
        };
        let outgoing = self
            .pool
            .encode(&ctx, batch.signal, batch.payload.to_vec())
            .await
            .map_err(|e| match e {
                CallError::Rejected(reason) => Failure::Permanent(reason),
                other => Failure::Retryable(other.to_string()),
            })?;
        let bodies: Vec<Vec<u8>> = outgoing.into_iter().map(|o| o.body).collect();
        let destination = self.destination.clone();
        tokio::task::spawn_blocking(move || destination.deliver_blocking(&bodies))
            .await
            .map_err(|e| Failure::Retryable(e.to_string()))?
            .map_err(|e| Failure::Retryable(e.to_string()))
    }
}

enum Failure {
    Permanent(String),
    Retryable(String),
}

fn count_failed(id: &str, signal: crate::Signal, items: usize) {
    metrics()
        .exporter_failed_items
        .get_or_create(&ExporterLabels {
            exporter: id.to_string(),
            signal: signal.to_string(),
        })
        .inc_by(items as u64);
}
