//! The persistent sending queue's store: write throughput for each `fsync`
//! policy (64 batches of 100 log records, ~64 KiB each, put concurrently,
//! as many pipelines would), and replay throughput (open a file holding
//! 2,000 batches and read every one back, as a restart does).
//!
//! Run: `cargo bench -p weir --bench queue`.

use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir::Signal;
use weir::pipeline::{Fsync, QueueStore, Record};

const BATCHES: usize = 64;
const ITEMS: usize = 100;
const BATCH_BYTES: usize = 64 * 1024;
const REPLAY_BATCHES: usize = 2000;

fn record() -> Record {
    Record {
        signal: Signal::Logs,
        items: ITEMS,
        tenant: Arc::from("default"),
        metadata: Vec::new(),
        payload: Bytes::from(vec![0x5a; BATCH_BYTES]),
    }
}

fn writes(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("queue_put");
    group.sample_size(10);
    group.throughput(Throughput::Bytes((BATCHES * BATCH_BYTES) as u64));
    for (name, fsync) in [
        ("always", Fsync::Always),
        ("batch", Fsync::Batch),
        ("never", Fsync::Never),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = QueueStore::open(&dir.path().join("q.redb"), fsync).unwrap();
        let store = Arc::new(store);
        group.bench_function(format!("{name}_{BATCHES}x{}KiB", BATCH_BYTES / 1024), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let puts: Vec<_> = (0..BATCHES)
                        .map(|_| {
                            let store = store.clone();
                            tokio::spawn(async move { store.put(record()).await.unwrap() })
                        })
                        .collect();
                    for p in puts {
                        let stored = p.await.unwrap();
                        // Queued now, committed with the next puts.
                        drop(store.delete(stored.key));
                    }
                })
            })
        });
    }
    group.finish();
}

fn replay(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.redb");
    {
        let (store, _) = QueueStore::open(&path, Fsync::Batch).unwrap();
        let store = Arc::new(store);
        rt.block_on(async {
            let puts: Vec<_> = (0..REPLAY_BATCHES)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.put(record()).await.unwrap() })
                })
                .collect();
            for p in puts {
                p.await.unwrap();
            }
        });
    }
    let mut group = c.benchmark_group("queue_replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements((REPLAY_BATCHES * ITEMS) as u64));
    group.bench_function(format!("open_and_read_{REPLAY_BATCHES}_batches"), |b| {
        b.iter(|| {
            // The previous iteration's writer lets go of the file as it stops.
            let (store, existing) = loop {
                match QueueStore::open(&path, Fsync::Batch) {
                    Ok(opened) => break opened,
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
                }
            };
            assert_eq!(existing.len(), REPLAY_BATCHES);
            for s in existing {
                let r = store.get(s.key).unwrap().unwrap();
                assert_eq!(r.payload.len(), BATCH_BYTES);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, writes, replay);
criterion_main!(benches);
