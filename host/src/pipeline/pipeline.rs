//! One running pipeline: memory gate → processors before the batcher →
//! batcher → (tail) processors after it → exporters.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::ack::Ack;
use super::batch::Batch;
use super::chain::Chain;
use super::ingest::{Accepted, IngestRequest, Refusal};
use super::memory::MemoryGate;
use super::tail::Tail;

/// The entry of a pipeline, as the router calls it.
pub struct Pipeline {
    pub id: Arc<str>,
    /// `memory_limiter`, if the pipeline lists one.
    pub gate: Option<Arc<MemoryGate>>,
    /// Processors listed before `batch` (run per request).
    pub head: Chain,
    /// The batcher's input, if the pipeline lists `batch`.
    pub batcher: Option<mpsc::Sender<Batch>>,
    /// Processors after `batch` and the exporters.
    pub tail: Arc<Tail>,
}

impl Pipeline {
    /// Admits a request: its bytes are held against the memory gate until
    /// the last batch carrying them is exported.
    pub async fn accept(&self, request: IngestRequest) -> Result<Accepted, Refusal> {
        // A full sending queue refuses (or, with block_on_overflow, waits)
        // before anything is taken: only what has a place is acknowledged.
        self.tail.admit().await?;
        // Memory next: refuse before doing any work on what we cannot hold.
        let mut permits = request.permits;
        if let Some(gate) = &self.gate {
            permits.push(Arc::new(gate.try_acquire(request.payload.len())?));
        }
        // With a persistent queue, the client is answered once its batches
        // are stored there (after the batcher's flush), not before.
        let (acks, stored) = if self.tail.is_durable() {
            let (ack, wait) = Ack::new();
            (vec![ack], Some(wait))
        } else {
            (Vec::new(), None)
        };
        let batch = Batch {
            signal: request.signal,
            payload: request.payload,
            items: request.items,
            tenant: request.tenant,
            metadata: Arc::new(request.metadata),
            permits,
            acks,
        };
        // Processors before `batch` run on the request itself, so a
        // `propagate` failure can still be refused to the client.
        let batches = self.head.run(batch).await.map_err(|p| {
            Refusal::Invalid(format!(
                "processor {} refused the data: {}",
                p.component, p.reason
            ))
        })?;
        match &self.batcher {
            Some(batcher) => {
                for batch in batches {
                    batcher.send(batch).await.map_err(|_| {
                        Refusal::Unavailable(format!("pipeline {} is shutting down", self.id))
                    })?;
                }
            }
            None => {
                for batch in batches {
                    self.tail.deliver(batch).await;
                }
            }
        }
        if let Some(stored) = stored {
            stored.wait().await.map_err(|reason| {
                Refusal::Unavailable(format!(
                    "pipeline {}: the persistent queue could not store the data: {reason}",
                    self.id
                ))
            })?;
        }
        Ok(Accepted::default())
    }

    /// Ticks the stateful stages and sends what they release on: from the
    /// head to the batcher (or the tail), from the tail to the exporters.
    pub async fn tick_stateful(&self, now_unix_nanos: u64) {
        for (index, stage) in self.head.stateful_stages() {
            for (tenant, outputs) in stage.tick(now_unix_nanos).await {
                let mut batches = self.head.release(index, &tenant, outputs).await;
                self.charge_released(&mut batches);
                for batch in batches {
                    self.forward(batch).await;
                }
            }
        }
        for (index, stage) in self.tail.chain.stateful_stages() {
            for (tenant, outputs) in stage.tick(now_unix_nanos).await {
                let mut batches = self.tail.chain.release(index, &tenant, outputs).await;
                self.charge_released(&mut batches);
                self.tail.export(batches).await;
            }
        }
    }

    /// What a stateful stage released is in host memory until exported:
    /// charged to the pipeline's gate (never refused, like a processor's
    /// growth), so admission sees it. Shown as `plugin_output`.
    fn charge_released(&self, batches: &mut [Batch]) {
        let Some(gate) = &self.gate else { return };
        let bytes: usize = batches.iter().map(|b| b.payload.len()).sum();
        if bytes == 0 {
            return;
        }
        let permit = Arc::new(gate.charge(bytes, Some("plugin_output")));
        for batch in batches {
            batch.permits.push(permit.clone());
        }
    }

    /// Takes a batch a connector emitted. There is no client to refuse, so
    /// it passes no memory gate or queue check (like what a stateful stage
    /// releases); a `propagate` failure in the head drops it, logged.
    /// Boxed: a pipeline's tail feeds connectors, which inject here.
    pub fn inject(&self, batch: Batch) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            match self.head.run(batch).await {
                Ok(batches) => {
                    for batch in batches {
                        self.forward(batch).await;
                    }
                }
                Err(p) => tracing::error!(
                    pipeline = &*self.id,
                    processor = p.component,
                    "dropping data a connector emitted (error_mode: propagate): {}",
                    p.reason
                ),
            }
        })
    }

    /// Hands a batch that passed the head on: to the batcher, or straight
    /// to the tail when there is none (or it has closed).
    async fn forward(&self, batch: Batch) {
        match &self.batcher {
            Some(batcher) => {
                if let Err(closed) = batcher.send(batch).await {
                    self.tail.deliver(closed.0).await;
                }
            }
            None => self.tail.deliver(batch).await,
        }
    }
}
