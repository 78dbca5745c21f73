//! The disk side of a persistent sending queue: one redb database per
//! exporter, holding each queued batch under a growing key until the
//! exporter has delivered it.
//!
//! redb rather than a log of our own: it is a single crate with no
//! dependencies, crash-safe (copy-on-write B-trees, checksummed commits,
//! repair on open), and its commits are either durable (`fsync`) or not,
//! which is exactly the knob `fsync` needs. One writer thread owns every
//! write so that puts arriving together share one commit (group commit).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::oneshot;

use crate::Signal;
pub use crate::config::Fsync;

/// key → (signal, items, tenant, metadata as JSON pairs, payload).
const BATCHES: TableDefinition<u64, (u8, u64, &str, &str, &[u8])> = TableDefinition::new("batches");

/// redb's page cache: the queue reads each batch once, so a small cache
/// keeps the store's memory small and predictable.
const CACHE_BYTES: usize = 4 * 1024 * 1024;
/// Most puts one group commit takes.
const GROUP: usize = 256;
/// Most operations taken from the channel before a commit.
const DRAIN: usize = 4096;
/// With `fsync: never`, a durable commit at least this often.
const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Why the store failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("persistent queue {path}: {reason}")]
pub struct StoreError {
    path: String,
    reason: String,
}

impl StoreError {
    pub fn new(path: &Path, reason: String) -> Self {
        StoreError {
            path: path.display().to_string(),
            reason,
        }
    }
}

/// A batch as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub signal: Signal,
    pub items: usize,
    pub tenant: Arc<str>,
    pub metadata: Vec<(String, String)>,
    pub payload: Bytes,
}

/// What the queue keeps in memory about a stored batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub key: u64,
    pub items: usize,
    pub bytes: usize,
}

enum Op {
    Put(Record, oneshot::Sender<Result<Stored, StoreError>>),
    /// A delivered batch's key; answered once the deletion is committed.
    Delete(u64, oneshot::Sender<()>),
}

/// An open queue database and its writer thread.
pub struct QueueStore {
    db: Arc<Database>,
    path: PathBuf,
    ops: std_mpsc::Sender<Op>,
    fsync: Arc<AtomicU8>,
}

