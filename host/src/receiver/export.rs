//! The step both transports share once they hold a request's protobuf
//! bytes: validate them with a wire scan, hand them to the pipelines, and
//! count the request.

use std::sync::Arc;

use bytes::Bytes;

use super::server::ConnectionInfo;
use super::status::{Outcome, Recorder, Rejection};
use crate::Signal;
use crate::pipeline::{Accepted, Ingest, IngestRequest};

/// What a listener needs to export requests.
#[derive(Clone)]
pub struct Exporter {
    pub ingest: Arc<dyn Ingest>,
    pub recorder: Recorder,
}

impl Exporter {
    /// Validates `payload`, ingests it and records the outcome (exactly once).
    pub async fn export(
        &self,
        signal: Signal,
        payload: Bytes,
        _conn: &ConnectionInfo,
    ) -> Result<Accepted, Rejection> {
        // An empty body is a valid request with nothing in it: nothing to ingest.
        if payload.is_empty() {
            self.recorder.record(Some(signal), Outcome::Accepted, 0, 0);
            return Ok(Accepted::default());
        }
        // The wire scan both validates the framing and counts items, allocating nothing.
        let items = match weir_wire::count_items(signal, &payload) {
            Ok(items) => items,
            Err(e) => {
                let rejection =
                    Rejection::new(Outcome::Invalid, format!("malformed {signal} request: {e}"));
                self.recorder.record(Some(signal), rejection.outcome, 0, 0);
                return Err(rejection);
            }
        };
        // Tenant and metadata come from the connection in a later step; for now one tenant.
        let request = IngestRequest {
            signal,
            payload,
            items,
            tenant: Arc::from("default"),
            metadata: Vec::new(),
        };
        let items = items as u64;
        match self.ingest.ingest(request).await {
            Ok(accepted) => {
                let rejected = accepted.rejected_items.min(items);
                let outcome = if rejected > 0 {
                    Outcome::Partial
                } else {
                    Outcome::Accepted
                };
                self.recorder
                    .record(Some(signal), outcome, items - rejected, rejected);
                Ok(accepted)
            }
            Err(refusal) => {
                let rejection = Rejection::from(refusal);
                self.recorder
                    .record(Some(signal), rejection.outcome, 0, items);
                Err(rejection)
            }
        }
    }
}
