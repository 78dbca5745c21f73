//! Connectors in pipelines: the exporter of some pipelines and the
//! receiver of others. One instance per tenant (made with the tenant's
//! first batch, never pooled), fed by the tails of the pipelines that list
//! the connector under `exporters`; what it emits — at once, on its timer
//! (`tick-interval-ms`) or on the final flush — enters the pipelines that
//! list it under `receivers` (all of the emitted signal, or the one it
//! names) with the same tenant, and travels them like any batch.
//!
//! On shutdown and reload the topology drains pipelines upstream first:
//! once every pipeline feeding a connector has drained, the connector is
//! flushed into its receiving pipelines and lets go of them, so they drain
//! in turn (`Tasks::drain`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::batch::Batch;
use super::pipeline::Pipeline;
use super::stateful::{Slot, Tenants, Ticker, call_slot};
use crate::Signal;
use crate::plugin::{
    CallContext, CallError, ConnectorFactory, ConnectorInstance, Emissions, run_blocking,
};
use crate::telemetry::{ComponentLabels, metrics};
use bytes::Bytes;

/// A pipeline a connector emits into.
pub struct Receiving {
    /// Its id, as an emitted batch may name it (`metrics/red`).
    pub id: String,
    pub signal: Signal,
    pub pipeline: Arc<Pipeline>,
}

/// A connector of one scope: its instances by tenant and its receiving pipelines.
pub struct ConnectorStage {
    id: String,
    factory: ConnectorFactory,
    environment: Arc<str>,
    tenants: Tenants<ConnectorInstance>,
    /// Set once the receiving pipelines are built; emptied after the final
    /// flush so that they can drain.
    receiving: RwLock<Vec<Receiving>>,
}

impl ConnectorStage {
    pub fn new(id: &str, factory: ConnectorFactory, environment: Arc<str>) -> Self {
        ConnectorStage {
            id: id.to_string(),
            factory,
            environment,
            tenants: Tenants::default(),
            receiving: RwLock::default(),
        }
    }

    /// The connector's name in metrics and logs.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether it consumes `signal` (checked at load; a guard here).
    fn consumes(&self, signal: Signal) -> bool {
        super::topology::signals_contain(self.factory.info().consumes, signal)
    }

    /// How often it wants `tick`, if at all.
    pub fn tick_interval(&self) -> Option<Duration> {
        let ms = self.factory.info().tick_interval_ms;
        (ms > 0).then(|| Duration::from_millis(ms))
    }

    /// Connects the pipelines it emits into.
    pub fn connect(&self, receiving: Vec<Receiving>) {
        *self.receiving.write().expect("receiving lock") = receiving;
    }

    /// Consumes a batch that left `pipeline`, and routes what it emits.
    pub async fn consume(self: &Arc<Self>, pipeline: &Arc<str>, batch: &Batch) {
        if batch.items == 0 || !self.consumes(batch.signal) {
            return;
        }
        let ctx = CallContext {
            tenant: batch.tenant.to_string(),
            environment: self.environment.to_string(),
            pipeline: pipeline.to_string(),
            metadata: batch.metadata.as_ref().clone(),
        };
        let tenant = batch.tenant.clone();
        let (signal, payload) = (batch.signal, batch.payload.to_vec());
        let stage = self.clone();
        let slot = self.tenants.slot(&tenant);
        let result = run_blocking(move || {
            stage.call(&ctx.tenant, &slot, true, |i| {
                i.consume(&ctx, signal, payload)
            })
        })
        .await
        .unwrap_or_else(|e| Err(CallError::Trap(e)));
        match result {
            Ok(emitted) => self.route(&tenant, emitted).await,
            Err(e) => {
                self.failed(pipeline);
                tracing::error!(
                    pipeline = &**pipeline,
                    connector = self.id,
                    items = batch.items,
                    "connector failed to consume a batch: {e}"
                );
            }
        }
    }

    /// `tick` on every tenant's instance, routing what each emits.
    pub async fn tick(self: &Arc<Self>, now_unix_nanos: u64) {
        for (tenant, emitted) in self.each(move |i| i.tick(now_unix_nanos)).await {
            self.route(&tenant, emitted).await;
        }
    }

    /// `flush` on every tenant's instance, routing what each emits; then
    /// lets go of the receiving pipelines (nothing more will come).
    pub async fn flush(self: &Arc<Self>) {
        for (tenant, emitted) in self.each(ConnectorInstance::flush).await {
            self.route(&tenant, emitted).await;
        }
        self.tenants.clear();
        self.receiving.write().expect("receiving lock").clear();
    }

