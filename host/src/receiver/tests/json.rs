//! OTLP/JSON → protobuf, per the spec's JSON encoding rules.

use prost::Message;

use super::{post, start_plain, traces};
use crate::Signal;
use crate::receiver::json::to_protobuf;

/// `traces(1)` in OTLP/JSON, with what the spec allows: hex ids, an enum as
/// an integer, 64-bit integers as strings and as numbers, unknown fields.
pub const TRACES_JSON: &str = r#"{
  "resourceSpans": [{
    "resource": {
      "attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}],
      "someFutureField": {"nested": [1, 2, 3]}
    },
    "scopeSpans": [{
      "spans": [{
        "traceId": "5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b",
        "spanId": "0a00000000000000",
        "name": "span 0",
        "kind": 2,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": 1700000000100000000,
        "attributes": [{"key": "http.status_code", "value": {"intValue": "200"}}],
        "unknownSpanField": true
      }]
    }]
  }],
  "unknownTopLevel": "ignored"
}"#;

#[test]
fn json_becomes_the_same_protobuf() {
    let payload = to_protobuf(Signal::Traces, TRACES_JSON.as_bytes()).expect("valid OTLP/JSON");
    assert_eq!(payload, traces(1).encode_to_vec());
}

#[test]
fn empty_object_is_an_empty_request() {
    assert!(to_protobuf(Signal::Metrics, b"{}").unwrap().is_empty());
}

#[test]
fn int_value_as_number_and_unknown_keys_in_any_value() {
    let json = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{
        "timeUnixNano": 5, "severityNumber": 9,
        "body": {"stringValue": "hi", "unknown": {"a": 1}},
        "attributes": [{"key": "n", "value": {"intValue": 7}}, {"key": "e", "value": {}}],
        "traceId": "", "spanId": ""
    }]}]}]}"#;
    let payload = to_protobuf(Signal::Logs, json.as_bytes()).expect("valid OTLP/JSON");
    let decoded =
        opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest::decode(payload)
            .unwrap();
    let record = &decoded.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(record.time_unix_nano, 5);
    assert_eq!(record.severity_number, 9);
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    assert_eq!(
        record.body.as_ref().unwrap().value,
        Some(Value::StringValue("hi".into()))
    );
    assert_eq!(
        record.attributes[0].value.as_ref().unwrap().value,
        Some(Value::IntValue(7))
    );
}

#[test]
fn metrics_with_int_and_double_points_and_histograms() {
    let json = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
        {"name": "a", "sum": {"aggregationTemporality": 2, "isMonotonic": true,
            "dataPoints": [{"asInt": "12", "timeUnixNano": "1"}, {"asDouble": 1.5}]}},
        {"name": "h", "histogram": {"aggregationTemporality": 1,
            "dataPoints": [{"count": "3", "sum": 4.5, "bucketCounts": ["1", 2], "explicitBounds": [1.0]}]}},
        {"name": "g", "gauge": {"dataPoints": [{"asInt": 3}]}, "metadata": [], "someNewThing": 1}
    ]}]}]}"#;
    let payload = to_protobuf(Signal::Metrics, json.as_bytes()).expect("valid OTLP/JSON");
    let decoded =
        opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest::decode(
            payload,
        )
        .unwrap();
    assert_eq!(
        decoded.resource_metrics[0].scope_metrics[0].metrics.len(),
        3
    );
}

#[test]
fn invalid_json_names_the_position() {
    let err = to_protobuf(Signal::Traces, b"{\"resourceSpans\": 5}").unwrap_err();
    assert!(err.message.contains("line 1 column"), "{}", err.message);
    let err = to_protobuf(Signal::Traces, b"  ").unwrap_err();
    assert!(err.message.contains("empty"), "{}", err.message);
}

#[tokio::test]
async fn json_over_http_is_ingested_as_protobuf() {
    let h = start_plain(1024 * 1024).await;
    let reply = post(
        h.http(),
        "/v1/traces",
        &[("content-type", "application/json; charset=utf-8")],
        TRACES_JSON.into(),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(&reply.body[..], b"{}");
    let got = h.ingest.taken();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, traces(1).encode_to_vec());
    assert_eq!(got[0].items, 1);
}

#[test]
fn shapes_the_derived_serde_misses_are_accepted() {
    let cases = [
        (
            "empty arrayValue",
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"arrayValue":{}}}]}]}]}"#,
        ),
        (
            "empty kvlistValue",
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{}}}]}]}]}"#,
        ),
        (
            "keyvalue without value",
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a"}]}]}]}]}"#,
        ),
        (
            "keyvalue unknown field",
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","x":1,"value":{"boolValue":true}}]}]}]}]}"#,
        ),
        (
            "null field",
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":null, "traceId": null}]}]}]}"#,
        ),
        (
            "bytesValue",
            r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bytesValue":"aGVsbG8="}}]}]}]}"#,
        ),
        (
            "scope unknown",
            r#"{"resourceLogs":[{"scopeLogs":[{"scope":{"name":"x","zzz":1},"logRecords":[]}]}]}"#,
        ),
        (
            "link + status + event",
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b","spanId":"0a00000000000000","status":{"code":2,"message":"x","q":1},"links":[{"traceId":"5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b","spanId":"0a00000000000000","flags":1,"zz":2}],"events":[{"timeUnixNano":"5","name":"e","yy":3}],"flags":257,"droppedAttributesCount":1}]}]}]}"#,
        ),
        (
            "exemplar + summary + exp histogram",
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"s","summary":{"dataPoints":[{"count":"1","sum":1,"quantileValues":[{"quantile":0.5,"value":1}]}]}},{"name":"e","exponentialHistogram":{"dataPoints":[{"count":"2","scale":1,"zeroCount":"0","positive":{"offset":1,"bucketCounts":["1","1"]},"exemplars":[{"asDouble":1.0,"traceId":"5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b","spanId":"0a00000000000000","timeUnixNano":"1"}]}]}}]}]}]}"#,
        ),
    ];
    let mut failures = Vec::new();
    for (name, json) in cases {
        let signal = if json.contains("resourceLogs") {
            Signal::Logs
        } else if json.contains("resourceSpans") {
            Signal::Traces
        } else {
            Signal::Metrics
        };
        if let Err(e) = to_protobuf(signal, json.as_bytes()) {
            failures.push(format!("{name}: {}", e.message));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
