//! Stateful processors (tail samplers) in a pipeline: one instance per
//! tenant, made when the tenant's first batch arrives, never pooled; a
//! timer that calls `tick` so held data is released when due; and `flush`
//! when the pipeline goes (shutdown, reload), whose output still travels
//! the rest of the old pipeline to its exporters.
//!
//! An instance that traps (or runs past its deadline or memory cap) loses
//! what it held: that is counted in `weir_plugin_state_lost_total` and
//! logged, and the tenant's next batch starts a fresh instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::chain::Chain;
use super::pipeline::Pipeline;
use super::tail::Tail;
use crate::Signal;
use crate::plugin::{CallContext, CallError, Outputs, ProcessorPool, StatefulInstance};
use crate::telemetry::{ComponentLabels, metrics};

/// One tenant's instance; `None` until first used or after it was lost.
type Slot = Arc<Mutex<Option<StatefulInstance>>>;

/// A stateful processor of one pipeline: its instances by tenant.
pub struct StatefulStage {
    id: String,
    pipeline: Arc<str>,
    pool: ProcessorPool,
    tenants: Mutex<HashMap<Arc<str>, Slot>>,
}

impl StatefulStage {
    pub fn new(id: &str, pipeline: Arc<str>, pool: ProcessorPool) -> Self {
        StatefulStage {
            id: id.to_string(),
            pipeline,
            pool,
            tenants: Mutex::default(),
        }
    }

    /// How often this stage wants `tick`.
    pub fn tick_interval(&self) -> Duration {
        self.pool.limits().tick_interval
    }

    fn slot(&self, tenant: &Arc<str>) -> Slot {
        self.tenants
            .lock()
            .expect("tenants lock")
            .entry(tenant.clone())
            .or_default()
            .clone()
    }

    fn slots(&self) -> Vec<(Arc<str>, Slot)> {
        let tenants = self.tenants.lock().expect("tenants lock");
        tenants
            .iter()
            .map(|(t, s)| (t.clone(), s.clone()))
            .collect()
    }

    /// `process` on the tenant's instance (started if it has none).
    pub async fn process(
        self: &Arc<Self>,
        ctx: CallContext,
        signal: Signal,
        payload: Vec<u8>,
    ) -> Result<Outputs, CallError> {
        let tenant: Arc<str> = Arc::from(ctx.tenant.as_str());
        let slot = self.slot(&tenant);
        let stage = self.clone();
        tokio::task::spawn_blocking(move || {
            stage.call(&tenant, &slot, true, |i| i.process(&ctx, signal, payload))
        })
        .await
        .unwrap_or_else(|e| Err(CallError::Trap(format!("host task failed: {e}"))))
    }

    /// `tick` on every tenant's instance: what each released.
    pub async fn tick(self: &Arc<Self>, now_unix_nanos: u64) -> Vec<(Arc<str>, Outputs)> {
        self.each(move |i| i.tick(now_unix_nanos)).await
    }

    /// `flush` on every tenant's instance: everything they held.
    pub async fn flush(self: &Arc<Self>) -> Vec<(Arc<str>, Outputs)> {
        self.each(StatefulInstance::flush).await
    }

    async fn each(
        self: &Arc<Self>,
        call: impl Fn(&mut StatefulInstance) -> Result<Outputs, CallError> + Send + 'static,
    ) -> Vec<(Arc<str>, Outputs)> {
        let stage = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut released = Vec::new();
            for (tenant, slot) in stage.slots() {
                // A tenant without a live instance holds nothing: skip it.
                if let Ok(outputs) = stage.call(&tenant, &slot, false, &call)
                    && !outputs.is_empty()
                {
                    released.push((tenant, outputs));
                }
            }
            released
        })
        .await
        .unwrap_or_default()
    }

    /// Runs `call` on the slot's instance (starting one when `start` says
    /// so); a failure that ends the instance empties the slot and is counted.
    fn call(
        &self,
        tenant: &str,
        slot: &Slot,
        start: bool,
        call: impl FnOnce(&mut StatefulInstance) -> Result<Outputs, CallError>,
    ) -> Result<Outputs, CallError> {
        call_slot(
            slot,
            start.then_some(|| self.pool.stateful_instance()),
            ComponentLabels {
                pipeline: self.pipeline.to_string(),
                component: self.id.clone(),
            },
            call,
            |e| {
                tracing::error!(
                    pipeline = &*self.pipeline,
                    processor = self.id,
                    tenant,
                    "stateful processor failed and lost what it held; a fresh instance takes over: {e}"
                )
            },
        )
    }
}

