//! Tests of `count_items`: counts against encoder-built requests, merging,
//! truncation at every offset, error locations and the shared payloads.

use super::*;
use crate::testdata::{self, Rng};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, ScopeMetrics};
use prost::Message;

fn one_metric(kind: u64, points: u64) -> Vec<u8> {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![testdata::metric(1, testdata::metric_data(kind, points, 0))],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[test]
fn empty_payload_is_an_empty_request() {
    for signal in Signal::ALL {
        assert_eq!(count_items(signal, &[]), Ok(0));
    }
}

#[test]
fn counts_data_points_of_all_five_metric_kinds() {
    for kind in 0..5 {
        for points in [0, 1, 7] {
            assert_eq!(
                count_items(Signal::Metrics, &one_metric(kind, points)),
                Ok(points as usize),
                "kind {kind}"
            );
        }
    }
}

#[test]
fn counts_random_requests_like_the_encoder_built_them() {
    let mut rng = Rng::new(7);
    for _ in 0..300 {
        for signal in Signal::ALL {
            let (bytes, items) = testdata::random_request(signal, &mut rng);
            assert_eq!(count_items(signal, &bytes), Ok(items));
        }
    }
}

#[test]
fn merge_by_concatenation_decodes_as_the_union() {
    let mut rng = Rng::new(11);
    for _ in 0..50 {
        for signal in Signal::ALL {
            let (a, na) = testdata::random_request(signal, &mut rng);
            let (b, nb) = testdata::random_request(signal, &mut rng);
            let merged = crate::merge([a.as_slice(), b.as_slice()]);
            assert_eq!(count_items(signal, &merged), Ok(na + nb));
            let mut union = testdata::flatten(signal, &a);
            union.extend(testdata::flatten(signal, &b));
            assert_eq!(testdata::flatten(signal, &merged), union);
        }
    }
    // And resource by resource for traces, with prost's own types.
    let a = testdata::traces_request(3);
    let b = testdata::traces_request(5);
    let merged =
        ExportTraceServiceRequest::decode(crate::merge([&a[..], &b[..]]).as_slice()).unwrap();
    assert_eq!(merged.resource_spans.len(), 2);
    assert_eq!(merged.resource_spans[1].scope_spans[0].spans.len(), 5);
}

#[test]
fn a_later_data_case_replaces_the_earlier_one() {
    // gauge(3) then sum(2): decoders keep the sum only.
    let gauge = one_metric(0, 3);
    let sum = one_metric(1, 2);
    let decoded = |b: &[u8]| ExportMetricsServiceRequest::decode(b).unwrap();
    let mut metric =
        decoded(&gauge).resource_metrics[0].scope_metrics[0].metrics[0].encode_to_vec();
    metric.extend(decoded(&sum).resource_metrics[0].scope_metrics[0].metrics[0].encode_to_vec());
    let wrap = |n: u8, c: &[u8]| testdata::wrap(u32::from(n), c);
    let payload = wrap(1, &wrap(2, &wrap(2, &metric)));
    let via_prost: usize = decoded(&payload).resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|m| match &m.data {
            Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(s)) => {
                s.data_points.len()
            }
            _ => 99,
        })
        .sum();
    assert_eq!(via_prost, 2);
    assert_eq!(count_items(Signal::Metrics, &payload), Ok(2));
    // The same case twice merges.
    let mut twice = metric.clone();
    twice.extend(decoded(&sum).resource_metrics[0].scope_metrics[0].metrics[0].encode_to_vec());
    assert_eq!(
        count_items(Signal::Metrics, &wrap(1, &wrap(2, &wrap(2, &twice)))),
        Ok(4)
    );
}

