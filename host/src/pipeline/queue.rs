//! `sending_queue`: what an exporter holds between the pipelines and its
//! senders, measured in requests, items or bytes.
//!
//! Data the receivers acknowledged is never dropped here: a pipeline asks
//! [`SendingQueue::admit`] *before* it accepts a request, and a full queue
//! refuses it (429 / `RESOURCE_EXHAUSTED` with a retry hint, so the client
//! retries) or, with `block_on_overflow`, makes the receiver wait. Once
//! admitted, a request's batches always enter the queue, so the bound can be
//! passed by what was already admitted and still on its way (in the batcher,
//! in processors); the memory limiter bounds that.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Notify, mpsc};

use super::batch::Batch;
use super::ingest::Refusal;
use crate::telemetry::{ExporterQueueLabels, StageLabels, metrics};
use crate::transport::config::{QueueConfig, Sizer};

/// The retry hint given while a queue is full, unless configured.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The queue of one exporter: a channel plus an account of what it holds
/// (batches waiting and batches being sent).
pub struct SendingQueue {
    id: String,
    rx: Mutex<mpsc::UnboundedReceiver<Batch>>,
    used: AtomicUsize,
    capacity: usize,
    sizer: Sizer,
    block_on_overflow: bool,
    retry_after: Duration,
    space: Notify,
}

/// The pipelines' side of a queue; the queue closes when it is dropped.
pub struct QueueSender {
    tx: mpsc::UnboundedSender<Batch>,
    queue: Arc<SendingQueue>,
}

impl QueueSender {
    /// The queue this sender feeds.
    pub fn queue(&self) -> &Arc<SendingQueue> {
        &self.queue
    }

    /// Queues an admitted batch. Fails only when the senders are gone.
    pub fn push(&self, batch: Batch) -> Result<(), Batch> {
        let size = self.queue.size_of(&batch);
        let bytes = batch.payload.len();
        self.queue.used.fetch_add(size, Ordering::AcqRel);
        metrics()
            .exporter_queue_size
            .get_or_create(&self.queue.labels())
            .inc_by(size as i64);
        queued_bytes().inc_by(bytes as i64);
        self.tx.send(batch).map_err(|e| {
            self.queue.release(size, bytes);
            e.0
        })
    }
}

impl SendingQueue {
    /// A queue and the sender the pipelines feed it through.
    pub fn open(id: &str, config: &QueueConfig) -> QueueSender {
        let (tx, rx) = mpsc::unbounded_channel();
        // Without a queue, each consumer still holds the request it sends.
        let (capacity, sizer) = if config.enabled {
            (config.queue_size, config.sizer)
        } else {
            (config.num_consumers, Sizer::Requests)
        };
        let queue = Arc::new(SendingQueue {
            id: id.to_string(),
            rx: Mutex::new(rx),
            used: AtomicUsize::new(0),
            capacity,
            sizer,
            block_on_overflow: config.block_on_overflow,
            retry_after: config.retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
            space: Notify::new(),
        });
        QueueSender { tx, queue }
    }

    fn size_of(&self, batch: &Batch) -> usize {
        match self.sizer {
            Sizer::Requests => 1,
            Sizer::Items => batch.items,
            Sizer::Bytes => batch.payload.len(),
        }
    }

    fn labels(&self) -> ExporterQueueLabels {
        ExporterQueueLabels {
            exporter: self.id.clone(),
        }
    }

    /// Whether new data may be accepted: refuses while the queue is full,
    /// or waits for room with `block_on_overflow`.
    pub async fn admit(&self) -> Result<(), Refusal> {
        loop {
            let freed = self.space.notified();
            if self.used.load(Ordering::Acquire) < self.capacity {
                return Ok(());
            }
            if !self.block_on_overflow {
                metrics()
                    .exporter_queue_refusals
                    .get_or_create(&self.labels())
                    .inc();
                return Err(Refusal::Exhausted {
                    retry_after: self.retry_after,
                    reason: format!(
                        "the sending queue of exporter {} is full ({} of {}); retry after {:?}",
                        self.id,
                        self.used.load(Ordering::Relaxed),
                        self.capacity,
                        self.retry_after
                    ),
                });
            }
            freed.await;
        }
    }

    /// The next batch for a sender, with its size to [`release`](Self::release)
    /// once sent; `None` when the queue is closed and empty.
    pub async fn next(&self) -> Option<(Batch, usize)> {
        let batch = self.rx.lock().await.recv().await?;
        let size = self.size_of(&batch);
        Some((batch, size))
    }

    /// Gives back the room a batch (of `bytes` payload) held.
    pub fn release(&self, size: usize, bytes: usize) {
        queued_bytes().dec_by(bytes as i64);
        self.used.fetch_sub(size, Ordering::AcqRel);
        metrics()
            .exporter_queue_size
            .get_or_create(&self.labels())
            .dec_by(size as i64);
        self.space.notify_waiters();
    }
}

/// The `sending_queue` stage of `weir_memory_stage_bytes`.
fn queued_bytes() -> prometheus_client::metrics::gauge::Gauge {
    metrics()
        .memory_stage_bytes
        .get_or_create(&StageLabels::of("sending_queue"))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn batch(bytes: usize) -> Batch {
        Batch {
            signal: crate::Signal::Logs,
            payload: Bytes::from(vec![0u8; bytes]),
            items: 3,
            tenant: Arc::from("default"),
            metadata: Arc::new(Vec::new()),
            permits: Vec::new(),
            acks: Vec::new(),
        }
    }

    fn queue(size: usize, sizer: Sizer, block: bool) -> QueueSender {
        SendingQueue::open(
            "otlphttp",
            &QueueConfig {
                queue_size: size,
                sizer,
                block_on_overflow: block,
                ..Default::default()
            },
        )
    }

    #[tokio::test]
    async fn refuses_with_a_hint_when_full_and_admits_once_drained() {
        let tx = queue(2, Sizer::Requests, false);
        let q = tx.queue();
        q.admit().await.unwrap();
        tx.push(batch(10)).unwrap();
        tx.push(batch(10)).unwrap();
        match q.admit().await {
            Err(Refusal::Exhausted { retry_after, .. }) => {
                assert_eq!(retry_after, DEFAULT_RETRY_AFTER)
            }
            other => panic!("expected exhausted, got {other:?}"),
        }
        let (b, size) = q.next().await.unwrap();
        q.release(size, b.payload.len());
        q.admit().await.unwrap();
    }

    #[tokio::test]
    async fn sizes_in_bytes_and_items() {
        let tx = queue(25, Sizer::Bytes, false);
        tx.push(batch(20)).unwrap();
        tx.queue().admit().await.unwrap();
        tx.push(batch(20)).unwrap();
        assert!(tx.queue().admit().await.is_err());
        let tx = queue(6, Sizer::Items, false);
        tx.push(batch(1)).unwrap();
        tx.queue().admit().await.unwrap();
        tx.push(batch(1)).unwrap();
        assert!(tx.queue().admit().await.is_err());
        drop(tx);
    }

    #[tokio::test]
    async fn blocking_waits_for_room() {
        let tx = queue(1, Sizer::Requests, true);
        let q = tx.queue().clone();
        tx.push(batch(1)).unwrap();
        let waiter = tokio::spawn({
            let q = q.clone();
            async move { q.admit().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        let (b, size) = q.next().await.unwrap();
        q.release(size, b.payload.len());
        waiter.await.unwrap().unwrap();
    }
}
