//! The boundary between receivers and pipelines.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::memory::{MemoryPermit, Reservation};
use crate::Signal;
use crate::auth::{AuthFailure, Authenticated};
use crate::tenant::Principal;

/// A validated request, as a receiver hands it to the pipelines.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub signal: Signal,
    /// Protobuf bytes of one `Export*ServiceRequest` (JSON was converted at the edge).
    pub payload: Bytes,
    /// Items in `payload`, counted by the receiver's wire scan.
    pub items: usize,
    /// The tenant the request belongs to.
    pub tenant: Arc<str>,
    /// Request metadata (headers) the config lets through to plugins.
    pub metadata: Vec<(String, String)>,
    /// Who sent it (client certificate, authenticated user, headers): the
    /// router finds the tenant from it.
    pub principal: Principal,
    /// Memory admitted for this request before the pipelines (the tenant's
    /// budget); held until the last batch carrying it is gone.
    pub permits: Vec<Arc<MemoryPermit>>,
}

/// The request was accepted: the pipelines hold it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted {
    /// Items refused while the rest were accepted (OTLP partial success).
    pub rejected_items: u64,
    /// Why they were refused; empty when none were.
    pub message: String,
}

/// Why the pipelines did not accept a request. Receivers map each to the
/// OTLP status code in one place (`receiver::status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Memory (or a queue) is full: the client should retry after the hint.
    Exhausted {
        retry_after: Duration,
        reason: String,
    },
    /// The data itself is unacceptable (a processor with `error_mode:
    /// propagate` refused it): retrying will not help.
    Invalid(String),
    /// The request is larger than a memory budget could ever hold (413 /
    /// `RESOURCE_EXHAUSTED` without a retry hint): retrying will not help.
    TooLarge(String),
    /// No pipeline takes this signal from this receiver (the Go collector
    /// does not register such a service: 404 / `UNIMPLEMENTED`).
    NotConsumed(String),
    /// The collector is shutting down or a pipeline is gone: retry elsewhere/later.
    Unavailable(String),
    /// The request's tenant is unknown or missing and `tenancy.unknown` is
    /// `refuse` (403 / `PERMISSION_DENIED`).
    Forbidden(String),
}

/// A boxed future, as the pipelines return from [`Ingest::ingest`].
pub type IngestFuture = Pin<Box<dyn Future<Output = Result<Accepted, Refusal>> + Send>>;

/// What a receiver hands its requests to: the pipelines of the running
/// configuration (swapped whole on reload).
pub trait Ingest: Send + Sync + 'static {
    fn ingest(&self, request: IngestRequest) -> IngestFuture;

    /// Decides, from what is known before the body is read (the
    /// principal: certificate, user, headers), whether the request is
    /// refused anyway: its tenant is unknown (`unknown: refuse`) or over its
    /// rate limit. A flooding tenant then costs no body read or decode.
    /// Requests this passes are checked again, in full, by [`Ingest::ingest`].
    fn admit(&self, _signal: Signal, _principal: &Principal) -> Result<(), Refusal> {
        Ok(())
    }

    /// Checks a request's credentials before its body is read, with the
    /// authenticator the receiver's `transport` (`grpc`, `http`) names in
    /// config. Without one, every request passes.
    fn authenticate(
        &self,
        _transport: &'static str,
        _headers: &http::HeaderMap,
    ) -> Result<Authenticated, AuthFailure> {
        Ok(Authenticated::default())
    }

    /// Whether a request of `signal` from `principal` declaring `bytes`
    /// (HTTP `Content-Length`, the gRPC message's length prefix) can be
    /// read now, decided before its body is read: a full memory limiter or
    /// tenant budget refuses it with a retry hint without reading a byte.
    /// Otherwise the room is held while the body is read (so concurrent
    /// readers cannot read more than there is room for); the receiver drops
    /// the reservation just before [`Ingest::ingest`] admits the request.
    fn precheck(
        &self,
        _signal: Signal,
        _principal: &Principal,
        _bytes: usize,
    ) -> Result<Reservation, Refusal> {
        Ok(Reservation::default())
    }
}

impl<F> Ingest for F
where
    F: Fn(IngestRequest) -> IngestFuture + Send + Sync + 'static,
{
    fn ingest(&self, request: IngestRequest) -> IngestFuture {
        self(request)
    }
}
