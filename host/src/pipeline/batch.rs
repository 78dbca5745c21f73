//! The unit that flows through a pipeline.

use std::sync::Arc;

use bytes::Bytes;

use crate::Signal;

/// OTLP request bytes on their way through a pipeline, with what the host
/// knows about them without decoding.
#[derive(Debug, Clone)]
pub struct Batch {
    pub signal: Signal,
    /// The bytes of one `Export*ServiceRequest`, or several concatenated.
    pub payload: Bytes,
    /// Items (spans, data points, log records) in `payload`.
    pub items: usize,
    /// Whose data this is; batches never mix tenants.
    pub tenant: Arc<str>,
}
