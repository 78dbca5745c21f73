use std::collections::BTreeMap;

use prost::Message;
use weir_plugin_sdk::otlp::common::v1::InstrumentationScope;
use weir_plugin_sdk::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::{ExportLogsServiceRequest, int_value, key_value, string_value};

use super::*;

fn request(resource: Vec<(&str, &str)>, records: Vec<LogRecord>) -> Vec<u8> {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource
                    .into_iter()
                    .map(|(k, v)| key_value(k, string_value(v)))
                    .collect(),
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "app".into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn record(body: &str, attrs: Vec<(&str, &str)>, time: u64) -> LogRecord {
    LogRecord {
        time_unix_nano: time,
        severity_text: "INFO".into(),
        body: Some(string_value(body)),
        attributes: attrs
            .into_iter()
            .map(|(k, v)| key_value(k, string_value(v)))
            .collect(),
        trace_id: vec![0xab; 16],
        ..Default::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn groups_records_by_labels_from_config_and_hints() {
    let config = Config::parse(
        r#"{"endpoint": "http://loki:3100", "labels": {"static": {"cluster": "eu"},
            "resource": {"deployment.environment": "env"}, "attributes": {"http.method": "method"}}}"#,
    )
    .unwrap();
    let payload = request(
        vec![
            ("service.name", "checkout"),
            ("deployment.environment", "prod"),
            ("host.name", "web-1"),
            ("loki.resource.labels", "host.name"),
        ],
        vec![
            record("a", vec![("http.method", "GET"), ("user", "u1")], 5),
            record(
                "b",
                vec![
                    ("http.method", "POST"),
                    ("loki.attribute.labels", "user"),
                    ("user", "u2"),
                ],
                6,
            ),
            record("c", vec![("http.method", "GET")], 7),
        ],
    );
    let streams = streams(&config, &payload, 99).unwrap();
    let base = [
        ("cluster", "eu"),
        ("env", "prod"),
        ("exporter", "OTLP"),
        ("host_name", "web-1"),
        ("job", "checkout"),
    ];
    let mut get = labels(&base);
    get.insert("method".into(), "GET".into());
    let mut post = labels(&base);
    post.insert("method".into(), "POST".into());
    post.insert("user".into(), "u2".into());
    assert_eq!(streams.len(), 2, "{streams:?}");
    let gets = &streams[&get];
    assert_eq!(
        gets.iter().map(|e| e.unix_nanos).collect::<Vec<_>>(),
        [5, 7]
    );
    // Attributes that became labels leave the line; the others stay.
    let first: serde_json::Value = serde_json::from_str(&gets[0].line).unwrap();
    assert_eq!(first["body"], "a");
    assert_eq!(first["attributes"], serde_json::json!({"user": "u1"}));
    assert_eq!(
        first["resources"],
        serde_json::json!({"service.name": "checkout"})
    );
    assert_eq!(first["traceid"], "ab".repeat(16));
    assert_eq!(first["instrumentation_scope"]["name"], "app");
    let posts = &streams[&post];
    let line: serde_json::Value = serde_json::from_str(&posts[0].line).unwrap();
    assert!(line.get("attributes").is_none(), "{line}");
}

#[test]
fn logfmt_lines() {
    let config = Config {
        line_format: LineFormat::Logfmt,
        ..Default::default()
    };
    let mut r = record("disk full", vec![("path", "/var")], 1);
    r.attributes.push(key_value("code", int_value(28)));
    let payload = request(vec![("service.name", "db")], vec![r]);
    let streams = streams(&config, &payload, 0).unwrap();
    let line = &streams.values().next().unwrap()[0].line;
    assert_eq!(
        line,
        &format!(
            "body=\"disk full\" traceID={} severity=INFO attribute_path=/var attribute_code=28 resource_service.name=db instrumentation_scope_name=app",
            "ab".repeat(16)
        )
    );
}

#[test]
fn protobuf_push_is_snappy_with_tenant_header() {
    let config = Config::default();
    let payload = request(
        vec![("service.name", "api")],
        vec![record("x", vec![], 1_500_000_000_123)],
    );
    let out = encode(&config, "acme", &payload, 0).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].path, "/loki/api/v1/push");
    let header = |k: &str| {
        out[0]
            .headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-scope-orgid"), Some("acme"));
    assert_eq!(header("content-encoding"), Some("snappy"));
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&out[0].body)
        .unwrap();
    let push = push::PushRequest::decode(raw.as_slice()).unwrap();
    assert_eq!(push.streams.len(), 1);
    assert_eq!(push.streams[0].labels, r#"{exporter="OTLP", job="api"}"#);
    let ts = push.streams[0].entries[0].timestamp.unwrap();
    assert_eq!((ts.seconds, ts.nanos), (1500, 123));
    // The default tenant sends no header; config wins over the batch's tenant.
    let out = encode(&config, "default", &payload, 0).unwrap();
    assert!(out[0].headers.iter().all(|(k, _)| k != "x-scope-orgid"));
    let fixed = Config {
        tenant_id: Some("ops".into()),
        ..Default::default()
    };
    let out = encode(&fixed, "acme", &payload, 0).unwrap();
    assert!(
        out[0]
            .headers
            .contains(&("x-scope-orgid".into(), "ops".into()))
    );
}

#[test]
fn json_push() {
    let config = Config {
        encoding: Encoding::Json,
        ..Default::default()
    };
    let payload = request(vec![], vec![record("x", vec![], 42)]);
    let out = encode(&config, "default", &payload, 0).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out[0].body).unwrap();
    assert_eq!(
        v["streams"][0]["stream"],
        serde_json::json!({"exporter": "OTLP"})
    );
    assert_eq!(v["streams"][0]["values"][0][0], "42");
}

#[test]
fn config_errors() {
    assert!(
        Config::parse(r#"{"labels": {"static": {"bad-name": "x"}}}"#)
            .unwrap_err()
            .contains("bad-name")
    );
    assert!(Config::parse(r#"{"line_format": "xml"}"#).is_err());
    assert!(
        Config::parse(r#"{"colour": 1}"#)
            .unwrap_err()
            .contains("unknown field `colour`")
    );
    assert!(Config::parse(r#"{"endpoint": "x", "tls": {}, "encoding": "json"}"#).is_ok());
}
