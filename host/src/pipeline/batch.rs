//! The unit that flows through a pipeline.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::ack::Ack;
use super::memory::{MemoryGate, MemoryPermit};
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

    /// Charges what a stage's `outputs` hold beyond `input`'s bytes to the
    /// gates `input` was admitted by (each once), and has every output hold
    /// the charge: a processor may return up to `max_output_ratio` times its
    /// input, and that memory is as real as the request's. A charge is
    /// never refused (accepted data is never dropped); new requests are
    /// refused until the gate is back under its budget. Output smaller than
    /// its input keeps the input's permits until it is gone.
    pub fn charge_growth(input: &Batch, outputs: &mut [Batch]) {
        let out: usize = outputs.iter().map(|b| b.payload.len()).sum();
        let Some(grown) = out.checked_sub(input.payload.len()).filter(|&g| g > 0) else {
            return;
        };
        let mut gates: Vec<&Arc<MemoryGate>> = Vec::new();
        for permit in &input.permits {
            if !gates.iter().any(|g| Arc::ptr_eq(g, permit.gate())) {
                gates.push(permit.gate());
            }
        }
        let charges: Vec<Arc<MemoryPermit>> = gates
            .into_iter()
            .enumerate()
            // Shown once in the stage gauge, however many gates hold it.
            .map(|(i, gate)| {
                let stage = (i == 0).then_some("plugin_output");
                Arc::new(gate.charge(grown, stage))
            })
            .collect();
        for batch in outputs {
            batch.permits.extend(charges.iter().cloned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MemoryLimiterConfig;

    fn gate() -> Arc<MemoryGate> {
        // Plugin instances other tests start must not change this budget.
        MemoryGate::with_plugin_memory(
            "memory_limiter",
            &MemoryLimiterConfig {
                limit_mib: Some(2),
                spike_limit_mib: Some(1),
                ..Default::default()
            },
            || 0,
        )
    }

    fn batch(bytes: usize, gates: &[&Arc<MemoryGate>]) -> Batch {
        Batch {
            signal: Signal::Logs,
            payload: Bytes::from(vec![0u8; bytes]),
            items: 1,
            tenant: Arc::from("default"),
            metadata: Arc::default(),
            permits: gates
                .iter()
                .map(|g| Arc::new(g.try_acquire(bytes).unwrap()))
                .collect(),
            acks: Vec::new(),
        }
    }

    #[test]
    fn output_larger_than_its_input_is_charged_to_each_gate_once() {
        let (tenant, pipeline) = (gate(), gate());
        let input = batch(100, &[&tenant, &pipeline]);
        // The processor split it in two and tripled it.
        let mut out = vec![
            input.with_payload(Bytes::from(vec![1u8; 200]), 1),
            input.with_payload(Bytes::from(vec![2u8; 100]), 1),
        ];
        Batch::charge_growth(&input, &mut out);
        drop(input);
        assert_eq!((tenant.used(), pipeline.used()), (300, 300));
        // Each part holds the charge: the bytes go back with the last one.
        drop(out.pop());
        assert_eq!(pipeline.used(), 300);
        drop(out);
        assert_eq!((tenant.used(), pipeline.used()), (0, 0));
    }

    #[test]
    fn output_no_larger_than_its_input_charges_nothing() {
        let g = gate();
        let input = batch(100, &[&g]);
        let mut out = vec![input.with_payload(Bytes::from(vec![1u8; 60]), 1)];
        Batch::charge_growth(&input, &mut out);
        assert_eq!(g.used(), 100);
        assert_eq!(out[0].permits.len(), 1);
        // Nothing admitted (a connector's batch): nothing to charge.
        let free = batch(10, &[]);
        let mut out = vec![free.with_payload(Bytes::from(vec![1u8; 60]), 1)];
        Batch::charge_growth(&free, &mut out);
        assert!(out[0].permits.is_empty());
    }

    #[test]
    fn a_merge_holds_every_part_s_permits_until_it_is_gone() {
        let g = gate();
        let merged =
            Batch::merge(vec![batch(10, &[&g]), batch(20, &[&g]), batch(30, &[&g])]).unwrap();
        assert_eq!(merged.payload.len(), 60);
        assert_eq!(g.used(), 60);
        let part = merged.with_payload(merged.payload.slice(..20), 1);
        drop(merged);
        assert_eq!(g.used(), 60, "a part cut from it still holds the bytes");
        drop(part);
        assert_eq!(g.used(), 0);
    }
}
