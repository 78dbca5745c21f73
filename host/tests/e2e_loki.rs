//! The `loki` exporter against a strict loopback Loki: TLS, the push
//! path, Loki's push protobuf in a snappy block (decoded here with structs
//! written from Loki's `push.proto`, not the plugin's), labels, the tenant
//! header and credentials. Anything off gets a 400, which the exporter
//! counts as a permanent failure; the test asserts there were none.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use common::sink::{Received, Reply, Sink, tls_config};
use common::{Weir, generate_certs, python_send};
use prost::Message;

/// `logproto.PushRequest` from Loki's `pkg/push/push.proto`.
#[derive(Clone, PartialEq, prost::Message)]
struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    streams: Vec<Stream>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Stream {
    #[prost(string, tag = "1")]
    labels: String,
    #[prost(message, repeated, tag = "2")]
    entries: Vec<Entry>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Entry {
    #[prost(message, optional, tag = "1")]
    timestamp: Option<prost_types_timestamp::Timestamp>,
    #[prost(string, tag = "2")]
    line: String,
}

mod prost_types_timestamp {
    /// `google.protobuf.Timestamp`.
    #[derive(Clone, Copy, PartialEq, prost::Message)]
    pub struct Timestamp {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }
}

/// Parses `{a="x", b="y"}` strictly (as Loki's label parser would).
fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("labels not in braces: {text}"))?;
    let mut out = BTreeMap::new();
    for pair in inner.split(", ") {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("bad pair {pair}"))?;
        if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad label name {k}"));
        }
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| format!("unquoted value in {pair}"))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// A stream's labels and its lines.
type DecodedStream = (BTreeMap<String, String>, Vec<String>);

/// What a real Loki would refuse, or the decoded push.
fn check(r: &Received, auth: &str, tenant: &str) -> Result<Vec<DecodedStream>, String> {
    if r.path != "/loki/api/v1/push" {
        return Err(format!("404 {}", r.path));
    }
    if r.header("authorization") != Some(auth) {
        return Err(format!("401 authorization {:?}", r.header("authorization")));
    }
    if r.header("x-scope-orgid") != Some(tenant) {
        return Err(format!("401 tenant {:?}", r.header("x-scope-orgid")));
    }
    if r.header("content-type") != Some("application/x-protobuf") {
        return Err(format!("415 {:?}", r.header("content-type")));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&r.body)
        .map_err(|e| format!("not a snappy block: {e}"))?;
    let push =
        PushRequest::decode(raw.as_slice()).map_err(|e| format!("not a PushRequest: {e}"))?;
    push.streams
        .into_iter()
        .map(|s| {
            let labels = parse_labels(&s.labels)?;
            if s.entries
                .iter()
                .any(|e| e.timestamp.is_none_or(|t| t.seconds < 1_600_000_000))
            {
                return Err("entry without a plausible timestamp".into());
            }
            Ok((labels, s.entries.into_iter().map(|e| e.line).collect()))
        })
        .collect()
}

#[test]
fn logs_reach_loki_over_tls_with_labels_tenant_and_auth() {
    let dir = tempfile::tempdir().unwrap();
    generate_certs(dir.path(), "weir");
    const AUTH: &str = "Basic bG9raTpzM2NyM3Q="; // loki:s3cr3t
    let sink = Sink::start(
        Some(tls_config(dir.path(), false)),
        Arc::new(|r, _| match check(r, AUTH, "acme") {
            Ok(_) => Reply::status(204),
            Err(e) => {
                let mut reply = Reply::status(400);
                reply.body = e.into_bytes();
                reply
            }
        }),
    );
    let weir = Weir::start(
        dir.path(),
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 200ms}}
exporters:
  loki:
    endpoint: https://localhost:{port}
    tls: {{ca_file: ca.crt}}
    auth: {{basic: {{username: loki, password: s3cr3t}}}}
    tenant_id: acme
    labels:
      static: {{env: test}}
      resource: {{run.id: run}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [batch], exporters: [loki]}}
"#,
            port = sink.addr.port()
        ),
    );
    let out = python_send(
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", weir.http.unwrap()),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ],
        &[
            "--signals",
            "logs",
            "--count",
            "10",
            "--service",
            "checkout",
            "--run-id",
            "r1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    weir.wait_for("10 log records sent", Duration::from_secs(30), |w| {
        w.metric("weir_exporter_sent_items_total", &[("exporter", "loki")]) == 10.0
            || w.metric("weir_exporter_failed_items_total", &[]) > 0.0
    });
    assert_eq!(
        weir.metric("weir_exporter_permanent_failures_total", &[]),
        0.0,
        "{}",
        weir.stderr()
    );
    let mut seqs = BTreeSet::new();
    for r in sink.received() {
        assert_eq!(
            r.version,
            http::Version::HTTP_2,
            "TLS offers h2 through ALPN"
        );
        for (mut labels, lines) in check(&r, AUTH, "acme").unwrap() {
            // The SDK sets service.instance.id (a fresh UUID): `instance`.
            let instance = labels.remove("instance").unwrap_or_default();
            assert_eq!(instance.len(), 36, "instance: {instance:?}");
            let want: BTreeMap<String, String> = [
                ("env", "test"),
                ("exporter", "OTLP"),
                ("job", "checkout"),
                ("run", "r1"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            assert_eq!(labels, want);
            for line in lines {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                assert!(v["body"].as_str().unwrap().starts_with("log line "), "{v}");
                // `run.id` became a label and left the line; service.name stayed.
                assert!(v["resources"].get("run.id").is_none(), "{v}");
                assert_eq!(v["resources"]["service.name"], "checkout");
                seqs.insert(v["attributes"]["seq"].as_i64().unwrap());
            }
        }
    }
    assert_eq!(seqs, (0..10).collect());
}

#[test]
fn json_push_with_bearer_token_file_and_the_batch_tenant_header_absent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "t0ken\n").unwrap();
    let sink = Sink::start(None, common::sink::always_ok());
    let weir = Weir::start(
        dir.path(),
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
exporters:
  loki:
    endpoint: http://{addr}
    auth: {{bearer: {{token_file: token}}}}
    encoding: json
    line_format: logfmt
    compression: gzip
    labels:
      attributes: {{seq: seq}}
service:
  pipelines:
    logs: {{receivers: [otlp], exporters: [loki]}}
"#,
            addr = sink.addr
        ),
    );
    let out = python_send(
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", weir.http.unwrap()),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ],
        &["--signals", "logs", "--count", "3"],
    );
    assert!(out.status.success());
    let got = sink.wait_for(3, Duration::from_secs(30));
    let mut seqs = BTreeSet::new();
    for r in &got {
        assert_eq!(r.header("authorization"), Some("Bearer t0ken"));
        // The batch's tenant is `default`: no tenant header.
        assert_eq!(r.header("x-scope-orgid"), None);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        let v: serde_json::Value = serde_json::from_slice(&r.decoded()).unwrap();
        for stream in v["streams"].as_array().unwrap() {
            let seq = stream["stream"]["seq"].as_str().unwrap().to_string();
            let line = stream["values"][0][1].as_str().unwrap();
            assert!(line.starts_with("body=\"log line "), "{line}");
            assert!(
                !line.contains("attribute_seq="),
                "a label stays in the line: {line}"
            );
            seqs.insert(seq);
        }
    }
    assert_eq!(
        seqs,
        ["0", "1", "2"].map(String::from).into_iter().collect()
    );
}
