//! A persistent sending queue (`sending_queue.storage`): batches are
//! stored (see [`store`](super::store)) before the request that carried
//! them is acknowledged, kept in memory only as keys, read back when a
//! sender is free, and removed once the exporter delivered them or the
//! error is permanent. Batches whose retries ran out stay queued.
//!
//! One queue per database file, shared across reloads: the new
//! configuration's exporter attaches to the queue the old one used (a new
//! *generation*), the old senders stop after handing back what they were
//! sending, and what the old pipelines still flush lands in the same queue.
//! Nothing is re-read from disk on reload, so nothing is sent twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

use super::batch::Batch;
use super::ingest::Refusal;
use super::store::{Fsync, QueueStore, Record, StoreError, Stored};
use crate::config::{ComponentId, Config, ExtensionConfig};
use crate::telemetry::{ExporterQueueLabels, metrics};
use crate::transport::config::{QueueConfig, Sizer, StorageConfig};

const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where an exporter's persistent queue lives, resolved from the config.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageSpec {
    pub directory: PathBuf,
    pub create_directory: bool,
    pub fsync: Fsync,
}

/// Resolves `sending_queue.storage`: a `file_storage/<name>` must name a
/// `file_storage` extension listed in `service.extensions`.
pub fn resolve(queue: &QueueConfig, config: &Config) -> Result<Option<StorageSpec>, String> {
    match &queue.storage {
        None => Ok(None),
        Some(StorageConfig::Directory { directory, fsync }) => Ok(Some(StorageSpec {
            directory: directory.clone(),
            create_directory: true,
            fsync: *fsync,
        })),
        Some(StorageConfig::Extension(name)) => {
            let found = ComponentId::parse(name).ok().and_then(|id| {
                config
                    .enabled_extensions()
                    .find(|(eid, _)| **eid == id)
                    .map(|(_, e)| e.clone())
            });
            match found {
                Some(ExtensionConfig::FileStorage(fs)) => Ok(Some(StorageSpec {
                    directory: fs.directory,
                    create_directory: fs.create_directory,
                    fsync: fs.fsync,
                })),
                _ => Err(format!(
                    "sending_queue.storage: `{name}` is not a file_storage extension listed in service.extensions"
                )),
            }
        }
    }
}

/// The file of exporter `id`'s queue in `directory` (`id` may hold `/` and `@`).
pub fn file_of(directory: &Path, id: &str) -> PathBuf {
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    directory.join(format!("exporter_{name}.redb"))
}

struct Limits {
    capacity: usize,
    sizer: Sizer,
    block_on_overflow: bool,
    retry_after: Duration,
}

/// A persistent queue, shared by the generations of one exporter.
pub struct DurableQueue {
    id: String,
    store: QueueStore,
    tx: mpsc::UnboundedSender<Stored>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Stored>>,
    /// Queued or being sent.
    requests: AtomicUsize,
    items: AtomicUsize,
    bytes: AtomicUsize,
    limits: Mutex<Limits>,
    generation: watch::Sender<u64>,
    space: Notify,
}

/// Open queues by file, so a reload finds the one in use.
static OPEN: LazyLock<Mutex<HashMap<PathBuf, Weak<DurableQueue>>>> =
    LazyLock::new(Default::default);

/// One configuration's hold on a queue. Dropping it (the pipelines feeding
/// the exporter are gone) lets its senders stop once the queue is empty.
pub struct Attachment {
    pub queue: Arc<DurableQueue>,
    pub generation: u64,
    closed: watch::Sender<bool>,
}

impl Drop for Attachment {
    fn drop(&mut self) {
        self.closed.send_replace(true);
    }
}

impl Attachment {
    /// Tells a sender when the pipelines feeding this generation are gone.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }
}

