//! Encoding real OTLP requests as JSON lines and length-prefixed protobuf.

use crate::{Format, encode_record};
use serde_json::Value;
use weir_plugin_sdk::exporter::Signal;
use weir_plugin_sdk::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_plugin_sdk::otlp::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
    metric::Data, number_data_point,
};
use weir_plugin_sdk::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use weir_plugin_sdk::otlp::*;

fn traces() -> Vec<u8> {
    encode(&ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource::v1::Resource {
                attributes: vec![key_value("service.name", string_value("api"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: (1..=16).collect(),
                    span_id: (0x11..=0x18).collect(),
                    name: "GET /".into(),
                    kind: 2,
                    start_time_unix_nano: 1_581_452_772_000_000_321,
                    end_time_unix_nano: 1_581_452_773_000_000_789,
                    attributes: vec![
                        key_value("retries", int_value(0)),
                        key_value("big", int_value(i64::MAX)),
                    ],
                    status: Some(Status {
                        code: 2,
                        message: "boom".into(),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn line(signal: Signal, payload: &[u8]) -> Value {
    let bytes = encode_record(Format::Json, signal, payload).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.ends_with('\n') && text.matches('\n').count() == 1,
        "one line: {text:?}"
    );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn traces_json_line_follows_the_otlp_json_encoding() {
    let v = line(Signal::Traces, &traces());
    let rs = &v["resourceSpans"][0];
    assert_eq!(
        rs["resource"]["attributes"][0]["value"]["stringValue"],
        "api"
    );
    let span = &rs["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"], "0102030405060708090a0b0c0d0e0f10");
    assert_eq!(span["spanId"], "1112131415161718");
    assert_eq!(span["kind"], 2, "enums are integers");
    assert_eq!(
        span["startTimeUnixNano"], "1581452772000000321",
        "64-bit ints are strings"
    );
    assert_eq!(
        span["attributes"][0]["value"]["intValue"], "0",
        "a zero oneof value is kept"
    );
    assert_eq!(
        span["attributes"][1]["value"]["intValue"],
        "9223372036854775807"
    );
    assert_eq!(span["status"]["code"], 2);
    assert!(span.get("parentSpanId").is_none() && span.get("droppedAttributesCount").is_none());
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("null") && !text.contains('_'), "{text}");
}

#[test]
fn metrics_json_line_writes_special_doubles_and_drops_nulls() {
    let number = |v| NumberDataPoint {
        value: Some(v),
        time_unix_nano: 5,
        ..Default::default()
    };
    let payload = encode(&ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "g".into(),
                        data: Some(Data::Gauge(Gauge {
                            data_points: vec![
                                number(number_data_point::Value::AsDouble(f64::NAN)),
                                number(number_data_point::Value::AsDouble(0.0)),
                                number(number_data_point::Value::AsInt(-7)),
                            ],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "h".into(),
                        data: Some(Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                count: 3,
                                sum: Some(f64::INFINITY),
                                bucket_counts: vec![1, 2],
                                explicit_bounds: vec![1.0],
                                ..Default::default()
                            }],
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    });
    let v = line(Signal::Metrics, &payload);
    let rm = &v["resourceMetrics"][0];
    assert!(
        rm.get("resource").is_none(),
        "absent resource is omitted, not null"
    );
    let metrics = &rm["scopeMetrics"][0]["metrics"];
    let points = &metrics[0]["gauge"]["dataPoints"];
    assert_eq!(points[0]["asDouble"], "NaN");
    assert_eq!(points[1]["asDouble"], 0.0);
    assert_eq!(points[2]["asInt"], "-7");
    assert_eq!(points[0]["timeUnixNano"], "5");
    let h = &metrics[1]["histogram"];
    assert_eq!(h["aggregationTemporality"], 2);
    assert_eq!(h["dataPoints"][0]["sum"], "Infinity");
    assert_eq!(h["dataPoints"][0]["count"], "3");
    assert_eq!(
        h["dataPoints"][0]["bucketCounts"],
        serde_json::json!(["1", "2"])
    );
    assert!(h["dataPoints"][0].get("min").is_none());
}

#[test]
fn logs_json_line() {
    let payload = encode(&ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    severity_number: 9,
                    body: Some(string_value("hello")),
                    span_id: (1..=8).collect(),
                    observed_time_unix_nano: 7,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    });
    let v = line(Signal::Logs, &payload);
    let record = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(record["severityNumber"], 9);
    assert_eq!(record["body"]["stringValue"], "hello");
    assert_eq!(record["spanId"], "0102030405060708");
    assert_eq!(record["observedTimeUnixNano"], "7");
    assert!(record.get("traceId").is_none());
}

#[test]
fn proto_record_is_length_prefixed_big_endian() {
    let payload = traces();
    let record = encode_record(Format::Proto, Signal::Traces, &payload).unwrap();
    assert_eq!(record[..4], (payload.len() as u32).to_be_bytes());
    assert_eq!(&record[4..], &payload[..]);
    assert_eq!(
        decode_traces(&record[4..]).unwrap(),
        decode_traces(&payload).unwrap()
    );
}

#[test]
fn undecodable_payload_is_rejected_in_both_formats() {
    for format in [Format::Json, Format::Proto] {
        let err = encode_record(format, Signal::Logs, &[0xff, 0xff]).unwrap_err();
        assert!(
            err.starts_with("cannot decode ExportLogsServiceRequest"),
            "{err}"
        );
    }
}
