//! End-to-end tests of `process_payload` on real OTLP requests: every action
//! on every signal and every metric type.

use crate::{Config, process_payload};
use weir_plugin_sdk::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_plugin_sdk::otlp::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    metric::Data,
};
use weir_plugin_sdk::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_plugin_sdk::otlp::*;
use weir_plugin_sdk::processor::{Context, Signal};

const CONFIG: &str = r#"{"actions": [
    {"key": "present", "action": "insert", "value": "not written"},
    {"key": "new", "action": "insert", "value": 42},
    {"key": "present", "action": "update", "value": "updated"},
    {"key": "absent", "action": "update", "value": "not written"},
    {"key": "up", "action": "upsert", "value": true},
    {"key": "gone", "action": "delete"},
    {"key": "copy", "action": "upsert", "from_attribute": "present"},
    {"key": "list", "action": "insert", "value": [1.5, "x"]}
]}"#;

fn before() -> Vec<KeyValue> {
    vec![
        key_value("present", string_value("old")),
        key_value("gone", string_value("bye")),
    ]
}

fn expected() -> Vec<KeyValue> {
    let bool_true = AnyValue {
        value: Some(any_value::Value::BoolValue(true)),
    };
    let list = AnyValue {
        value: Some(any_value::Value::ArrayValue(ArrayValue {
            values: vec![
                AnyValue {
                    value: Some(any_value::Value::DoubleValue(1.5)),
                },
                string_value("x"),
            ],
        })),
    };
    vec![
        key_value("present", string_value("updated")),
        key_value("new", int_value(42)),
        key_value("up", bool_true),
        key_value("copy", string_value("updated")),
        key_value("list", list),
    ]
}

fn ctx() -> Context {
    Context {
        tenant: "t".into(),
        environment: String::new(),
        pipeline: "p".into(),
        metadata: Vec::new(),
    }
}

/// Runs the actions both ways — decoded, and on the wire — and checks the
/// two agree once decoded; returns the decoded way's bytes.
fn run(signal: Signal, payload: Vec<u8>) -> Vec<u8> {
    let config = Config::parse(CONFIG).unwrap();
    let decoded = process_payload(&config, &ctx(), signal, &payload).unwrap();
    let on_wire = crate::wire_apply::WireActions::new(&config)
        .apply(&ctx(), signal, &payload)
        .unwrap()
        .unwrap_or_else(|| payload.clone());
    let canonical = |bytes: &[u8]| match signal {
        Signal::Traces => encode(&decode_traces(bytes).unwrap()),
        Signal::Metrics => encode(&decode_metrics(bytes).unwrap()),
        Signal::Logs => encode(&decode_logs(bytes).unwrap()),
    };
    assert_eq!(
        canonical(&on_wire),
        decoded,
        "wire and decoded actions differ for {signal:?}"
    );
    decoded
}

