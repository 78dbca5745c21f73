//! The unit that flows through a pipeline.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::ack::Ack;
use super::memory::MemoryPermit;
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
    /// Request metadata passed to plugins.
    pub metadata: Arc<Vec<(String, String)>>,
    /// The memory the requests in this batch were admitted with; released
    /// when the last batch holding them is gone.
    pub permits: Vec<Arc<MemoryPermit>>,
    /// Requests waiting to be answered until this batch is stored by the
    /// persistent queues it goes to (see `ack`).
    pub acks: Vec<Arc<Ack>>,
}

impl Batch {
    /// Concatenates batches of one signal and tenant: a repeated top-level
    /// field, so the bytes of the parts are the bytes of the whole.
    pub fn merge(parts: Vec<Batch>) -> Option<Batch> {
        let mut iter = parts.into_iter();
        let first = iter.next()?;
        let rest: Vec<Batch> = iter.collect();
        if rest.is_empty() {
            return Some(first);
        }
        let len = first.payload.len() + rest.iter().map(|b| b.payload.len()).sum::<usize>();
        let mut payload = BytesMut::with_capacity(len);
        payload.extend_from_slice(&first.payload);
        let mut items = first.items;
        let mut permits = first.permits;
        let mut acks = first.acks;
        for b in rest {
            payload.extend_from_slice(&b.payload);
            items += b.items;
            permits.extend(b.permits);
            acks.extend(b.acks);
        }
        Some(Batch {
            payload: payload.freeze(),
            items,
            permits,
            acks,
            ..first
        })
    }

    /// The same batch with other bytes (a processor's output).
    pub fn with_payload(&self, payload: Bytes, items: usize) -> Batch {
        Batch {
            payload,
            items,
            ..self.clone()
        }
    }
}
