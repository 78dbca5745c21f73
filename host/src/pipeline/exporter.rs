//! An exporter: a sending queue, and consumers that have the plugin encode
//! each batch and the transport deliver it. Stdout and files are written
//! with a few quick retries; the network is sent with the exporter's
//! `retry_on_failure` (see `delivery`). Whatever is given up on is counted
//! and logged once, with the reason.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::task::JoinHandle;

use tokio::sync::watch;

use super::batch::Batch;
use super::delivery::{Delivered, send_with_retry};
use super::durable::{Attachment, DurableQueue, StorageSpec};
use super::ingest::Refusal;
use super::queue::{QueueSender, SendingQueue};
use super::store::StoreError;
use crate::plugin::{CallContext, CallError, ExporterPool, Outgoing};
use crate::telemetry::{ExporterLabels, ExporterQueueLabels, TenantExportLabels, metrics};
use crate::transport::config::{QueueConfig, RetryConfig};
use crate::transport::{Destination, OutgoingRequest};

/// Attempts for local destinations (stdout, files) and for an encode that
/// trapped: the first and three retries.
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How long a persistent queue's sender superseded by a reload may finish
/// the batch it is sending before handing it over.
const HANDOVER: Duration = Duration::from_secs(5);

/// How an exporter queues and retries.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub queue: QueueConfig,
    pub retry: RetryConfig,
    /// `sending_queue.storage`, resolved: the queue is kept on disk.
    pub storage: Option<StorageSpec>,
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
            storage: None,
        }
    }
}

/// The sending side of an exporter's queue.
pub struct ExporterHandle {
    id: String,
    queue: Queue,
}

enum Queue {
    Memory(QueueSender),
    /// `sending_queue.storage`: on disk, shared with other generations.
    Durable(Attachment),
}

impl ExporterHandle {
    /// Starts the exporter's consumers; they end once every handle is
    /// dropped and the queue is drained (a persistent queue's also when a
    /// reload attached a newer generation to it).
    pub fn start(
        id: &str,
        pool: ExporterPool,
        destination: Destination,
        settings: DeliverySettings,
        environment: Arc<str>,
    ) -> Result<(Arc<Self>, JoinHandle<()>), StoreError> {
        let queue = match &settings.storage {
            Some(spec) => Queue::Durable(DurableQueue::attach(id, spec, &settings.queue)?),
            None => Queue::Memory(SendingQueue::open(id, &settings.queue)),
        };
        let worker = Arc::new(Worker {
            id: id.to_string(),
            pool,
            destination,
            retry: settings.retry,
            environment,
        });
        let consumers: Vec<JoinHandle<()>> = (0..settings.queue.num_consumers)
            .map(|_| match &queue {
                Queue::Memory(tx) => tokio::spawn(worker.clone().consume(tx.queue().clone())),
                Queue::Durable(a) => tokio::spawn(worker.clone().consume_durable(
                    a.queue.clone(),
                    a.generation,
                    a.closed(),
                )),
            })
            .collect();
        let task = tokio::spawn(async move {
            for consumer in consumers {
                let _ = consumer.await;
            }
        });
        Ok((
            Arc::new(ExporterHandle {
                id: id.to_string(),
                queue,
            }),
            task,
        ))
    }

    /// Whether the queue is on disk (requests wait for their batches to be stored).
    pub fn is_durable(&self) -> bool {
        matches!(self.queue, Queue::Durable(_))
    }

    /// Room for a new request, or why not (the queue is full).
    pub async fn admit(&self) -> Result<(), Refusal> {
        match &self.queue {
            Queue::Memory(tx) => tx.queue().admit().await,
            Queue::Durable(a) => a.queue.admit().await,
        }
    }

