//! The step both transports share once they hold a request's protobuf
//! bytes: validate them with a wire scan, hand them to the pipelines, and
//! count the request.

use std::sync::Arc;

use bytes::Bytes;

use super::server::ConnectionInfo;
use super::status::{Outcome, Recorder, Rejection};
use crate::Signal;
use crate::pipeline::{Accepted, Ingest, IngestRequest};
use crate::telemetry::{AuthFailureLabels, StageLabels, metrics};
use crate::tenant::Principal;

/// What a listener needs to export requests.
#[derive(Clone)]
pub struct Exporter {
    pub ingest: Arc<dyn Ingest>,
    pub recorder: Recorder,
}

impl Exporter {
    /// Checks the request's credentials (before its body is read) and
    /// says who sent it. A failure is counted by reason and logged without
    /// the credential; the caller records the request's outcome.
    pub fn authenticate(
        &self,
        headers: &http::HeaderMap,
        conn: &ConnectionInfo,
    ) -> Result<Principal, Rejection> {
        match self.ingest.authenticate(self.recorder.transport, headers) {
            Ok(authenticated) => Ok(Principal {
                cert: conn.client_identity.clone(),
                user: authenticated.user,
                headers: headers.clone(),
            }),
            Err(failure) => {
                metrics()
                    .receiver_auth_failures
                    .get_or_create(&AuthFailureLabels {
                        receiver: self.recorder.receiver.to_string(),
                        transport: self.recorder.transport.into(),
                        reason: failure.label().into(),
                    })
                    .inc();
                tracing::debug!(
                    receiver = &*self.recorder.receiver,
                    transport = self.recorder.transport,
                    peer = %conn.peer_addr,
                    reason = failure.label(),
                    "request not authenticated"
                );
                Err(Rejection::new(
                    Outcome::Unauthenticated,
                    failure.to_string(),
                ))
            }
        }
    }

    /// Refuses, before the body is read, a request whose tenant is unknown
    /// or over its rate limit (the caller records the outcome).
    pub fn admit(&self, signal: Signal, principal: &Principal) -> Result<(), Rejection> {
        self.ingest
            .admit(signal, principal)
            .map_err(Rejection::from)
    }

    /// Validates `payload`, ingests it and records the outcome (exactly once).
    pub async fn export(
        &self,
        signal: Signal,
        payload: Bytes,
        principal: Principal,
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
        // The router finds the tenant from the principal (and the payload).
        let request = IngestRequest {
            signal,
            payload,
            items,
            tenant: Arc::from("default"),
            metadata: Vec::new(),
            principal,
            permits: Vec::new(),
        };
        let items = items as u64;
        // The body is held until the request is answered.
        let _held = Held::new(request.payload.len());
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

/// Bytes of a request body a receiver holds, in `weir_memory_stage_bytes{stage="receive"}`.
struct Held(usize);

impl Held {
    fn new(bytes: usize) -> Self {
        receive_gauge().inc_by(bytes as i64);
        Held(bytes)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        receive_gauge().dec_by(self.0 as i64);
    }
}

fn receive_gauge() -> prometheus_client::metrics::gauge::Gauge {
    metrics()
        .memory_stage_bytes
        .get_or_create(&StageLabels::of("receive"))
        .clone()
}
