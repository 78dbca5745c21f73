//! Splitting a request into requests of at most N items.
//!
//! Exporters and plugins take batches of bounded size, so a large incoming
//! request (or a merged batch) is cut at item granularity. Each part keeps,
//! around its items, every enclosing message's own fields (resource, scope,
//! schema URLs, and for metrics the metric's name, unit, … and the data
//! message's temporality and monotonicity), copied as byte runs; only the
//! length prefixes are new.

use crate::scan::{FieldReader, put_varint, varint_len};
use crate::shape::{Msg, Role};
use crate::{Signal, WireError, count_items};

/// Splits an OTLP request of `signal` into requests holding at most
/// `max_items` items each, in order, keeping each item's resource and scope
/// (and their schema URLs). A request within the limit comes back as one part.
///
/// - `max_items == 0` means no limit: one part.
/// - A request within the limit comes back as one part equal to the input,
///   byte for byte.
/// - The request is validated first, as [`count_items`] does; an invalid one
///   is an error and nothing is split.
/// - Items are never duplicated or lost, and keep their order. Concatenating
///   the parts gives a request with the same items under the same resources
///   and scopes, though a resource or scope cut by a part boundary appears
///   once in each part.
/// - When splitting, messages that hold no items are **dropped**: a resource
///   without scopes, a scope without items, a metric without data points.
///   They carry no telemetry, and keeping them would mean deciding which part
///   they belong to.
/// - For metrics, a part boundary may fall inside one metric's data points:
///   each part gets the metric's other fields and the data message's other
///   fields around its share of the points. Data points of a data oneof case
///   that a later case replaces (which decoders drop, and
///   [`count_items`] does not count) are dropped.
/// - Any fields of the top-level request other than its items' field
///   (none are defined today) are copied into every part.
pub fn split(signal: Signal, payload: &[u8], max_items: usize) -> Result<Vec<Vec<u8>>, WireError> {
    let total = count_items(signal, payload)?;
    if max_items == 0 || total <= max_items {
        return Ok(vec![payload.to_vec()]);
    }
    let root = Msg::request(signal);
    let mut splitter = Splitter::new(payload, max_items, total);
    splitter.stack[0] = Open {
        msg: root,
        content: payload,
        ..Open::EMPTY
    };
    splitter.depth = 1;
    splitter.walk(root, payload, 0)?;
    splitter.finish_part()?;
    Ok(splitter.parts)
}

/// The deepest path: request → resource → scope → metric → data.
const MAX_DEPTH: usize = 5;

/// A message on the path to the current item, in the input.
#[derive(Clone, Copy)]
struct Open<'a> {
    msg: Msg,
    /// Its field number in the parent (unused for the request).
    number: u32,
    /// Its content in the input.
    content: &'a [u8],
    /// Metric only: the data oneof case that decoders keep, and the offset
    /// from which its fields count (earlier ones were replaced by another case).
    case: u32,
    case_from: usize,
}

impl Open<'_> {
    const EMPTY: Open<'static> = Open {
        msg: Msg::Item,
        number: 0,
        content: &[],
        case: 0,
        case_from: 0,
    };
}

/// The state of one split: parts done, the part being written, and which of
/// the messages on the current input path are open in it.
struct Splitter<'a> {
    payload: &'a [u8],
    max_items: usize,
    /// Capacity to give each new part: about its share of the input.
    part_capacity: usize,
    parts: Vec<Vec<u8>>,
    part: Vec<u8>,
    items_in_part: usize,
    /// The input path to the current message: `stack[..depth]`.
    stack: [Open<'a>; MAX_DEPTH],
    depth: usize,
    /// How many of `stack` have been opened in `part` (a prefix of the path).
    opened: usize,
    /// Where each open message's length prefix was reserved in `part`, and
    /// how many bytes were reserved for it.
    prefix_at: [usize; MAX_DEPTH],
    reserved: [usize; MAX_DEPTH],
    /// The input's average bytes per item, to guess a part's message sizes.
    bytes_per_item: usize,
    /// Items not yet copied: a run of adjacent input bytes, copied in one go.
    run_start: usize,
    run_end: usize,
}

