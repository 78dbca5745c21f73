//! Stamping items with a sequence id and a send time, and reading them back.
//!
//! Every span, data point or log record gets two integer attributes appended
//! on the wire: `loadgen.id` (a sequence number unique within a run) and
//! `loadgen.sent_ns` (Unix nanoseconds when its request was sent). The sink
//! reads them to find lost and duplicated items and end-to-end latency.
//! Appending a `KeyValue` to an item's attributes is valid protobuf however
//! the item was encoded (a repeated field may be split), so a payload from a
//! file is stamped as well as a synthetic one, without decoding it.

use weir_wire::{FieldReader, ItemEdit, ItemKind, Signal, WireError, WireType, edit_items};

/// The attribute holding an item's sequence id.
pub const ID_KEY: &str = "loadgen.id";
/// The attribute holding when the item's request was sent (Unix ns).
pub const SENT_KEY: &str = "loadgen.sent_ns";

/// What the stamps of one item say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamp {
    pub id: Option<u64>,
    pub sent_ns: Option<u64>,
}

/// Copies `template`, keeping its first `keep` items, stamping item `i` with
/// id `first_id + i` and every item with `sent_ns`. Items past `keep` are
/// left out (so the last request of a run can be shorter). Returns the
/// request and how many items it holds.
pub fn stamp_request(
    signal: Signal,
    template: &[u8],
    keep: usize,
    first_id: u64,
    sent_ns: u64,
) -> Result<(Vec<u8>, usize), WireError> {
    let mut index = 0usize;
    let edited = edit_items(signal, template, |kind, item, out| {
        let i = index;
        index += 1;
        if i >= keep {
            return ItemEdit::Drop;
        }
        let id = first_id + i as u64;
        if kind == ItemKind::Span {
            restamp_span_ids(item, id, out);
        } else {
            out.extend_from_slice(item);
        }
        let field = kind.attributes_field();
        put_int_attribute(out, field, ID_KEY, id);
        put_int_attribute(out, field, SENT_KEY, sent_ns);
        ItemEdit::Replaced
    })?;
    let stamped = index.min(keep);
    // `None` means every item was kept unchanged: only for an empty template.
    Ok((edited.unwrap_or_else(|| template.to_vec()), stamped))
}

/// Spans this many in a row share a trace id.
pub const SPANS_PER_TRACE: u64 = 8;

/// Copies a span with a trace id and span id made from its sequence id, so
/// every request carries new traces (a tail sampler sees a stream of
/// traces, not the template's few over and over): trace id `id / 8 + 1`,
/// span id `id + 1`, both big-endian in the low bytes.
fn restamp_span_ids(span: &[u8], id: u64, out: &mut Vec<u8>) {
    let mut trace_id = [0u8; 16];
    trace_id[8..].copy_from_slice(&(id / SPANS_PER_TRACE + 1).to_be_bytes());
    weir_wire::put_bytes_field(out, 1, &trace_id);
    weir_wire::put_bytes_field(out, 2, &id.wrapping_add(1).to_be_bytes());
    for field in FieldReader::new(span, 0).flatten() {
        // trace_id = 1, span_id = 2; the template's values are replaced.
        if !matches!(field.number, 1 | 2) {
            out.extend_from_slice(field.raw);
        }
    }
}

/// Calls `seen` with the stamps of every item of `request`, in order.
pub fn read_stamps(
    signal: Signal,
    request: &[u8],
    mut seen: impl FnMut(Stamp),
) -> Result<(), WireError> {
    let mut failure = None;
    edit_items(signal, request, |kind, item, _| {
        match item_stamp(kind, item) {
            Ok(stamp) => seen(stamp),
            Err(e) => failure = Some(e),
        }
        ItemEdit::Keep
    })?;
    failure.map_or(Ok(()), Err)
}

/// The stamps among the attributes of one item.
fn item_stamp(kind: ItemKind, item: &[u8]) -> Result<Stamp, WireError> {
    let mut stamp = Stamp::default();
    let attributes = kind.attributes_field();
    for field in FieldReader::new(item, 0) {
        let field = field?;
        if field.number != attributes || field.wire_type != WireType::LengthDelimited {
            continue;
        }
        let (key, value) = weir_wire::key_value(field.value)?;
        let slot = match key {
            k if k == ID_KEY.as_bytes() => &mut stamp.id,
            k if k == SENT_KEY.as_bytes() => &mut stamp.sent_ns,
            _ => continue,
        };
        *slot = any_value_int(value)?;
    }
    Ok(stamp)
}