impl DurableQueue {
    /// Attaches exporter `id` to its queue in `spec.directory`: the open one
    /// (reload) or one opened now, which replays what the file holds.
    pub fn attach(
        id: &str,
        spec: &StorageSpec,
        config: &QueueConfig,
    ) -> Result<Attachment, StoreError> {
        let limits = Limits {
            capacity: config.queue_size,
            sizer: config.sizer,
            block_on_overflow: config.block_on_overflow,
            retry_after: config.retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
        };
        let path = file_of(&spec.directory, id);
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        let queue = match open.get(&path).and_then(Weak::upgrade) {
            Some(queue) => {
                queue.store.set_fsync(spec.fsync);
                *queue.limits.lock().unwrap_or_else(|e| e.into_inner()) = limits;
                queue.generation.send_modify(|g| *g += 1);
                queue.space.notify_waiters();
                queue
            }
            None => {
                if spec.create_directory {
                    std::fs::create_dir_all(&spec.directory).map_err(|e| {
                        StoreError::new(&spec.directory, format!("cannot create: {e}"))
                    })?;
                }
                let (store, existing) = QueueStore::open(&path, spec.fsync)?;
                let queue = Arc::new(Self::new(id, store, limits));
                queue.replay(existing);
                open.insert(path, Arc::downgrade(&queue));
                queue
            }
        };
        let generation = *queue.generation.borrow();
        Ok(Attachment {
            queue,
            generation,
            closed: watch::Sender::new(false),
        })
    }