impl QueueStore {
    /// Opens (or creates) the database at `path` and starts its writer; also
    /// returns what is already in it, oldest first.
    pub fn open(path: &Path, fsync: Fsync) -> Result<(QueueStore, Vec<Stored>), StoreError> {
        let fail = |reason: String| StoreError {
            path: path.display().to_string(),
            reason,
        };
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| fail(e.to_string()))?;
        let db = Arc::new(db);
        let existing = scan(&db).map_err(|e| fail(e.to_string()))?;
        let next_key = existing.last().map_or(0, |s| s.key + 1);
        let (ops, rx) = std_mpsc::channel();
        let policy = Arc::new(AtomicU8::new(fsync as u8));
        let writer = Writer {
            db: db.clone(),
            path: path.display().to_string(),
            fsync: policy.clone(),
            next_key,
        };
        std::thread::Builder::new()
            .name("weir-queue-store".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| fail(format!("cannot start the writer thread: {e}")))?;
        Ok((
            QueueStore {
                db,
                path: path.to_path_buf(),
                ops,
                fsync: policy,
            },
            existing,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes the policy for the puts that follow (a reload that keeps the queue).
    pub fn set_fsync(&self, fsync: Fsync) {
        self.fsync.store(fsync as u8, Ordering::Relaxed);
    }

    /// Stores a batch; returns once it is committed as `fsync` says.
    pub async fn put(&self, record: Record) -> Result<Stored, StoreError> {
        let (tx, rx) = oneshot::channel();
        let gone = || self.error("the writer thread stopped".into());
        self.ops.send(Op::Put(record, tx)).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Forgets a delivered batch. The deletion is queued at once; the
    /// future resolves once it is committed (to disk, unless `fsync: never`).
    pub fn delete(&self, key: u64) -> impl Future<Output = ()> + use<> {
        let (tx, rx) = oneshot::channel();
        let _ = self.ops.send(Op::Delete(key, tx));
        async move {
            let _ = rx.await;
        }
    }

    /// Reads a stored batch back (blocking: call off the reactor).
    pub fn get(&self, key: u64) -> Result<Option<Record>, StoreError> {
        let read = || -> Result<Option<Record>, redb::Error> {
            let txn = self.db.begin_read()?;
            let table = match txn.open_table(BATCHES) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let Some(value) = table.get(key)? else {
                return Ok(None);
            };
            let (signal, items, tenant, metadata, payload) = value.value();
            Ok(Some(Record {
                signal: signal_of(signal),
                items: items as usize,
                tenant: Arc::from(tenant),
                metadata: serde_json::from_str(metadata).unwrap_or_default(),
                payload: Bytes::copy_from_slice(payload),
            }))
        };
        read().map_err(|e| self.error(e.to_string()))
    }

    fn error(&self, reason: String) -> StoreError {
        StoreError {
            path: self.path.display().to_string(),
            reason,
        }
    }
}

fn scan(db: &Database) -> Result<Vec<Stored>, redb::Error> {
    let txn = db.begin_read()?;
    let table = match txn.open_table(BATCHES) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (key, value) = entry?;
        let (_, items, _, _, payload) = value.value();
        out.push(Stored {
            key: key.value(),
            items: items as usize,
            bytes: payload.len(),
        });
    }
    Ok(out)
}

fn signal_code(signal: Signal) -> u8 {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

fn signal_of(code: u8) -> Signal {
    match code {
        0 => Signal::Traces,
        1 => Signal::Metrics,
        _ => Signal::Logs,
    }
}

struct Writer {
    db: Arc<Database>,
    path: String,
    fsync: Arc<AtomicU8>,
    next_key: u64,
}

impl Writer {
    fn fsync(&self) -> Fsync {
        match self.fsync.load(Ordering::Relaxed) {
            x if x == Fsync::Always as u8 => Fsync::Always,
            x if x == Fsync::Never as u8 => Fsync::Never,
            _ => Fsync::Batch,
        }
    }

    fn run(mut self, rx: std_mpsc::Receiver<Op>) {
        // Commits not yet forced to disk (`fsync: never`).
        let mut unsynced = false;
        let mut last_sync = Instant::now();
        // Puts taken from the channel, not yet committed (`always` commits
        // them one at a time).
        let mut waiting = VecDeque::new();
        let mut deletes = Vec::new();
        let take = |op: Op, waiting: &mut VecDeque<_>, deletes: &mut Vec<_>| match op {
            Op::Put(r, tx) => waiting.push_back((r, tx)),
            Op::Delete(k, tx) => deletes.push((k, tx)),
        };
        loop {
            if waiting.is_empty() {
                match rx.recv_timeout(SYNC_INTERVAL) {
                    Ok(op) => take(op, &mut waiting, &mut deletes),
                    Err(std_mpsc::RecvTimeoutError::Timeout) => {
                        if unsynced {
                            unsynced = !self.commit(Vec::new(), Vec::new(), true);
                            last_sync = Instant::now();
                        }
                        continue;
                    }
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            // Whatever else is waiting: every deletion rides with this
            // commit, even behind puts that must wait for the next one.
            for _ in 0..DRAIN {
                match rx.try_recv() {
                    Ok(op) => take(op, &mut waiting, &mut deletes),
                    Err(_) => break,
                }
            }
            // `always`: one put per commit; otherwise a group.
            let fsync = self.fsync();
            let room = if fsync == Fsync::Always { 1 } else { GROUP };
            let puts: Vec<_> = waiting.drain(..room.min(waiting.len())).collect();
            let (keys, deleted): (Vec<u64>, Vec<_>) =
                std::mem::take(&mut deletes).into_iter().unzip();
            // With `always` and `batch` every commit is durable: a put
            // before its client is answered, and a deletion so that a crash
            // right after a delivery does not send the batch again.
            let durable =
                fsync != Fsync::Never || (unsynced && last_sync.elapsed() >= SYNC_INTERVAL);
            let ok = self.commit(puts, keys, durable);
            // Senders waiting for their deletion go on (after a failed
            // commit too: the batch is then sent again after a restart).
            drop(deleted);
            if durable {
                last_sync = Instant::now();
                unsynced = !ok;
            } else {
                unsynced = true;
            }
        }
        if unsynced {
            self.commit(Vec::new(), Vec::new(), true);
        }
    }

    /// One transaction: the puts and deletions, durable or not. Answers
    /// every put; false when the commit failed.
    fn commit(
        &mut self,
        puts: Vec<(Record, oneshot::Sender<Result<Stored, StoreError>>)>,
        deletes: Vec<u64>,
        durable: bool,
    ) -> bool {
        let first_key = self.next_key;
        let result = (|| -> Result<Vec<Stored>, redb::Error> {
            let mut txn = self.db.begin_write()?;
            txn.set_durability(if durable {
                Durability::Immediate
            } else {
                Durability::None
            })?;
            let mut stored = Vec::with_capacity(puts.len());
            {
                let mut table = txn.open_table(BATCHES)?;
                for (i, (r, _)) in puts.iter().enumerate() {
                    let key = first_key + i as u64;
                    let metadata = serde_json::to_string(&r.metadata).unwrap_or_default();
                    let value = (
                        signal_code(r.signal),
                        r.items as u64,
                        &*r.tenant,
                        metadata.as_str(),
                        &r.payload[..],
                    );
                    table.insert(key, value)?;
                    stored.push(Stored {
                        key,
                        items: r.items,
                        bytes: r.payload.len(),
                    });
                }
                for key in &deletes {
                    table.remove(*key)?;
                }
            }
            txn.commit()?;
            Ok(stored)
        })();
        match result {
            Ok(stored) => {
                self.next_key += stored.len() as u64;
                for ((_, tx), s) in puts.into_iter().zip(stored) {
                    let _ = tx.send(Ok(s));
                }
                true
            }
            Err(e) => {
                tracing::error!(path = self.path, "persistent queue write failed: {e}");
                let error = StoreError {
                    path: self.path.clone(),
                    reason: e.to_string(),
                };
                for (_, tx) in puts {
                    let _ = tx.send(Err(error.clone()));
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u8) -> Record {
        Record {
            signal: Signal::Logs,
            items: n as usize,
            tenant: Arc::from("acme"),
            metadata: vec![("k".into(), "v".into())],
            payload: Bytes::from(vec![n; 100 + n as usize]),
        }
    }

    #[tokio::test]
    async fn stores_reads_back_and_survives_reopening_for_each_policy() {
        for fsync in [Fsync::Always, Fsync::Batch, Fsync::Never] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("q.redb");
            let (store, existing) = QueueStore::open(&path, fsync).unwrap();
            assert!(existing.is_empty());
            let a = store.put(record(1)).await.unwrap();
            let b = store.put(record(2)).await.unwrap();
            let c = store.put(record(3)).await.unwrap();
            assert_eq!((a.key, b.key, c.key), (0, 1, 2));
            assert_eq!(store.get(b.key).unwrap().unwrap(), record(2));
            store.delete(b.key).await;
            drop(store);
            // The writer commits what it holds as it stops; wait for the lock.
            let reopened = loop {
                match QueueStore::open(&path, fsync) {
                    Ok(s) => break s,
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            };
            let (store, existing) = reopened;
            let keys: Vec<u64> = existing.iter().map(|s| s.key).collect();
            assert_eq!(keys, [0, 2], "{fsync:?}");
            assert_eq!(existing[1].bytes, 103);
            // Keys keep growing after the last one found.
            assert_eq!(store.put(record(4)).await.unwrap().key, 3);
        }
    }

    #[test]
    fn fsync_reads_words_and_go_booleans() {
        let f = |v| serde_json::from_value::<Fsync>(v);
        assert_eq!(f(serde_json::json!("batch")).unwrap(), Fsync::Batch);
        assert_eq!(f(serde_json::json!(true)).unwrap(), Fsync::Always);
        assert_eq!(f(serde_json::json!(false)).unwrap(), Fsync::Never);
        assert!(
            f(serde_json::json!("sometimes"))
                .unwrap_err()
                .to_string()
                .contains("expected always, batch or never")
        );
    }
}
