//! Tests of `split`: every part decodes and keeps the limit, and the parts
//! rejoin to the same items, over random shapes and awkward layouts.

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
    let metric = |kind, n| testdata::metric(1, testdata::metric_data(kind, n, 0)).encode_to_vec();
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