    fn new(id: &str, store: QueueStore, limits: Limits) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        DurableQueue {
            id: id.to_string(),
            store,
            tx,
            rx: tokio::sync::Mutex::new(rx),
            requests: AtomicUsize::new(0),
            items: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            limits: Mutex::new(limits),
            generation: watch::Sender::new(0),
            space: Notify::new(),
        }
    }

    fn replay(&self, existing: Vec<Stored>) {
        if existing.is_empty() {
            return;
        }
        let items: usize = existing.iter().map(|s| s.items).sum();
        let bytes: usize = existing.iter().map(|s| s.bytes).sum();
        tracing::info!(
            exporter = self.id,
            batches = existing.len(),
            items,
            bytes,
            path = %self.store.path().display(),
            "replaying the persistent sending queue"
        );
        metrics()
            .exporter_queue_replayed_items
            .get_or_create(&self.labels())
            .inc_by(items as u64);
        for stored in existing {
            self.add(&stored);
            let _ = self.tx.send(stored);
        }
    }

    fn labels(&self) -> ExporterQueueLabels {
        ExporterQueueLabels {
            exporter: self.id.clone(),
        }
    }

    fn add(&self, s: &Stored) {
        self.requests.fetch_add(1, Ordering::AcqRel);
        self.items.fetch_add(s.items, Ordering::AcqRel);
        self.bytes.fetch_add(s.bytes, Ordering::AcqRel);
        self.publish();
    }

    /// What the queue holds, in the configured sizer's unit.
    fn used(&self, sizer: Sizer) -> usize {
        match sizer {
            Sizer::Requests => self.requests.load(Ordering::Acquire),
            Sizer::Items => self.items.load(Ordering::Acquire),
            Sizer::Bytes => self.bytes.load(Ordering::Acquire),
        }
    }

    fn publish(&self) {
        let sizer = self.limits.lock().unwrap_or_else(|e| e.into_inner()).sizer;
        let m = metrics();
        m.exporter_queue_size
            .get_or_create(&self.labels())
            .set(self.used(sizer) as i64);
        m.exporter_queue_stored_bytes
            .get_or_create(&self.labels())
            .set(self.bytes.load(Ordering::Acquire) as i64);
    }

    /// Room for a new request, or a refusal with the retry hint (or a wait,
    /// with `block_on_overflow`).
    pub async fn admit(&self) -> Result<(), Refusal> {
        loop {
            let freed = self.space.notified();
            let (capacity, sizer, block, retry_after) = {
                let l = self.limits.lock().unwrap_or_else(|e| e.into_inner());
                (l.capacity, l.sizer, l.block_on_overflow, l.retry_after)
            };
            let used = self.used(sizer);
            if used < capacity {
                return Ok(());
            }
            if !block {
                metrics()
                    .exporter_queue_refusals
                    .get_or_create(&self.labels())
                    .inc();
                return Err(Refusal::Exhausted {
                    retry_after,
                    reason: format!(
                        "the persistent sending queue of exporter {} is full ({used} of {capacity}); retry after {retry_after:?}",
                        self.id
                    ),
                });
            }
            freed.await;
        }
    }

    /// Stores a batch, then queues it for the senders.
    pub async fn push(&self, batch: &Batch) -> Result<(), StoreError> {
        let stored = self
            .store
            .put(Record {
                signal: batch.signal,
                items: batch.items,
                tenant: batch.tenant.clone(),
                metadata: batch.metadata.as_ref().clone(),
                payload: batch.payload.clone(),
            })
            .await?;
        self.add(&stored);
        let _ = self.tx.send(stored);
        Ok(())
    }

    /// The next stored batch for a sender of any generation; `None` once
    /// `closed` says the feeding pipelines are gone and nothing is queued.
    pub async fn next(&self, closed: &mut watch::Receiver<bool>) -> Option<Stored> {
        let mut rx = self.rx.lock().await;
        tokio::select! {
            stored = rx.recv() => stored,
            _ = closed.wait_for(|c| *c) => rx.try_recv().ok(),
        }
    }

    /// Resolves once a newer generation has attached.
    pub async fn superseded(&self, generation: u64) {
        let mut rx = self.generation.subscribe();
        let _ = rx.wait_for(|g| *g != generation).await;
    }

    /// Reads a stored batch back.
    pub async fn load(self: &Arc<Self>, stored: Stored) -> Result<Option<Batch>, StoreError> {
        let queue = self.clone();
        let record = tokio::task::spawn_blocking(move || queue.store.get(stored.key))
            .await
            .map_err(|e| StoreError::new(self.store.path(), e.to_string()))??;
        Ok(record.map(|r| Batch {
            signal: r.signal,
            items: r.items,
            tenant: r.tenant,
            metadata: Arc::new(r.metadata),
            payload: r.payload,
            permits: Vec::new(),
            acks: Vec::new(),
        }))
    }

    /// The batch was delivered (or refused for good): forget it. The
    /// returned future resolves once that is on disk; a sender awaits it
    /// before it takes another batch after the next, so what a crash can
    /// send again is bounded by the senders (see `consume_durable`).
    pub fn done(&self, stored: Stored) -> impl Future<Output = ()> + use<> {
        let deleted = self.store.delete(stored.key);
        self.requests.fetch_sub(1, Ordering::AcqRel);
        self.items.fetch_sub(stored.items, Ordering::AcqRel);
        self.bytes.fetch_sub(stored.bytes, Ordering::AcqRel);
        self.publish();
        self.space.notify_waiters();
        deleted
    }

    /// The batch goes back in line (its sender stopped or gave up for now).
    pub fn requeue(&self, stored: Stored) {
        let _ = self.tx.send(stored);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn batch(n: u8) -> Batch {
        Batch {
            signal: crate::Signal::Logs,
            payload: Bytes::from(vec![n; 10]),
            items: 2,
            tenant: Arc::from("default"),
            metadata: Arc::new(Vec::new()),
            permits: Vec::new(),
            acks: Vec::new(),
        }
    }

    fn spec(dir: &Path) -> StorageSpec {
        StorageSpec {
            directory: dir.join("queue"),
            create_directory: true,
            fsync: Fsync::Batch,
        }
    }

    #[tokio::test]
    async fn a_reload_shares_the_queue_and_a_restart_replays_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = QueueConfig {
            queue_size: 2,
            ..Default::default()
        };
        let first = DurableQueue::attach("otlp/a", &spec(dir.path()), &config).unwrap();
        first.queue.push(&batch(1)).await.unwrap();
        first.queue.push(&batch(2)).await.unwrap();
        assert!(matches!(
            first.queue.admit().await,
            Err(Refusal::Exhausted { .. })
        ));
        // A reload: same queue, a newer generation, the old one superseded.
        let second = DurableQueue::attach("otlp/a", &spec(dir.path()), &config).unwrap();
        assert!(Arc::ptr_eq(&first.queue, &second.queue));
        assert_eq!(second.generation, first.generation + 1);
        first.queue.superseded(first.generation).await;
        let mut closed = second.closed();
        let s = second.queue.next(&mut closed).await.unwrap();
        let b = second.queue.load(s).await.unwrap().unwrap();
        assert_eq!(b.payload, batch(1).payload);
        second.queue.done(s).await;
        second.queue.admit().await.unwrap();
        drop((first, second));
        // A restart: the undelivered batch comes back, the delivered one does not.
        let third = loop {
            match DurableQueue::attach("otlp/a", &spec(dir.path()), &config) {
                Ok(a) => break a,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let mut closed = third.closed();
        let s = third.queue.next(&mut closed).await.unwrap();
        let b = third.queue.load(s).await.unwrap().unwrap();
        assert_eq!(b.payload, batch(2).payload);
        third.closed.send_replace(true);
        assert_eq!(third.queue.next(&mut closed).await, None);
    }
}