/// The `int_value` (field 3) of an encoded `AnyValue`, if it is one.
fn any_value_int(any_value: &[u8]) -> Result<Option<u64>, WireError> {
    for field in FieldReader::new(any_value, 0) {
        let field = field?;
        if field.number == 3 && field.wire_type == WireType::Varint {
            return Ok(Some(decode_varint(field.value)));
        }
    }
    Ok(None)
}

/// Appends a `KeyValue` with an `AnyValue { int_value }` as field `number`.
pub fn put_int_attribute(out: &mut Vec<u8>, number: u32, key: &str, value: u64) {
    let mut any_value = Vec::with_capacity(11);
    any_value.push(3 << 3); // int_value, varint
    put_varint(&mut any_value, value);
    weir_wire::put_key_value(out, number, key.as_bytes(), &any_value);
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Decodes a varint the field reader has already framed (at most 10 bytes).
fn decode_varint(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .enumerate()
        .fold(0u64, |acc, (i, b)| acc | (u64::from(b & 0x7f) << (7 * i)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{Shape, synthetic};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use prost::Message;

    fn shape(items: usize) -> Shape {
        Shape {
            items,
            resources: 2,
            attributes: 3,
            payload_bytes: 16,
        }
    }

    #[test]
    fn stamps_read_back_for_every_signal() {
        for signal in Signal::ALL {
            let template = synthetic(signal, &shape(10));
            let (request, n) = stamp_request(signal, &template, 10, 500, 1234).unwrap();
            assert_eq!(n, 10);
            assert_eq!(weir_wire::count_items(signal, &request).unwrap(), 10);
            let mut stamps = Vec::new();
            read_stamps(signal, &request, |s| stamps.push(s)).unwrap();
            let ids: Vec<_> = stamps.iter().map(|s| s.id.unwrap()).collect();
            assert_eq!(ids, (500..510).collect::<Vec<_>>(), "{signal}");
            assert!(stamps.iter().all(|s| s.sent_ns == Some(1234)));
        }
    }

    #[test]
    fn spans_get_trace_and_span_ids_from_their_sequence() {
        let template = synthetic(Signal::Traces, &shape(16));
        let (request, _) = stamp_request(Signal::Traces, &template, 16, 80, 1).unwrap();
        let decoded = ExportTraceServiceRequest::decode(request.as_slice()).unwrap();
        let mut spans: Vec<_> = decoded
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .collect();
        spans.sort_by_key(|s| s.span_id.clone());
        for (i, span) in spans.iter().enumerate() {
            let id = 80 + i as u64;
            assert_eq!(span.span_id, (id + 1).to_be_bytes());
            assert_eq!(span.trace_id[8..], (id / 8 + 1).to_be_bytes());
            assert_eq!(span.trace_id[..8], [0; 8]);
            assert!(span.name.starts_with("operation-"));
        }
    }

    #[test]
    fn a_short_request_keeps_the_first_items() {
        let template = synthetic(Signal::Logs, &shape(10));
        let (request, n) = stamp_request(Signal::Logs, &template, 3, 0, 1).unwrap();
        assert_eq!(n, 3);
        assert_eq!(weir_wire::count_items(Signal::Logs, &request).unwrap(), 3);
    }

    #[test]
    fn stamps_are_attributes_a_decoder_sees() {
        let template = synthetic(Signal::Traces, &shape(4));
        let (request, _) = stamp_request(Signal::Traces, &template, 4, u64::MAX - 3, 7).unwrap();
        let decoded = ExportTraceServiceRequest::decode(request.as_slice()).unwrap();
        let spans: Vec<_> = decoded
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .collect();
        assert_eq!(spans.len(), 4);
        let last = spans[3]
            .attributes
            .iter()
            .find(|kv| kv.key == ID_KEY)
            .unwrap();
        // int64 on the wire: u64::MAX reads back as -1.
        assert_eq!(
            last.value.as_ref().unwrap().value,
            Some(Value::IntValue(-1))
        );
        // The template's own attributes are still there, before the stamps.
        assert_eq!(spans[0].attributes.len(), 3 + 1 + 2);
    }

    #[test]
    fn unstamped_items_read_as_none() {
        let template = synthetic(Signal::Metrics, &shape(5));
        let mut stamps = Vec::new();
        read_stamps(Signal::Metrics, &template, |s| stamps.push(s)).unwrap();
        assert_eq!(stamps, vec![Stamp::default(); 5]);
    }

    #[test]
    fn corrupt_requests_are_errors() {
        let template = synthetic(Signal::Traces, &shape(2));
        assert!(read_stamps(Signal::Traces, &template[..template.len() - 3], |_| {}).is_err());
    }
}