    /// Sends emitted batches into the receiving pipelines, as `tenant`'s.
    async fn route(&self, tenant: &Arc<str>, emitted: Emissions) {
        for (signal, payload, target) in emitted {
            let items = match weir_wire::count_items(signal, &payload) {
                Ok(0) => continue,
                Ok(items) => items,
                Err(e) => {
                    self.failed(&Arc::from(""));
                    tracing::error!(
                        connector = self.id,
                        "connector emitted a malformed {signal} request, dropped: {e}"
                    );
                    continue;
                }
            };
            let pipelines: Vec<Arc<Pipeline>> = {
                let receiving = self.receiving.read().expect("receiving lock");
                receiving
                    .iter()
                    .filter(|r| r.signal == signal && target.as_ref().is_none_or(|t| *t == r.id))
                    .map(|r| r.pipeline.clone())
                    .collect()
            };
            if pipelines.is_empty() {
                self.failed(&Arc::from(target.as_deref().unwrap_or("")));
                tracing::error!(
                    connector = self.id,
                    pipeline = target.as_deref().unwrap_or("any"),
                    items,
                    "connector emitted {signal} that no pipeline receives from it; dropped"
                );
                continue;
            }
            let payload = Bytes::from(payload);
            for pipeline in pipelines {
                metrics()
                    .connector_emitted_items
                    .get_or_create(&ComponentLabels {
                        pipeline: pipeline.id.to_string(),
                        component: self.id.clone(),
                    })
                    .inc_by(items as u64);
                pipeline
                    .inject(Batch {
                        signal,
                        payload: payload.clone(),
                        items,
                        tenant: tenant.clone(),
                        metadata: Arc::default(),
                        permits: Vec::new(),
                        // Nobody waits on what a connector emits.
                        acks: Vec::new(),
                    })
                    .await;
            }
        }
    }

    fn failed(&self, pipeline: &Arc<str>) {
        metrics()
            .connector_failed_batches
            .get_or_create(&ComponentLabels {
                pipeline: pipeline.to_string(),
                component: self.id.clone(),
            })
            .inc();
    }

    async fn each(
        self: &Arc<Self>,
        call: impl Fn(&mut ConnectorInstance) -> Result<Emissions, CallError> + Send + 'static,
    ) -> Vec<(Arc<str>, Emissions)> {
        let stage = self.clone();
        run_blocking(move || {
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
        slot: &Slot<ConnectorInstance>,
        start: bool,
        call: impl FnOnce(&mut ConnectorInstance) -> Result<Emissions, CallError>,
    ) -> Result<Emissions, CallError> {
        call_slot(
            slot,
            start.then_some(|| self.factory.instance()),
            ComponentLabels {
                pipeline: String::new(),
                component: self.id.clone(),
            },
            call,
            |e| {
                tracing::error!(
                    connector = self.id,
                    tenant,
                    "connector failed and lost its state; a fresh instance takes over: {e}"
                )
            },
        )
    }
}

/// A connector's timer, and what flushes it when its inputs have drained.
pub struct ConnectorRun {
    stage: Arc<ConnectorStage>,
    ticker: Option<Ticker>,
}

impl ConnectorRun {
    /// Starts ticking the connector, if it asked for ticks.
    pub fn start(stage: Arc<ConnectorStage>) -> ConnectorRun {
        let ticker = stage.tick_interval().map(|interval| {
            let stage = stage.clone();
            Ticker::start(interval, move |now| {
                let stage = stage.clone();
                async move {
                    stage.tick(now).await;
                    std::ops::ControlFlow::Continue(())
                }
            })
        });
        ConnectorRun { stage, ticker }
    }

    /// Stops the timer (a tick under way finishes first).
    pub async fn stop_ticking(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.stop().await;
        }
    }

    /// Flushes the connector into its receiving pipelines and lets go of them.
    pub async fn flush(self) {
        self.stage.flush().await;
    }
}

/// Each pipeline's drain level: 0 when no connector feeds it, else one
/// more than the deepest pipeline feeding one of its connectors (the
/// config has no cycles). Pipelines drain level by level, so a connector
/// is flushed only after every pipeline feeding it has drained.
pub fn drain_levels(
    pipelines: &std::collections::BTreeMap<
        crate::config::PipelineId,
        crate::config::PipelineConfig,
    >,
) -> HashMap<crate::config::PipelineId, usize> {
    fn level(
        id: &crate::config::PipelineId,
        pipelines: &std::collections::BTreeMap<
            crate::config::PipelineId,
            crate::config::PipelineConfig,
        >,
        known: &mut HashMap<crate::config::PipelineId, usize>,
        depth: usize,
    ) -> usize {
        if let Some(l) = known.get(id) {
            return *l;
        }
        // Depth bounds a cycle the config check missed.
        if depth > pipelines.len() {
            return 0;
        }
        let p = &pipelines[id];
        let l = pipelines
            .iter()
            .filter(|(_, from)| {
                from.to_connectors
                    .iter()
                    .any(|c| p.from_connectors.iter().any(|r| r.id == c.id))
            })
            .map(|(up, _)| level(up, pipelines, known, depth + 1) + 1)
            .max()
            .unwrap_or(0);
        known.insert(id.clone(), l);
        l
    }
    let mut known = HashMap::new();
    for id in pipelines.keys() {
        level(id, pipelines, &mut known, 0);
    }
    known
}