impl<'a> Splitter<'a> {
    fn new(payload: &'a [u8], max_items: usize, total: usize) -> Self {
        let n_parts = total.div_ceil(max_items);
        let part_capacity = payload.len() / n_parts + payload.len() / n_parts / 8 + 64;
        Splitter {
            payload,
            max_items,
            part_capacity,
            parts: Vec::with_capacity(n_parts),
            part: Vec::with_capacity(part_capacity),
            items_in_part: 0,
            stack: [Open::EMPTY; MAX_DEPTH],
            depth: 0,
            opened: 0,
            prefix_at: [0; MAX_DEPTH],
            reserved: [0; MAX_DEPTH],
            bytes_per_item: payload.len().div_ceil(total),
            run_start: 0,
            run_end: 0,
        }
    }

    /// Walks the message on top of the stack (`msg`, content `buf` at `base`),
    /// handing each item to [`Self::item`] and closing each child it opened.
    fn walk(&mut self, msg: Msg, buf: &'a [u8], base: usize) -> Result<(), WireError> {
        let top = self.stack[self.depth - 1];
        for field in FieldReader::new(buf, base) {
            let field = field?;
            let Role::Child { msg: child, .. } = msg.role(field.number) else {
                continue;
            };
            if msg == Msg::Metric && (field.number != top.case || field.offset < top.case_from) {
                continue; // replaced by a later oneof case
            }
            if child == Msg::Item {
                self.item(field.offset, field.raw.len())?;
                continue;
            }
            let (case, case_from) = if child == Msg::Metric {
                kept_data_case(field.value, field.value_offset())?
            } else {
                (0, 0)
            };
            let d = self.depth;
            self.stack[d] = Open {
                msg: child,
                number: field.number,
                content: field.value,
                case,
                case_from,
            };
            self.depth += 1;
            self.walk(child, field.value, field.value_offset())?;
            self.depth -= 1;
            if self.opened > d {
                self.close(d);
                self.opened = d;
            }
        }
        Ok(())
    }

    /// Adds the item at `offset` (its whole field, `len` bytes) to the part,
    /// starting a new part first if this one is full.
    #[inline]
    fn item(&mut self, offset: usize, len: usize) -> Result<(), WireError> {
        if self.items_in_part == self.max_items {
            self.finish_part()?;
        }
        while self.opened < self.depth {
            self.open(self.opened)?;
            self.opened += 1;
        }
        if offset != self.run_end {
            self.flush_run();
            self.run_start = offset;
        }
        self.run_end = offset + len;
        self.items_in_part += 1;
        Ok(())
    }

    /// Copies the pending run of items into the part.
    #[inline]
    fn flush_run(&mut self) {
        if self.run_start < self.run_end {
            self.part
                .extend_from_slice(&self.payload[self.run_start..self.run_end]);
        }
        self.run_start = self.run_end;
    }

    /// Writes the start of `stack[d]` into the part: its tag, room for its
    /// length, and all its fields that are not on the path to the items.
    fn open(&mut self, d: usize) -> Result<(), WireError> {
        self.flush_run();
        let open = self.stack[d];
        if d > 0 {
            put_varint(&mut self.part, u64::from(open.number) << 3 | 2);
            self.prefix_at[d] = self.part.len();
            // The message in this part is at most as long as in the input, and
            // about as long as the items the part still has room for: guess
            // generously, so the prefix rarely needs more or fewer bytes than
            // reserved (which would move the content, see `close`).
            let room = (self.max_items - self.items_in_part).saturating_mul(self.bytes_per_item);
            let guess = room.saturating_add(room / 4).saturating_add(256);
            let reserve = varint_len(open.content.len().min(guess) as u64);
            self.reserved[d] = reserve;
            self.part.resize(self.part.len() + reserve, 0);
        }
        for field in FieldReader::new(open.content, 0) {
            let field = field?;
            if !matches!(open.msg.role(field.number), Role::Child { .. }) {
                self.part.extend_from_slice(field.raw);
            }
        }
        Ok(())
    }

    /// Ends `stack[d]` in the part: writes its length where room was kept.
    /// The room was a guess (see `open`); when the length needs more or fewer
    /// bytes, the content moves to fit, which is correct but costs a copy.
    fn close(&mut self, d: usize) {
        self.flush_run();
        let at = self.prefix_at[d];
        let reserved = self.reserved[d];
        let len = self.part.len() - at - reserved;
        let mut prefix = [0u8; 10];
        let n = write_varint(&mut prefix, len as u64);
        if n == reserved {
            self.part[at..at + n].copy_from_slice(&prefix[..n]);
        } else {
            self.part
                .splice(at..at + reserved, prefix[..n].iter().copied());
        }
    }

