//! The processor chain: plugin processors applied to a batch in order, each
//! failure handled by the pipeline's `error_mode`.

use std::sync::Arc;

use bytes::Bytes;

use super::batch::Batch;
use crate::config::ErrorMode;
use crate::plugin::{CallContext, ProcessorPool};
use crate::telemetry::{ComponentLabels, metrics};

/// One plugin processor in a pipeline.
#[derive(Clone)]
pub struct PluginStage {
    pub id: String,
    pub pool: ProcessorPool,
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
        let mut batches = vec![batch];
        for stage in &self.stages {
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
        let failure = match stage
            .pool
            .process(&ctx, batch.signal, batch.payload.to_vec())
            .await
        {
            Ok(outputs) => match self.check_outputs(&batch, outputs) {
                Ok(out) => {
                    let kept: usize = out.iter().map(|b| b.items).sum();
                    if kept < batch.items {
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
