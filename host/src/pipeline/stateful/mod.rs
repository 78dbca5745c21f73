//! Stateful processors (tail samplers) in a pipeline: one instance per
//! tenant, made when the tenant's first batch arrives, never pooled; a
//! timer that calls `tick` so held data is released when due; and `flush`
//! when the pipeline goes (shutdown, reload), whose output still travels
//! the rest of the old pipeline to its exporters.
//!
//! An instance that traps (or runs past its deadline or memory cap) loses
//! what it held: that is counted in `weir_plugin_state_lost_total` and
//! logged, and the tenant's next batch starts a fresh instance.

mod instances;
mod ticker;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

pub(super) use instances::{Slot, Tenants, call_slot};
pub(super) use ticker::Ticker;

use super::chain::Chain;
use super::pipeline::Pipeline;
use super::tail::Tail;
use crate::Signal;
use crate::plugin::{
    CallContext, CallError, Outputs, ProcessorPool, StatefulInstance, run_blocking,
};
use crate::telemetry::ComponentLabels;

/// A stateful processor of one pipeline: its instances by tenant.
pub struct StatefulStage {
    id: String,
    pipeline: Arc<str>,
    pool: ProcessorPool,
    tenants: Tenants<StatefulInstance>,
}

impl StatefulStage {
    pub fn new(id: &str, pipeline: Arc<str>, pool: ProcessorPool) -> Self {
        StatefulStage {
            id: id.to_string(),
            pipeline,
            pool,
            tenants: Tenants::default(),
        }
    }

    /// How often this stage wants `tick`.
    pub fn tick_interval(&self) -> Duration {
        self.pool.limits().tick_interval
    }

    /// `process` on the tenant's instance (started if it has none).
    pub async fn process(
        self: &Arc<Self>,
        ctx: CallContext,
        signal: Signal,
        payload: Vec<u8>,
    ) -> Result<Outputs, CallError> {
        let tenant: Arc<str> = Arc::from(ctx.tenant.as_str());
        let slot = self.tenants.slot(&tenant);
        let stage = self.clone();
        run_blocking(move || stage.call(&tenant, &slot, true, |i| i.process(&ctx, signal, payload)))
            .await
            .unwrap_or_else(|e| Err(CallError::Trap(e)))
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
        run_blocking(move || {
            // A tenant without a live instance holds nothing: skipped.
            stage
                .tenants
                .each(|tenant, slot| stage.call(tenant, slot, false, &call))
        })
        .await
        .unwrap_or_default()
    }

    /// Runs `call` on the slot's instance (starting one when `start` says
    /// so); a failure that ends the instance empties the slot and is counted.
    fn call(
        &self,
        tenant: &str,
        slot: &Slot<StatefulInstance>,
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

/// The timer of a pipeline's stateful stages, and what flushes them.
pub struct StatefulRun {
    ticker: Option<Ticker>,
    flush: StatefulFlush,
}

impl StatefulRun {
    /// Starts ticking `pipeline`'s stateful stages every `interval`. The
    /// ticker holds the pipeline weakly so that it never keeps a replaced
    /// pipeline (and its batcher) alive.
    pub fn start(pipeline: &Arc<Pipeline>, interval: Duration) -> StatefulRun {
        let weak = Arc::downgrade(pipeline);
        let ticker = Ticker::start(interval, move |now| {
            let pipeline = weak.upgrade();
            async move {
                let Some(pipeline) = pipeline else {
                    return ControlFlow::Break(());
                };
                pipeline.tick_stateful(now).await;
                ControlFlow::Continue(())
            }
        });
        StatefulRun {
            ticker: Some(ticker),
            flush: StatefulFlush {
                head: pipeline.head.clone(),
                tail: pipeline.tail.clone(),
            },
        }
    }

    /// Stops the timer (a tick under way finishes first).
    pub async fn stop_ticking(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.stop().await;
        }
    }

    /// Flushes every stateful stage, in pipeline order, and sends what they
    /// release down the rest of the pipeline. Run after the batcher ended.
    pub async fn flush(self) {
        self.flush.run().await;
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

#[cfg(test)]
mod tests;