/// Runs `call` on the instance in `slot`, first starting one with `start`
/// when the slot is empty (with no `start`, an empty slot holds nothing and
/// gives nothing). A failure that ends the instance empties the slot, counts
/// the lost state under `labels` and is reported with `lost`. Stateful
/// processors and connectors keep their per-tenant instances this way.
pub(super) fn call_slot<I, R: Default>(
    slot: &Mutex<Option<I>>,
    start: Option<impl FnOnce() -> Result<I, CallError>>,
    labels: ComponentLabels,
    call: impl FnOnce(&mut I) -> Result<R, CallError>,
    lost: impl FnOnce(&CallError),
) -> Result<R, CallError> {
    let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        let Some(start) = start else {
            return Ok(R::default());
        };
        *guard = Some(start()?);
    }
    let instance = guard.as_mut().expect("filled above");
    let result = call(instance);
    if let Err(e) = &result
        && !e.instance_survives()
    {
        *guard = None;
        // The log line first: whoever sees the count finds the reason logged.
        lost(e);
        metrics().plugin_state_lost.get_or_create(&labels).inc();
    }
    result
}

/// The timer of a pipeline's stateful stages, and what flushes them.
pub struct StatefulRun {
    stop: watch::Sender<bool>,
    ticker: JoinHandle<()>,
    flush: StatefulFlush,
}

impl StatefulRun {
    /// Starts ticking `pipeline`'s stateful stages every `interval`. The
    /// ticker holds the pipeline weakly so that it never keeps a replaced
    /// pipeline (and its batcher) alive.
    pub fn start(pipeline: &Arc<Pipeline>, interval: Duration) -> StatefulRun {
        let (stop, stopped) = watch::channel(false);
        let ticker = tokio::spawn(tick_loop(Arc::downgrade(pipeline), interval, stopped));
        StatefulRun {
            stop,
            ticker,
            flush: StatefulFlush {
                head: pipeline.head.clone(),
                tail: pipeline.tail.clone(),
            },
        }
    }

    /// Stops the timer (a tick under way finishes first).
    pub async fn stop_ticking(&mut self) {
        let _ = self.stop.send(true);
        let _ = (&mut self.ticker).await;
    }

    /// Flushes every stateful stage, in pipeline order, and sends what they
    /// release down the rest of the pipeline. Run after the batcher ended.
    pub async fn flush(self) {
        self.flush.run().await;
    }
}

async fn tick_loop(pipeline: Weak<Pipeline>, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    loop {
        tokio::select! {
            _ = timer.tick() => {}
            _ = stop.changed() => return,
        }
        let Some(pipeline) = pipeline.upgrade() else {
            return;
        };
        pipeline.tick_stateful(now_unix_nanos()).await;
    }
}

/// What a final flush needs: the chains, not the pipeline (whose batcher
/// has closed by then, so the head's output goes straight to the tail).
struct StatefulFlush {
    head: Chain,
    tail: Arc<Tail>,
}

impl StatefulFlush {
    async fn run(self) {
        for (index, stage) in self.head.stateful_stages() {
            for (tenant, outputs) in stage.flush().await {
                for batch in self.head.release(index, &tenant, outputs).await {
                    self.tail.deliver(batch).await;
                }
            }
        }
        for (index, stage) in self.tail.chain.stateful_stages() {
            for (tenant, outputs) in stage.flush().await {
                self.tail.release(index, &tenant, outputs).await;
            }
        }
    }
}

/// Wall-clock time in ns, as plugins see it through the host interface.
pub fn now_unix_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