    /// Queues a batch of admitted data; a persistent queue returns once the
    /// batch is stored, or says why it could not be.
    pub async fn enqueue(&self, batch: Batch) -> Result<(), String> {
        match &self.queue {
            Queue::Memory(tx) => {
                if let Err(batch) = tx.push(batch) {
                    tracing::error!(
                        exporter = self.id,
                        "exporter stopped; {} {} lost",
                        batch.items,
                        batch.signal.item_name()
                    );
                    count_failed(&self.id, batch.signal, batch.items);
                }
                Ok(())
            }
            Queue::Durable(a) => a.queue.push(&batch).await.map_err(|e| {
                metrics()
                    .exporter_queue_store_failures
                    .get_or_create(&ExporterQueueLabels {
                        exporter: self.id.clone(),
                    })
                    .inc();
                e.to_string()
            }),
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
            if let Err(failure) = self.export(&batch).await {
                self.give_up(&batch, failure);
            }
            queue.release(size, batch.payload.len());
        }
    }

    /// Sends from a persistent queue: a batch is forgotten once delivered
    /// or refused for good; one whose retries ran out goes back in line.
    /// A newer generation (a reload) takes over at once: what this sender
    /// was sending is handed back (and may arrive twice).
    ///
    /// The removal of a delivered batch is committed while the next one is
    /// sent, and awaited before the one after: a sender has at most two
    /// batches that a crash would send again (one on the wire, one being
    /// removed).
    async fn consume_durable(
        self: Arc<Self>,
        queue: Arc<DurableQueue>,
        generation: u64,
        mut closed: watch::Receiver<bool>,
    ) {
        let mut removing: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>> = None;
        loop {
            let stored = tokio::select! {
                next = queue.next(&mut closed) => match next {
                    Some(stored) => stored,
                    None => break,
                },
                _ = queue.superseded(generation) => break,
            };
            let batch = match queue.load(stored).await {
                Ok(Some(batch)) => batch,
                Ok(None) => {
                    queue.done(stored).await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(
                        exporter = self.id,
                        "cannot read a queued batch, dropped: {e}"
                    );
                    // Its signal is in the record that could not be read.
                    metrics()
                        .exporter_failed_items
                        .get_or_create(&ExporterLabels {
                            exporter: self.id.clone(),
                            signal: "unknown".into(),
                        })
                        .inc_by(stored.items as u64);
                    queue.done(stored).await;
                    continue;
                }
            };
            // A batch being sent when a reload takes over is finished for
            // up to HANDOVER (a request on the wire is answered, not sent
            // again), then handed to the new senders. `biased`: a send that
            // completed wins over the hand-over.
            let handover = async {
                queue.superseded(generation).await;
                tokio::time::sleep(HANDOVER).await;
            };
            let result = tokio::select! {
                biased;
                result = self.export(&batch) => result,
                _ = handover => {
                    tracing::info!(
                        exporter = self.id,
                        key = stored.key,
                        "a reload took over the persistent queue; the batch being sent is handed to it"
                    );
                    queue.requeue(stored);
                    break;
                }
            };
            match result {
                Ok(()) => {
                    if let Some(previous) = removing.replace(Box::pin(queue.done(stored))) {
                        previous.await;
                    }
                }
                Err(Failure::Retryable(reason)) => {
                    tracing::warn!(
                        exporter = self.id,
                        items = batch.items,
                        "retries ran out; the batch stays in the persistent queue: {reason}"
                    );
                    queue.requeue(stored);
                }
                Err(permanent) => {
                    self.give_up(&batch, permanent);
                    queue.done(stored).await;
                }
            }
        }
        if let Some(removal) = removing {
            removal.await;
        }
    }

    /// Encodes and delivers a batch; counts it when it was sent.
    async fn export(&self, batch: &Batch) -> Result<(), Failure> {
        let labels = ExporterLabels {
            exporter: self.id.clone(),
            signal: batch.signal.to_string(),
        };
        let result = match self.encode(batch, &labels).await {
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
                Ok(())
            }
            Err(failure) => Err(failure),
        }
    }

    /// Counts and logs a batch given up on.
    fn give_up(&self, batch: &Batch, failure: Failure) {
        let labels = ExporterLabels {
            exporter: self.id.clone(),
            signal: batch.signal.to_string(),
        };
        match failure {
            Failure::Permanent(reason) => {
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
            Failure::Retryable(reason) => {
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
