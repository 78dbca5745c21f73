//! Routes each receiver's requests to the pipelines that list it, through a
//! swappable table: a reload replaces the table, receivers keep running.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::ingest::{Accepted, Ingest, IngestFuture, IngestRequest, Refusal};
use super::pipeline::Pipeline;
use crate::Signal;

/// Pipelines by (receiver id, signal).
#[derive(Default)]
pub struct Routes {
    pub table: HashMap<(String, Signal), Vec<Arc<Pipeline>>>,
}

/// The current routing table, shared by every receiver.
#[derive(Clone, Default)]
pub struct Router {
    routes: Arc<ArcSwap<Routes>>,
}

impl Router {
    /// Makes `routes` the table new requests use; returns the old one.
    pub fn swap(&self, routes: Routes) -> Arc<Routes> {
        self.routes.swap(Arc::new(routes))
    }

    /// The `Ingest` a receiver with this id hands its requests to.
    pub fn for_receiver(&self, receiver: &str) -> Arc<dyn Ingest> {
        Arc::new(ReceiverIngest {
            receiver: receiver.to_string(),
            routes: self.routes.clone(),
        })
    }
}

struct ReceiverIngest {
    receiver: String,
    routes: Arc<ArcSwap<Routes>>,
}

impl Ingest for ReceiverIngest {
    fn ingest(&self, request: IngestRequest) -> IngestFuture {
        let routes = self.routes.load_full();
        let key = (self.receiver.clone(), request.signal);
        Box::pin(async move {
            let Some(pipelines) = routes.table.get(&key) else {
                return Err(Refusal::NotConsumed(format!(
                    "no pipeline takes {} from receiver {}",
                    key.1, key.0
                )));
            };
            let mut accepted = Accepted::default();
            for pipeline in pipelines {
                let outcome = pipeline.accept(request.clone()).await?;
                accepted.rejected_items = accepted.rejected_items.max(outcome.rejected_items);
                if accepted.message.is_empty() {
                    accepted.message = outcome.message;
                }
            }
            Ok(accepted)
        })
    }
}
