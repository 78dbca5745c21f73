//! An exporter: a sending queue, and consumers that have the plugin encode
//! each batch and the transport deliver it. Stdout and files are written
//! with a few quick retries; the network is sent with the exporter's
//! `retry_on_failure` (see `delivery`). Whatever is given up on is counted
//! and logged once, with the reason.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::task::JoinHandle;

use super::batch::Batch;
use super::delivery::{Delivered, send_with_retry};
use super::ingest::Refusal;
use super::queue::{QueueSender, SendingQueue};
use crate::plugin::{CallContext, CallError, ExporterPool, Outgoing};
use crate::telemetry::{ExporterLabels, TenantExportLabels, metrics};
use crate::transport::config::{QueueConfig, RetryConfig};
use crate::transport::{Destination, OutgoingRequest};

/// Attempts for local destinations (stdout, files) and for an encode that
/// trapped: the first and three retries.
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// How an exporter queues and retries.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub queue: QueueConfig,
    pub retry: RetryConfig,
}

impl DeliverySettings {
    /// Stdout and files: one writer (records stay in order), 256 batches
    /// queued, pipelines wait while it is full.
    pub fn local() -> Self {
        DeliverySettings {
            queue: QueueConfig {
                num_consumers: 1,
                queue_size: 256,
                block_on_overflow: true,
                ..QueueConfig::default()
            },
            retry: RetryConfig::default(),
        }
    }
}

/// The sending side of an exporter's queue.
pub struct ExporterHandle {
    id: String,
    queue: QueueSender,
}

impl ExporterHandle {
    /// Starts the exporter's consumers; they end once every handle is
    /// dropped and the queue is drained.
    pub fn start(
        id: &str,
        pool: ExporterPool,
        destination: Destination,
        settings: DeliverySettings,
        environment: Arc<str>,
    ) -> (Arc<Self>, JoinHandle<()>) {
        let queue = SendingQueue::open(id, &settings.queue);
        let worker = Arc::new(Worker {
            id: id.to_string(),
            pool,
            destination,
            retry: settings.retry,
            environment,
        });
        let consumers: Vec<JoinHandle<()>> = (0..settings.queue.num_consumers)
            .map(|_| tokio::spawn(worker.clone().consume(queue.queue().clone())))
            .collect();
        let task = tokio::spawn(async move {
            for consumer in consumers {
                let _ = consumer.await;
            }
        });
        (
            Arc::new(ExporterHandle {
                id: id.to_string(),
                queue,
            }),
            task,
        )
    }

    /// Room for a new request, or why not (the queue is full).
    pub async fn admit(&self) -> Result<(), Refusal> {
        self.queue.queue().admit().await
    }

    /// Queues a batch of admitted data.
    pub async fn enqueue(&self, batch: Batch) {
        if let Err(batch) = self.queue.push(batch) {
            tracing::error!(
                exporter = self.id,
                "exporter stopped; {} {} lost",
                batch.items,
                batch.signal.item_name()
            );
            count_failed(&self.id, batch.signal, batch.items);
        }
    }
}

struct Worker {
    id: String,
    pool: ExporterPool,
    destination: Destination,
    retry: RetryConfig,
    environment: Arc<str>,
}

/// Why a batch was given up on.
enum Failure {
    Permanent(String),
    Retryable(String),
}

impl Worker {
    async fn consume(self: Arc<Self>, queue: Arc<SendingQueue>) {
        while let Some((batch, size)) = queue.next().await {
            self.export(batch).await;
            queue.release(size);
        }
    }

