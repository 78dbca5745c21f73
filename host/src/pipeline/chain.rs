//! The processor chain: plugin processors applied to a batch in order, each
//! failure handled by the pipeline's `error_mode`. A stateful stage may
//! hold what it is given and release it later (`tick`, `flush`); what it
//! releases goes on from the stage after it ([`Chain::release`]).

use std::sync::Arc;

use bytes::Bytes;

use super::batch::Batch;
use super::stateful::StatefulStage;
use crate::config::ErrorMode;
use crate::plugin::{CallContext, Outputs, ProcessorPool};
use crate::telemetry::{ComponentLabels, metrics};

/// Most items in one batch cut from a stateful stage's release (the batch
/// processor's default `send_batch_size`).
const RELEASED_BATCH_ITEMS: usize = 8192;

/// One plugin processor in a pipeline.
#[derive(Clone)]
pub struct PluginStage {
    pub id: String,
    pub pool: ProcessorPool,
    /// Set when the plugin is stateful: its per-tenant instances.
    pub stateful: Option<Arc<StatefulStage>>,
}

/// A run of plugin stages of one pipeline.
#[derive(Clone)]
pub struct Chain {
    pub pipeline: Arc<str>,
    pub environment: Arc<str>,
    pub stages: Vec<PluginStage>,
    pub error_mode: ErrorMode,
}

/// A stage failed and the pipeline's `error_mode` is `propagate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propagated {
    pub component: String,
    pub reason: String,
}

impl Chain {
    /// Runs `batch` through every stage; a stage may drop, keep or split it.
    pub async fn run(&self, batch: Batch) -> Result<Vec<Batch>, Propagated> {
        self.run_from(0, vec![batch]).await
    }

    /// Runs `batches` through the stages from `first` on.
    async fn run_from(
        &self,
        first: usize,
        mut batches: Vec<Batch>,
    ) -> Result<Vec<Batch>, Propagated> {
        for stage in self.stages.iter().skip(first) {
            let mut next = Vec::with_capacity(batches.len());
            for batch in batches {
                next.extend(self.apply(stage, batch).await?);
            }
            batches = next;
            if batches.is_empty() {
                break;
            }
        }
        Ok(batches)
    }

    async fn apply(&self, stage: &PluginStage, batch: Batch) -> Result<Vec<Batch>, Propagated> {
        if !stage.pool.handles(batch.signal) || batch.items == 0 {
            return Ok(vec![batch]);
        }
        let ctx = CallContext {
            tenant: batch.tenant.to_string(),
            environment: self.environment.to_string(),
            pipeline: self.pipeline.to_string(),
            metadata: batch.metadata.as_ref().clone(),
        };
        let payload = batch.payload.to_vec();
        let result = match &stage.stateful {
            Some(stateful) => stateful.process(ctx, batch.signal, payload).await,
            None => stage.pool.process(&ctx, batch.signal, payload).await,
        };
        let failure = match result {
            Ok(outputs) => match self.check_outputs(&batch, outputs) {
                Ok(mut out) => {
                    Batch::charge_growth(&batch, &mut out);
                    let kept: usize = out.iter().map(|b| b.items).sum();
                    // A stateful stage holds what it does not return yet: not a drop.
                    if kept < batch.items && stage.stateful.is_none() {
                        self.count(
                            &metrics().processor_dropped_items,
                            stage,
                            (batch.items - kept) as u64,
                        );
                    }
                    return Ok(out);
                }
                Err(reason) => reason,
            },
            Err(e) => e.to_string(),
        };
        self.count(&metrics().processor_failed_batches, stage, 1);
        match self.error_mode {
            ErrorMode::Ignore => {
                tracing::warn!(
                    pipeline = &*self.pipeline,
                    processor = stage.id,
                    items = batch.items,
                    "processor failed, passing the batch on unchanged (error_mode: ignore): {failure}"
                );
                Ok(vec![batch])
            }
            ErrorMode::Silent => Ok(vec![batch]),
            ErrorMode::Propagate => Err(Propagated {
                component: stage.id.clone(),
                reason: failure,
            }),
        }
    }

    /// The stateful stages and their positions.
    pub fn stateful_stages(&self) -> Vec<(usize, Arc<StatefulStage>)> {
        self.stages
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.stateful.clone().map(|s| (i, s)))
            .collect()
    }

    /// Sends what stage `index` released (for `tenant`, on `tick` or
    /// `flush`) through the stages after it. Malformed output and
    /// `propagate` failures are counted and logged; the rest is returned.
    pub async fn release(&self, index: usize, tenant: &Arc<str>, outputs: Outputs) -> Vec<Batch> {
        let stage = &self.stages[index];
        let mut batches = Vec::with_capacity(outputs.len());
        for (signal, payload) in outputs {
            // What a stateful stage releases at once (every trace decided in
            // a tick) can be far larger than any batch: cut it into batch-sized
            // parts, so later stages and exporters get what fits their memory.
            match weir_wire::split(signal, &payload, RELEASED_BATCH_ITEMS) {
                Ok(parts) => batches.extend(parts.into_iter().filter_map(|part| {
                    let items = weir_wire::count_items(signal, &part).ok()?;
                    (items > 0).then(|| Batch {
                        signal,
                        payload: Bytes::from(part),
                        items,
                        tenant: tenant.clone(),
                        metadata: Arc::default(),
                        permits: Vec::new(),
                        acks: Vec::new(),
                    })
                })),
                Err(e) => {
                    self.count(&metrics().processor_failed_batches, stage, 1);
                    tracing::error!(
                        pipeline = &*self.pipeline,
                        processor = stage.id,
                        "a stateful processor released a malformed {signal} request, dropped: {e}"
                    );
                }
            }
        }
        match self.run_from(index + 1, batches).await {
            Ok(batches) => batches,
            Err(Propagated { component, reason }) => {
                self.count(&metrics().processor_failed_batches, stage, 1);
                tracing::error!(
                    pipeline = &*self.pipeline,
                    processor = component,
                    "dropping released data (error_mode: propagate): {reason}"
                );
                Vec::new()
            }
        }
    }

    /// A plugin's output must be well-formed requests of the same signal;
    /// otherwise the call counts as failed and the input is what survives.
    fn check_outputs(
        &self,
        input: &Batch,
        outputs: Vec<(crate::Signal, Vec<u8>)>,
    ) -> Result<Vec<Batch>, String> {
        outputs
            .into_iter()
            .map(|(signal, payload)| {
                if signal != input.signal {
                    return Err(format!("returned {signal} from a {} batch", input.signal));
                }
                let items = weir_wire::count_items(signal, &payload)
                    .map_err(|e| format!("returned a malformed {signal} request: {e}"))?;
                Ok(input.with_payload(Bytes::from(payload), items))
            })
            .filter(|b| !matches!(b, Ok(b) if b.items == 0))
            .collect()
    }

    fn count(
        &self,
        family: &prometheus_client::metrics::family::Family<
            ComponentLabels,
            prometheus_client::metrics::counter::Counter,
        >,
        stage: &PluginStage,
        by: u64,
    ) {
        family
            .get_or_create(&ComponentLabels {
                pipeline: self.pipeline.to_string(),
                component: stage.id.clone(),
            })
            .inc_by(by);
    }
}
