//! The batch processor: merges a pipeline's batches per tenant until
//! `send_batch_size` items or `timeout` (or, when a client waits for a
//! persistent queue to store its data, until nothing else is arriving),
//! then hands them on. Merging is
//! byte concatenation; splitting at `send_batch_max_size` is a wire scan.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::batch::Batch;
use super::memory::stage_gauge;
use super::tail::Tail;
use crate::config::BatchConfig;
use crate::telemetry::{ComponentLabels, metrics};

/// Batches waiting for one tenant.
struct Pending {
    batches: Vec<Batch>,
    items: usize,
    deadline: Instant,
}

/// Runs the batcher of one pipeline until its input closes, then flushes
/// what it holds and waits for the batches it handed on.
pub async fn run(
    config: BatchConfig,
    pipeline: Arc<str>,
    mut input: mpsc::Receiver<Batch>,
    tail: Arc<Tail>,
) {
    let labels = ComponentLabels {
        pipeline: pipeline.to_string(),
        component: "batch".into(),
    };
    let mut pending: HashMap<Arc<str>, Pending> = HashMap::new();
    let mut in_flight = JoinSet::new();
    loop {
        let next_deadline = pending.values().map(|p| p.deadline).min();
        tokio::select! {
            received = input.recv() => match received {
                Some(batch) => {
                    let tenant = batch.tenant.clone();
                    let waiting = !batch.acks.is_empty();
                    let entry = pending.entry(tenant.clone()).or_insert_with(|| Pending {
                        batches: Vec::new(),
                        items: 0,
                        deadline: Instant::now() + config.timeout,
                    });
                    entry.items += batch.items;
                    stage_gauge("batch").inc_by(batch.payload.len() as i64);
                    entry.batches.push(batch);
                    let full = config.send_batch_size > 0 && entry.items >= config.send_batch_size;
                    // A client waits until this data is stored by a persistent
                    // queue: when nothing else is arriving, send now rather
                    // than at the timeout (under load, batches still fill).
                    let idle = waiting && input.is_empty();
                    if (full || idle) && let Some(ready) = pending.remove(&tenant) {
                        send(ready, &config, &tail, &labels, &mut in_flight);
                    }
                }
                None => break,
            },
            _ = sleep_until(next_deadline), if next_deadline.is_some() => {
                let now = Instant::now();
                let due: Vec<Arc<str>> =
                    pending.iter().filter(|(_, p)| p.deadline <= now).map(|(t, _)| t.clone()).collect();
                for tenant in due {
                    if let Some(p) = pending.remove(&tenant) {
                        send(p, &config, &tail, &labels, &mut in_flight);
                    }
                }
            }
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    }
    for (_, p) in pending.drain() {
        send(p, &config, &tail, &labels, &mut in_flight);
    }
    while in_flight.join_next().await.is_some() {}
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Merges a tenant's pending batches, splits at the max size, and hands
/// each part to the rest of the pipeline on its own task.
fn send(
    pending: Pending,
    config: &BatchConfig,
    tail: &Arc<Tail>,
    labels: &ComponentLabels,
    tasks: &mut JoinSet<()>,
) {
    let held: usize = pending.batches.iter().map(|b| b.payload.len()).sum();
    stage_gauge("batch").dec_by(held as i64);
    // The merged batch holds every part's permits: they move with the bytes.
    let Some(merged) = Batch::merge(pending.batches) else {
        return;
    };
    for part in split(merged, config.send_batch_max_size) {
        metrics().batches_sent.get_or_create(labels).inc();
        let tail = tail.clone();
        tasks.spawn(async move { tail.deliver(part).await });
    }
}

fn split(batch: Batch, max: usize) -> Vec<Batch> {
    if max == 0 || batch.items <= max {
        return vec![batch];
    }
    match weir_wire::split(batch.signal, &batch.payload, max) {
        Ok(parts) => parts
            .into_iter()
            .map(|p| {
                let items = weir_wire::count_items(batch.signal, &p).unwrap_or(0);
                batch.with_payload(Bytes::from(p), items)
            })
            .collect(),
        Err(e) => {
            // The receiver validated every request, so this is a bug; keep the data.
            tracing::error!("cannot split a batch ({e}); sending it whole");
            vec![batch]
        }
    }
}
