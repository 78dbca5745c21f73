use std::collections::BTreeMap;

use prost::Message;
use weir_plugin_sdk::otlp::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, metric::Data, number_data_point, summary_data_point::ValueAtQuantile,
};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::{ExportMetricsServiceRequest, key_value, string_value};

use super::*;
use crate::convert::STALE_NAN;
use crate::proto::WriteRequest;

const T: u64 = 1_700_000_000_123_000_000;
const T_MS: i64 = 1_700_000_000_123;

fn attrs(pairs: &[(&str, &str)]) -> Vec<weir_plugin_sdk::otlp::KeyValue> {
    pairs
        .iter()
        .map(|(k, v)| key_value(*k, string_value(*v)))
        .collect()
}

fn point(value: f64, labels: &[(&str, &str)]) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs(labels),
        time_unix_nano: T,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: "help text".into(),
        data: Some(data),
        ..Default::default()
    }
}

fn request(resource: &[(&str, &str)], metrics: Vec<Metric>) -> Vec<u8> {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: attrs(resource),
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// Samples (value, ms) by series, the series written as `name{k="v",...}`.
type Samples = BTreeMap<String, Vec<(f64, i64)>>;

/// Decodes what the exporter sends into `{labels} -> [(value, ts)]`, the
/// labels written as `name{k="v",...}` for readable asserts.
fn sent(config: &Config, payload: &[u8]) -> (Samples, Report, WriteRequest) {
    let (out, report) = encode(config, payload).unwrap();
    assert_eq!(out.len(), 1);
    let headers: BTreeMap<_, _> = out[0].headers.iter().cloned().collect();
    assert_eq!(headers["content-encoding"], "snappy");
    assert_eq!(headers["x-prometheus-remote-write-version"], "0.1.0");
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&out[0].body)
        .unwrap();
    let write = WriteRequest::decode(raw.as_slice()).unwrap();
    let mut series = BTreeMap::new();
    for ts in &write.timeseries {
        let names: Vec<&str> = ts.labels.iter().map(|l| l.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "labels must be sorted");
        let name = ts
            .labels
            .iter()
            .find(|l| l.name == "__name__")
            .unwrap()
            .value
            .clone();
        let rest: Vec<String> = ts
            .labels
            .iter()
            .filter(|l| l.name != "__name__")
            .map(|l| format!("{}=\"{}\"", l.name, l.value))
            .collect();
        series.insert(
            format!("{name}{{{}}}", rest.join(",")),
            ts.samples.iter().map(|s| (s.value, s.timestamp)).collect(),
        );
    }
    (series, report, write)
}