    /// Closes what is open and moves the part to the finished ones.
    fn finish_part(&mut self) -> Result<(), WireError> {
        for d in (1..self.opened).rev() {
            self.close(d);
        }
        self.flush_run();
        self.opened = 0;
        if self.items_in_part > 0 {
            let part = std::mem::replace(&mut self.part, Vec::with_capacity(self.part_capacity));
            self.parts.push(part);
        }
        self.items_in_part = 0;
        Ok(())
    }
}

/// The data oneof case of a `Metric` that decoders keep (the last one set)
/// and the offset of its first field after the last other case.
fn kept_data_case(metric: &[u8], base: usize) -> Result<(u32, usize), WireError> {
    let (mut case, mut from) = (0, 0);
    for field in FieldReader::new(metric, base) {
        let field = field?;
        if Msg::is_metric_data(field.number) && field.number != case {
            case = field.number;
            from = field.offset;
        }
    }
    Ok((case, from))
}

/// Writes `value` as a varint into `out`, returning its length.
fn write_varint(out: &mut [u8; 10], mut value: u64) -> usize {
    let mut i = 0;
    while value >= 0x80 {
        out[i] = (value as u8) | 0x80;
        value >>= 7;
        i += 1;
    }
    out[i] = value as u8;
    i + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{self, Rng};
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, ScopeMetrics, metric::Data};
    use prost::Message;

    /// Checks everything `split` promises for one request and limit.
    fn check(signal: Signal, bytes: &[u8], items: usize, max: usize) -> Vec<Vec<u8>> {
        let parts = split(signal, bytes, max).unwrap();
        if max == 0 || items <= max {
            assert_eq!(parts, vec![bytes.to_vec()]);
            return parts;
        }
        assert_eq!(
            parts.len(),
            items.div_ceil(max),
            "parts are filled in order"
        );
        let mut total = 0;
        for part in &parts {
            let n = count_items(signal, part).unwrap();
            assert!(n >= 1 && n <= max, "{n} items in a part of at most {max}");
            total += n;
            testdata::flatten(signal, part); // decodes with prost
        }
        assert_eq!(total, items);
        let joined = parts.concat();
        assert_eq!(
            testdata::flatten(signal, &joined),
            testdata::flatten(signal, bytes)
        );
        parts
    }

    #[test]
    fn random_shapes_split_and_rejoin_to_the_same_items() {
        let mut rng = Rng::new(0x5eed);
        for round in 0..400 {
            for signal in Signal::ALL {
                let (bytes, items) = testdata::random_request(signal, &mut rng);
                let max = match round % 4 {
                    0 => 1,
                    1 => 1 + rng.below(3) as usize,
                    2 => 1 + rng.below(12) as usize,
                    _ => rng.below(40) as usize,
                };
                check(signal, &bytes, items, max);
            }
        }
    }

    #[test]
    fn within_the_limit_or_no_limit_is_the_input() {
        let bytes = testdata::traces_request(5);
        assert_eq!(
            split(Signal::Traces, &bytes, 0).unwrap(),
            vec![bytes.clone()]
        );
        assert_eq!(
            split(Signal::Traces, &bytes, 5).unwrap(),
            vec![bytes.clone()]
        );
        assert_eq!(split(Signal::Logs, &[], 3).unwrap(), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn keeps_resource_and_scope_in_every_part() {
        let bytes = testdata::traces_request(10);
        let parts = check(Signal::Traces, &bytes, 10, 4);
        let original = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
        let sizes: Vec<usize> = parts
            .iter()
            .map(|p| {
                let req = ExportTraceServiceRequest::decode(p.as_slice()).unwrap();
                assert_eq!(req.resource_spans.len(), 1);
                let rs = &req.resource_spans[0];
                assert_eq!(rs.resource, original.resource_spans[0].resource);
                assert_eq!(
                    rs.scope_spans[0].scope,
                    original.resource_spans[0].scope_spans[0].scope
                );
                rs.scope_spans[0].spans.len()
            })
            .collect();
        assert_eq!(sizes, [4, 4, 2]);
    }

    #[test]
    fn splits_inside_one_metric_keeping_its_fields() {
        for kind in 0..5 {
            let bytes = ExportMetricsServiceRequest {
                resource_metrics: vec![ResourceMetrics {
                    scope_metrics: vec![ScopeMetrics {
                        metrics: vec![testdata::metric(1, testdata::metric_data(kind, 7, 0))],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }
            .encode_to_vec();
            let parts = check(Signal::Metrics, &bytes, 7, 3);
            for part in parts {
                let req = ExportMetricsServiceRequest::decode(part.as_slice()).unwrap();
                let m = &req.resource_metrics[0].scope_metrics[0].metrics[0];
                assert_eq!((m.name.as_str(), m.unit.as_str()), ("metric.1", "1"));
                assert_eq!(m.metadata.len(), 1);
                match &m.data {
                    Some(Data::Sum(s)) => assert!(s.is_monotonic && s.aggregation_temporality == 2),
                    Some(Data::Histogram(h)) => assert_eq!(h.aggregation_temporality, 1),
                    Some(_) => {}
                    None => panic!("data lost"),
                }
            }
        }
    }

    #[test]
    fn big_scope_shrinks_its_length_prefix() {
        // 3,000 spans of ~500 bytes: the scope's length takes 3 bytes, a
        // 20-span part's takes 2, so content moves when the prefix is written.
        let bytes = testdata::traces_request(3000);
        check(Signal::Traces, &bytes, 3000, 20);
        check(Signal::Traces, &bytes, 3000, 100);
    }

    #[test]
    fn uneven_item_sizes_need_longer_or_shorter_prefixes_than_guessed() {
        use testdata::wrap;
        // 100 small spans and one of ~40 KB: its scope's length needs a
        // 3-byte prefix where the average span size guesses 2.
        let mut spans: Vec<u8> = (0..100)
            .flat_map(|i| wrap(2, &testdata::span(i, 0).encode_to_vec()))
            .collect();
        let mut big = testdata::span(1000, 0);
        big.name = "x".repeat(40_000);
        spans.extend(wrap(2, &big.encode_to_vec()));
        let request = wrap(1, &wrap(2, &spans));
        for max in [1, 3, 50, 100] {
            check(Signal::Traces, &request, 101, max);
        }
    }

    #[test]
    fn interleaved_and_unknown_fields_go_with_every_part() {
        use testdata::wrap;
        let span = |i| testdata::span(i, 1).encode_to_vec();
        let unknown = [0x78, 0x05]; // field 15, varint 5
        let scope = [
            wrap(2, &span(1)),
            wrap(3, b"https://scope"),
            wrap(2, &span(2)),
            unknown.to_vec(),
            wrap(2, &span(3)),
            wrap(1, b""), // an empty scope, last
        ]
        .concat();
        let resource = [wrap(3, b"https://res"), wrap(2, &scope), unknown.to_vec()].concat();
        let request = [wrap(1, &resource), unknown.to_vec()].concat();
        let parts = check(Signal::Traces, &request, 3, 1);
        for part in &parts {
            // Each part: scope fields and the unknown ones around one span.
            let expected_len = request.len() - 2 * wrap(2, &span(1)).len();
            assert!(
                part.len().abs_diff(expected_len) <= 2,
                "{} vs {expected_len}",
                part.len()
            );
            assert_eq!(part.windows(2).filter(|w| w == &unknown).count(), 3);
        }
    }

    #[test]
    fn data_replaced_by_a_later_oneof_case_is_dropped() {
        use testdata::wrap;
        let metric =
            |kind, n| testdata::metric(1, testdata::metric_data(kind, n, 0)).encode_to_vec();
        // gauge(3), sum(2), gauge(4): decoders keep the last gauge's 4 points.
        let m = [metric(0, 3), metric(1, 2), metric(0, 4)].concat();
        let request = wrap(1, &wrap(2, &wrap(2, &m)));
        assert_eq!(count_items(Signal::Metrics, &request), Ok(4));
        let parts = check(Signal::Metrics, &request, 4, 3);
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn invalid_input_is_an_error() {
        let bytes = testdata::traces_request(3);
        assert!(split(Signal::Traces, &bytes[..bytes.len() - 1], 1).is_err());
    }

    #[test]
    fn splits_the_shared_payloads() {
        let Some(payloads) = testdata::shared_payloads() else {
            return;
        };
        for (signal, bytes) in payloads {
            for max in [1, 7, 100, 333, 999] {
                check(signal, &bytes, 1000, max);
            }
        }
    }
}