#[test]
fn applies_to_span_attributes() {
    let resource = resource::v1::Resource {
        attributes: before(),
        ..Default::default()
    };
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource.clone()),
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    Span {
                        name: "a".into(),
                        attributes: before(),
                        ..Default::default()
                    },
                    Span {
                        name: "b".into(),
                        attributes: before(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = decode_traces(&run(Signal::Traces, encode(&request))).unwrap();
    let rs = &out.resource_spans[0];
    assert_eq!(
        rs.resource.as_ref(),
        Some(&resource),
        "resource attributes are left alone"
    );
    for span in &rs.scope_spans[0].spans {
        assert_eq!(span.attributes, expected(), "span {}", span.name);
    }
}

#[test]
fn applies_to_log_record_attributes() {
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    attributes: before(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = decode_logs(&run(Signal::Logs, encode(&request))).unwrap();
    assert_eq!(
        out.resource_logs[0].scope_logs[0].log_records[0].attributes,
        expected()
    );
}

fn metric(name: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        data: Some(data),
        ..Default::default()
    }
}

#[test]
fn applies_to_data_points_of_every_metric_type() {
    let number = NumberDataPoint {
        attributes: before(),
        ..Default::default()
    };
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    metric(
                        "gauge",
                        Data::Gauge(Gauge {
                            data_points: vec![number.clone()],
                        }),
                    ),
                    metric(
                        "sum",
                        Data::Sum(Sum {
                            data_points: vec![number.clone(), number],
                            ..Default::default()
                        }),
                    ),
                    metric(
                        "histogram",
                        Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: before(),
                                ..Default::default()
                            }],
                            ..Default::default()
                        }),
                    ),
                    metric(
                        "exponential",
                        Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint {
                                attributes: before(),
                                ..Default::default()
                            }],
                            ..Default::default()
                        }),
                    ),
                    metric(
                        "summary",
                        Data::Summary(Summary {
                            data_points: vec![SummaryDataPoint {
                                attributes: before(),
                                ..Default::default()
                            }],
                        }),
                    ),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = decode_metrics(&run(Signal::Metrics, encode(&request))).unwrap();
    let metrics = &out.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(metrics.len(), 5);
    let mut points = 0;
    for m in metrics {
        let attrs: Vec<&Vec<KeyValue>> = match m.data.as_ref().unwrap() {
            Data::Gauge(g) => g.data_points.iter().map(|p| &p.attributes).collect(),
            Data::Sum(s) => s.data_points.iter().map(|p| &p.attributes).collect(),
            Data::Histogram(h) => h.data_points.iter().map(|p| &p.attributes).collect(),
            Data::ExponentialHistogram(h) => h.data_points.iter().map(|p| &p.attributes).collect(),
            Data::Summary(s) => s.data_points.iter().map(|p| &p.attributes).collect(),
        };
        for a in attrs {
            assert_eq!(a, &expected(), "metric {}", m.name);
            points += 1;
        }
    }
    assert_eq!(points, 6);
}

#[test]
fn undecodable_payload_names_the_request_type() {
    let config = Config::parse(CONFIG).unwrap();
    let err = process_payload(&config, &ctx(), Signal::Traces, &[0x0a, 0xff]).unwrap_err();
    assert!(
        err.starts_with("cannot decode ExportTraceServiceRequest: "),
        "{err}"
    );
}

/// Inserts of keys an item lacks take the append path (the item's bytes
/// copied, new attributes after them): decoded, the result is the same as
/// rewriting the list, on items whose attributes are not their last field
/// and on items that already hold some of the keys.
#[test]
fn inserting_absent_keys_appends_to_the_item_as_a_rewrite_would() {
    let config = Config::parse(
        r#"{"actions": [
            {"key": "org", "action": "insert", "value": "weir"},
            {"key": "present", "action": "insert", "value": "not written"},
            {"key": "tier", "action": "upsert", "value": 3}
        ]}"#,
    )
    .unwrap();
    let span = |name: &str, attributes| Span {
        name: name.into(),
        attributes,
        // Fields after `attributes` (9) on the wire: dropped counts, status.
        dropped_attributes_count: 2,
        status: Some(trace::v1::Status {
            message: "m".into(),
            code: 2,
        }),
        ..Default::default()
    };
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    span("none", vec![]),
                    span("some", before()),
                    span("all", vec![key_value("org", string_value("kept"))]),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let payload = encode(&request);
    let decoded = process_payload(&config, &ctx(), Signal::Traces, &payload).unwrap();
    let on_wire = crate::wire_apply::WireActions::new(&config)
        .apply(&ctx(), Signal::Traces, &payload)
        .unwrap()
        .expect("every span gains a key");
    let out = decode_traces(&on_wire).unwrap();
    assert_eq!(encode(&out), decoded, "append path differs from a rewrite");
    let spans = &out.resource_spans[0].scope_spans[0].spans;
    let keys = |i: usize| -> Vec<&str> {
        spans[i]
            .attributes
            .iter()
            .map(|kv| kv.key.as_str())
            .collect()
    };
    assert_eq!(keys(0), ["org", "present", "tier"]);
    assert_eq!(keys(1), ["present", "gone", "org", "tier"]);
    assert_eq!(keys(2), ["org", "present", "tier"]);
    assert_eq!(spans[2].attributes[0].value, Some(string_value("kept")));
    assert_eq!(spans[1].dropped_attributes_count, 2);
    assert_eq!(spans[1].status.as_ref().unwrap().code, 2);
}