    async fn export(&self, batch: Batch) {
        let labels = ExporterLabels {
            exporter: self.id.clone(),
            signal: batch.signal.to_string(),
        };
        let result = match self.encode(&batch, &labels).await {
            Ok(outgoing) => self.deliver(outgoing, &labels).await,
            Err(failure) => Err(failure),
        };
        match result {
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
                metrics()
                    .exporter_permanent_failures
                    .get_or_create(&labels)
                    .inc();
                tracing::error!(
                    exporter = self.id,
                    items = batch.items,
                    "dropping a batch that cannot be delivered (not retried): {reason}"
                );
            }
            Err(Failure::Retryable(reason)) => {
                tracing::error!(
                    exporter = self.id,
                    items = batch.items,
                    "dropping a batch after its retries ran out: {reason}"
                );
            }
        }
        count_failed(&self.id, batch.signal, batch.items);
    }

    /// Has the plugin encode the batch, retrying (on a fresh instance) a
    /// call that trapped or timed out.
    async fn encode(
        &self,
        batch: &Batch,
        labels: &ExporterLabels,
    ) -> Result<Vec<Outgoing>, Failure> {
        let ctx = CallContext {
            tenant: batch.tenant.to_string(),
            environment: self.environment.to_string(),
            pipeline: String::new(),
            metadata: batch.metadata.as_ref().clone(),
        };
        self.encode_payload(&ctx, batch.signal, &batch.payload, batch.items, labels)
            .await
    }

    /// Encodes one request; one too big for the plugin's memory cap is
    /// encoded in halves (down to single items) rather than dropped.
    fn encode_payload<'a>(
        &'a self,
        ctx: &'a CallContext,
        signal: crate::Signal,
        payload: &'a [u8],
        items: usize,
        labels: &'a ExporterLabels,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<Outgoing>, Failure>> + Send + 'a>,
    > {
        Box::pin(async move {
            let mut backoff = FIRST_BACKOFF;
            let mut attempt = 1;
            loop {
                match self.pool.encode(ctx, signal, payload.to_vec()).await {
                    Ok(outgoing) => return Ok(outgoing),
                    Err(CallError::Rejected(reason)) => {
                        return Err(Failure::Permanent(format!(
                            "the encoder refused it: {reason}"
                        )));
                    }
                    Err(CallError::Memory(cap)) if items > 1 => {
                        tracing::warn!(
                            exporter = self.id,
                            items,
                            "{items} items exceed the encoder's {cap} MiB: encoding them in halves"
                        );
                        let half = items.div_ceil(2);
                        let parts = weir_wire::split(signal, payload, half)
                            .map_err(|e| Failure::Permanent(format!("cannot split: {e}")))?;
                        let mut outgoing = Vec::new();
                        for part in &parts {
                            let n = weir_wire::count_items(signal, part).unwrap_or(half);
                            outgoing
                                .extend(self.encode_payload(ctx, signal, part, n, labels).await?);
                        }
                        return Ok(outgoing);
                    }
                    Err(other) if attempt < ATTEMPTS => {
                        self.note_retry(labels, attempt, backoff, &other.to_string());
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                        attempt += 1;
                    }
                    Err(other) => return Err(Failure::Retryable(other.to_string())),
                }
            }
        })
    }

    async fn deliver(
        &self,
        outgoing: Vec<Outgoing>,
        labels: &ExporterLabels,
    ) -> Result<(), Failure> {
        match &self.destination {
            Destination::Network(sink) => {
                // Every request of the batch is delivered (or given up on)
                // in order; the first that cannot be ends the batch.
                for out in outgoing {
                    let request = OutgoingRequest {
                        path: out.path,
                        headers: out.headers,
                        body: Bytes::from(out.body),
                    };
                    let mut attempt = 0;
                    let delivered = send_with_retry(sink, &request, &self.retry, |reason, wait| {
                        attempt += 1;
                        self.note_retry(labels, attempt, wait, reason);
                    })
                    .await;
                    match delivered {
                        Delivered::Sent => {}
                        Delivered::Permanent(reason) => return Err(Failure::Permanent(reason)),
                        Delivered::GaveUp(reason) => return Err(Failure::Retryable(reason)),
                    }
                }
                Ok(())
            }
            local => {
                let bodies: Vec<Vec<u8>> = outgoing.into_iter().map(|o| o.body).collect();
                let bodies = Arc::new(bodies);
                let mut backoff = FIRST_BACKOFF;
                for attempt in 1..=ATTEMPTS {
                    let (destination, bodies) = (local.clone(), bodies.clone());
                    let result =
                        tokio::task::spawn_blocking(move || destination.deliver_blocking(&bodies))
                            .await
                            .map_err(|e| e.to_string())
                            .and_then(|r| r.map_err(|e| e.to_string()));
                    match result {
                        Ok(()) => return Ok(()),
                        Err(reason) if attempt < ATTEMPTS => {
                            self.note_retry(labels, attempt, backoff, &reason);
                            tokio::time::sleep(backoff).await;
                            backoff *= 2;
                        }
                        Err(reason) => return Err(Failure::Retryable(reason)),
                    }
                }
                unreachable!("the last attempt returns")
            }
        }
    }

    fn note_retry(&self, labels: &ExporterLabels, attempt: u32, wait: Duration, reason: &str) {
        metrics().exporter_retries.get_or_create(labels).inc();
        tracing::warn!(
            exporter = self.id,
            attempt,
            "export failed, retrying in {wait:?}: {reason}"
        );
    }
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