/// Cutting a request anywhere fails, except exactly between two
/// top-level fields (or at 0): that is a valid, shorter request.
#[test]
fn truncation_at_every_offset_fails_except_at_top_level_boundaries() {
    let mut rng = Rng::new(3);
    let mut requests: Vec<(Signal, Vec<u8>)> = vec![(Signal::Traces, testdata::traces_request(4))];
    while requests.len() < 7 {
        let signal = Signal::ALL[requests.len() % 3];
        let (bytes, items) = testdata::random_request(signal, &mut rng);
        if items > 2 {
            requests.push((signal, bytes));
        }
    }
    for (signal, bytes) in requests {
        let mut boundaries = vec![(0usize, 0usize)];
        for field in FieldReader::new(&bytes, 0) {
            let field = field.unwrap();
            let end = field.offset + field.raw.len();
            let items = boundaries.last().unwrap().1 + count_items(signal, field.raw).unwrap();
            boundaries.push((end, items));
        }
        for cut in 0..bytes.len() {
            let got = count_items(signal, &bytes[..cut]);
            match boundaries.iter().find(|(at, _)| *at == cut) {
                Some(&(_, items)) => assert_eq!(got, Ok(items), "{signal} cut at {cut}"),
                None => assert!(got.is_err(), "{signal} cut at {cut} gave {got:?}"),
            }
        }
    }
}

#[test]
fn errors_name_the_item_and_offset() {
    let mut bytes = testdata::traces_request(10);
    // Find span 7 and break its first field's tag with wire type 7.
    let spans = |b: &[u8]| {
        let rs = FieldReader::new(b, 0).next().unwrap().unwrap();
        let ss = FieldReader::new(rs.value, rs.value_offset())
            .find(|f| f.as_ref().unwrap().number == 2)
            .unwrap()
            .unwrap();
        FieldReader::new(ss.value, ss.value_offset())
            .filter_map(Result::ok)
            .filter(|f| f.number == 2)
            .nth(7)
            .unwrap()
            .value_offset()
    };
    let at = spans(&bytes);
    bytes[at] = 0x0f;
    let err = count_items(Signal::Traces, &bytes).unwrap_err();
    assert_eq!(err.offset, at);
    assert_eq!(err.reason, crate::scan::reason::BAD_WIRE_TYPE);
    assert_eq!(
        err.path.to_string(),
        "resource_spans[0].scope_spans[0].spans[7]"
    );
    assert!(
        err.to_string()
            .starts_with("resource_spans[0].scope_spans[0].spans[7]: invalid wire type")
    );
}

#[test]
fn wrong_wire_types_on_the_path_are_refused() {
    // resource_spans as a varint.
    let err = count_items(Signal::Traces, &[0x08, 0x01]).unwrap_err();
    assert_eq!(err.reason, reason::PATH_NOT_LEN);
    assert_eq!(err.path.to_string(), "resource_spans[0]");
    // schema_url (3) of a ResourceLogs as fixed32.
    let err = count_items(Signal::Logs, &[0x0a, 0x05, 0x1d, 0, 0, 0, 0]).unwrap_err();
    assert_eq!((err.reason, err.offset), (reason::KNOWN_WRONG_TYPE, 2));
    // Sum.aggregation_temporality (2) as length-delimited.
    let sum = [0x12, 0x00];
    let metric = [&[0x3a, sum.len() as u8][..], &sum].concat();
    let scope = [&[0x12, metric.len() as u8][..], &metric].concat();
    let resource = [&[0x12, scope.len() as u8][..], &scope].concat();
    let request = [&[0x0a, resource.len() as u8][..], &resource].concat();
    let err = count_items(Signal::Metrics, &request).unwrap_err();
    assert_eq!(err.reason, reason::KNOWN_WRONG_TYPE);
    // Unknown fields are skipped: a field 9 varint in the request.
    assert_eq!(count_items(Signal::Traces, &[0x48, 0x01]), Ok(0));
    // But must frame: an unknown group is refused.
    assert!(count_items(Signal::Traces, &[0x4b, 0x4c]).is_err());
}

#[test]
fn counts_the_shared_payloads() {
    let Some(payloads) = testdata::shared_payloads() else {
        return;
    };
    for (signal, bytes) in payloads {
        assert_eq!(count_items(signal, &bytes), Ok(1000), "{signal}");
    }
}
