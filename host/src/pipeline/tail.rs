//! The rest of a pipeline after the batcher: its remaining processors, then
//! the exporter fan-out.

use std::sync::Arc;

use super::batch::Batch;
use super::chain::{Chain, Propagated};
use super::connector::ConnectorStage;
use super::exporter::ExporterHandle;
use super::ingest::Refusal;
use crate::telemetry::{ComponentLabels, metrics};

/// Processors after the batcher, and the exporters of the pipeline.
pub struct Tail {
    pub chain: Chain,
    pub exporters: Vec<Arc<ExporterHandle>>,
    /// Connectors listed among the exporters: they consume every batch too.
    pub connectors: Vec<Arc<ConnectorStage>>,
}

impl Tail {
    /// Processes a batch and queues it at every exporter.
    pub async fn deliver(&self, batch: Batch) {
        match self.chain.run(batch).await {
            Ok(batches) => self.export(batches).await,
            Err(Propagated { component, reason }) => {
                // Already acknowledged to the client: all that is left is to count it.
                metrics()
                    .processor_failed_batches
                    .get_or_create(&ComponentLabels {
                        pipeline: self.chain.pipeline.to_string(),
                        component: component.clone(),
                    })
                    .inc();
                tracing::error!(
                    pipeline = &*self.chain.pipeline,
                    processor = component,
                    "dropping a batch (error_mode: propagate): {reason}"
                );
            }
        }
    }

    /// Sends what stateful stage `index` released through the rest of the
    /// chain to the exporters.
    pub async fn release(&self, index: usize, tenant: &Arc<str>, outputs: crate::plugin::Outputs) {
        let batches = self.chain.release(index, tenant, outputs).await;
        self.export(batches).await;
    }

    /// Whether every exporter has room for a new request: the pipeline asks
    /// before accepting one, so what is acknowledged always has a place.
    pub async fn admit(&self) -> Result<(), Refusal> {
        for exporter in &self.exporters {
            exporter.admit().await?;
        }
        Ok(())
    }

    /// Whether a request must wait for a persistent queue to store its batches.
    pub fn is_durable(&self) -> bool {
        self.exporters.iter().any(|e| e.is_durable())
    }

    /// Queues batches of admitted data at every exporter, and hands them to
    /// every connector. The requests waiting on a batch are answered once
    /// every persistent queue stored it (in-memory queues hold no
    /// acknowledgement: theirs is the enqueue).
    pub async fn export(&self, batches: Vec<Batch>) {
        for mut batch in batches {
            let acks = std::mem::take(&mut batch.acks);
            for connector in &self.connectors {
                connector.consume(&self.chain.pipeline, &batch).await;
            }
            for exporter in &self.exporters {
                if let Err(reason) = exporter.enqueue(batch.clone()).await {
                    if acks.is_empty() {
                        tracing::error!(
                            pipeline = &*self.chain.pipeline,
                            items = batch.items,
                            "a batch nobody waits for could not be stored: {reason}"
                        );
                    }
                    for ack in &acks {
                        ack.fail(&reason);
                    }
                }
            }
        }
    }
}