#[test]
fn counters_gauges_and_target_info() {
    let payload = request(
        &[
            ("service.name", "shop"),
            ("service.instance.id", "i-1"),
            ("host.name", "web-1"),
        ],
        vec![
            metric(
                "http.requests",
                "1",
                Data::Sum(Sum {
                    data_points: vec![point(7.0, &[("http.method", "GET")])],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                }),
            ),
            metric(
                "queue.length",
                "{item}",
                Data::Gauge(Gauge {
                    data_points: vec![point(3.0, &[])],
                }),
            ),
        ],
    );
    let (series, report, _) = sent(&Config::default(), &payload);
    assert_eq!(report, Report::default());
    assert_eq!(
        series.keys().cloned().collect::<Vec<_>>(),
        [
            r#"http_requests_total{http_method="GET",instance="i-1",job="shop"}"#,
            r#"queue_length{instance="i-1",job="shop"}"#,
            r#"target_info{host_name="web-1",instance="i-1",job="shop"}"#,
        ]
    );
    assert_eq!(
        series[r#"http_requests_total{http_method="GET",instance="i-1",job="shop"}"#],
        [(7.0, T_MS)]
    );
    assert_eq!(
        series[r#"target_info{host_name="web-1",instance="i-1",job="shop"}"#],
        [(1.0, T_MS)]
    );
}

#[test]
fn histograms_and_summaries() {
    let hist = HistogramDataPoint {
        time_unix_nano: T,
        count: 6,
        sum: Some(12.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![0.5, 1.0],
        ..Default::default()
    };
    let summary = SummaryDataPoint {
        time_unix_nano: T,
        count: 4,
        sum: 2.0,
        quantile_values: vec![ValueAtQuantile {
            quantile: 0.99,
            value: 0.9,
        }],
        ..Default::default()
    };
    let payload = request(
        &[("service.name", "shop")],
        vec![
            metric(
                "rpc.duration",
                "s",
                Data::Histogram(Histogram {
                    data_points: vec![hist],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
            metric(
                "gc.pause",
                "ms",
                Data::Summary(Summary {
                    data_points: vec![summary],
                }),
            ),
        ],
    );
    let (series, _, _) = sent(&Config::default(), &payload);
    let v = |k: &str| {
        series
            .get(k)
            .unwrap_or_else(|| panic!("{k} missing from {series:#?}"))[0]
            .0
    };
    assert_eq!(
        v(r#"rpc_duration_seconds_bucket{job="shop",le="0.5"}"#),
        1.0
    );
    assert_eq!(v(r#"rpc_duration_seconds_bucket{job="shop",le="1"}"#), 3.0);
    assert_eq!(
        v(r#"rpc_duration_seconds_bucket{job="shop",le="+Inf"}"#),
        6.0
    );
    assert_eq!(v(r#"rpc_duration_seconds_sum{job="shop"}"#), 12.5);
    assert_eq!(v(r#"rpc_duration_seconds_count{job="shop"}"#), 6.0);
    assert_eq!(
        v(r#"gc_pause_milliseconds{job="shop",quantile="0.99"}"#),
        0.9
    );
    assert_eq!(v(r#"gc_pause_milliseconds_sum{job="shop"}"#), 2.0);
    assert_eq!(v(r#"gc_pause_milliseconds_count{job="shop"}"#), 4.0);
    // No attributes beyond job/instance: no target_info.
    assert!(!series.keys().any(|k| k.starts_with("target_info")));
}

#[test]
fn deltas_and_exponential_histograms_are_reported_not_sent() {
    let payload = request(
        &[("service.name", "shop")],
        vec![
            metric(
                "requests",
                "1",
                Data::Sum(Sum {
                    data_points: vec![point(1.0, &[]), point(2.0, &[("a", "b")])],
                    aggregation_temporality: AggregationTemporality::Delta as i32,
                    is_monotonic: true,
                }),
            ),
            metric(
                "latency",
                "ms",
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec![ExponentialHistogramDataPoint::default()],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
            metric(
                "up",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![point(1.0, &[])],
                }),
            ),
        ],
    );
    let (series, report, _) = sent(&Config::default(), &payload);
    assert_eq!(report.delta_points, 2);
    assert_eq!(report.exponential_histogram_points, 1);
    assert_eq!(report.dropped_metrics, ["requests", "latency"]);
    assert_eq!(series.keys().collect::<Vec<_>>(), [r#"up{job="shop"}"#]);
}

#[test]
fn resource_conversion_namespace_external_labels_metadata_and_staleness() {
    let config = Config::parse(
        r#"{"endpoint": "http://p:9090/api/v1/write", "namespace": "app",
            "external_labels": {"cluster": "eu", "job": "ignored"},
            "resource_to_telemetry_conversion": {"enabled": true}, "target_info": {"enabled": false},
            "send_metadata": true}"#,
    )
    .unwrap();
    let mut stale = point(5.0, &[]);
    stale.flags = 1;
    let payload = request(
        &[("service.name", "shop"), ("k8s.pod.name", "p-1")],
        vec![metric(
            "mem",
            "By",
            Data::Gauge(Gauge {
                data_points: vec![stale],
            }),
        )],
    );
    let (series, _, write) = sent(&config, &payload);
    let key = r#"app_mem_bytes{cluster="eu",job="shop",k8s_pod_name="p-1",service_name="shop"}"#;
    assert_eq!(series.keys().collect::<Vec<_>>(), [key]);
    assert_eq!(series[key][0].0.to_bits(), STALE_NAN);
    assert_eq!(write.metadata.len(), 1);
    assert_eq!(write.metadata[0].metric_family_name, "app_mem_bytes");
    assert_eq!(write.metadata[0].help, "help text");
}

#[test]
fn large_batches_are_split() {
    let points: Vec<NumberDataPoint> = (0..2000)
        .map(|i| point(i as f64, &[("n", &i.to_string())]))
        .collect();
    let payload = request(
        &[],
        vec![metric(
            "g",
            "",
            Data::Gauge(Gauge {
                data_points: points,
            }),
        )],
    );
    let config = Config {
        max_batch_size_bytes: 10_000,
        ..Config::default()
    };
    let (out, _) = encode(&config, &payload).unwrap();
    assert!(out.len() > 3, "{}", out.len());
    let total: usize = out
        .iter()
        .map(|o| {
            let raw = snap::raw::Decoder::new().decompress_vec(&o.body).unwrap();
            assert!(raw.len() <= 10_000 + 200);
            WriteRequest::decode(raw.as_slice())
                .unwrap()
                .timeseries
                .len()
        })
        .sum();
    assert_eq!(total, 2000);
}

#[test]
fn config_errors() {
    assert!(Config::parse(r#"{"external_labels": {"__x": "y"}}"#).is_err());
    assert!(
        Config::parse(r#"{"wal": {}}"#)
            .unwrap_err()
            .contains("unknown field `wal`")
    );
    assert!(Config::parse(r#"{"max_batch_size_bytes": 10}"#).is_err());
}
