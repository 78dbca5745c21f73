//! The `otlp` (gRPC) and `otlphttp` exporters against a real OTLP server:
//! a second `weir` process receiving over TLS (mTLS for gRPC) and writing
//! what each of its receivers got to its own file. The Python SDK sends
//! traces, metrics and logs to the first `weir`, which exports them both ways.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Weir, generate_certs, python_send};

/// `seq` values of every item in an OTLP/JSON lines file, per signal.
fn items(path: &std::path::Path) -> [BTreeSet<i64>; 3] {
    let mut out: [BTreeSet<i64>; 3] = Default::default();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    let seq = |item: &serde_json::Value| -> Option<i64> {
        item["attributes"]
            .as_array()?
            .iter()
            .find(|a| a["key"] == "seq")
            .and_then(|a| {
                let v = &a["value"]["intValue"];
                v.as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| v.as_i64())
            })
    };
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let each = |outer: &str, inner: &str, f: &mut dyn FnMut(&serde_json::Value)| {
            for r in v[outer].as_array().into_iter().flatten() {
                for s in r[inner].as_array().into_iter().flatten() {
                    f(s)
                }
            }
        };
        each("resourceSpans", "scopeSpans", &mut |s| {
            out[0].extend(s["spans"].as_array().into_iter().flatten().filter_map(seq))
        });
        each("resourceMetrics", "scopeMetrics", &mut |s| {
            for m in s["metrics"].as_array().into_iter().flatten() {
                out[1].extend(
                    m["sum"]["dataPoints"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(seq),
                );
            }
        });
        each("resourceLogs", "scopeLogs", &mut |s| {
            out[2].extend(
                s["logRecords"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(seq),
            )
        });
    }
    out
}

#[test]
fn otlp_grpc_and_http_exporters_deliver_to_another_collector_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    generate_certs(&certs, "weir-a");
    let c = |f: &str| certs.join(f).display().to_string();
    let target_dir = dir.path().join("b");
    std::fs::create_dir_all(&target_dir).unwrap();
    let mut pipelines = String::new();
    for via in ["grpc", "http"] {
        for signal in ["traces", "metrics", "logs"] {
            pipelines.push_str(&format!(
                "    {signal}/{via}: {{receivers: [otlp/{via}], exporters: [file/{via}]}}\n"
            ));
        }
    }
    let target = Weir::start(
        &target_dir,
        &format!(
            r#"
receivers:
  otlp/grpc:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0, tls: {{cert_file: {}, key_file: {}, client_ca_file: {}}}}}
  otlp/http:
    protocols:
      http: {{endpoint: 127.0.0.1:0, tls: {{cert_file: {}, key_file: {}}}}}
exporters:
  file/grpc: {{path: via_grpc.json}}
  file/http: {{path: via_http.json}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
{pipelines}"#,
            c("server.crt"),
            c("server.key"),
            c("ca.crt"),
            c("server.crt"),
            c("server.key"),
        ),
    );
    let (grpc, http) = (target.grpc.unwrap(), target.http.unwrap());

    let source_dir = dir.path().join("a");
    std::fs::create_dir_all(&source_dir).unwrap();
    let source = Weir::start(
        &source_dir,
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 100ms}}
exporters:
  otlp:
    endpoint: {grpc}
    tls: {{ca_file: {ca}, cert_file: {cert}, key_file: {key}}}
    retry_on_failure: {{initial_interval: 100ms}}
  otlphttp:
    endpoint: https://localhost:{http_port}
    tls: {{ca_file: {ca}}}
    compression: gzip
    auth: {{bearer: {{token: not-checked-here}}}}
    retry_on_failure: {{initial_interval: 100ms}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [otlp, otlphttp]}}
    metrics: {{receivers: [otlp], processors: [batch], exporters: [otlp, otlphttp]}}
    logs: {{receivers: [otlp], processors: [batch], exporters: [otlp, otlphttp]}}
"#,
            ca = c("ca.crt"),
            cert = c("client.crt"),
            key = c("client.key"),
            http_port = http.port(),
        ),
    );
    let out = python_send(
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", source.http.unwrap()),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ],
        &["--count", "20"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let want: BTreeSet<i64> = (0..20).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let g = items(&target_dir.join("via_grpc.json"));
        let h = items(&target_dir.join("via_http.json"));
        if g.iter().chain(h.iter()).all(|s| *s == want) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not everything arrived: grpc {g:?} http {h:?}\nsource:\n{}",
            source.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for exporter in ["otlp", "otlphttp"] {
        assert_eq!(
            source.metric("weir_exporter_sent_items_total", &[("exporter", exporter)]),
            60.0,
            "{exporter}"
        );
    }
    assert_eq!(source.metric("weir_exporter_failed_items_total", &[]), 0.0);
}

#[test]
fn a_client_without_the_servers_ca_is_refused_and_retried_not_lost() {
    // The exporter trusts the system roots, not the test CA: every attempt
    // fails the handshake, is retried, and finally counted as failed.
    let dir = tempfile::tempdir().unwrap();
    generate_certs(dir.path(), "weir-a");
    let target = Weir::start(
        dir.path(),
        r#"
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0, tls: {cert_file: server.crt, key_file: server.key}}
exporters:
  debug: {}
service:
  telemetry: {metrics: {address: 127.0.0.1:0}}
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
"#,
    );
    let source_dir = dir.path().join("a");
    std::fs::create_dir_all(&source_dir).unwrap();
    let source = Weir::start(
        &source_dir,
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
exporters:
  otlp:
    endpoint: {}
    retry_on_failure: {{initial_interval: 100ms, max_elapsed_time: 1s}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], exporters: [otlp]}}
"#,
            target.grpc.unwrap()
        ),
    );
    let out = python_send(
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", source.http.unwrap()),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ],
        &["--count", "3", "--signals", "logs"],
    );
    assert!(out.status.success());
    source.wait_for(
        "the items to be given up on",
        Duration::from_secs(30),
        |w| w.metric("weir_exporter_failed_items_total", &[("exporter", "otlp")]) == 3.0,
    );
    assert!(source.metric("weir_exporter_retries_total", &[("exporter", "otlp")]) >= 1.0);
    let log = source.stderr();
    assert!(
        log.contains("certificate") || log.contains("UnknownIssuer"),
        "{log}"
    );
}

#[test]
fn otlp_grpc_in_plain_text_h2c() {
    let dir = tempfile::tempdir().unwrap();
    let target_dir = dir.path().join("b");
    std::fs::create_dir_all(&target_dir).unwrap();
    let target = Weir::start(
        &target_dir,
        r#"
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0}
exporters:
  file: {path: got.json}
service:
  telemetry: {metrics: {address: 127.0.0.1:0}}
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
"#,
    );
    let source = Weir::start(
        dir.path(),
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
exporters:
  otlp:
    endpoint: {}
    tls: {{insecure: true}}
    compression: none
    headers: {{x-origin: weir-a}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp]}}
"#,
            target.grpc.unwrap()
        ),
    );
    let out = python_send(
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", source.http.unwrap()),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ],
        &["--count", "7", "--signals", "traces"],
    );
    assert!(out.status.success());
    source.wait_for("7 spans sent", Duration::from_secs(30), |w| {
        w.metric("weir_exporter_sent_items_total", &[("exporter", "otlp")]) == 7.0
    });
    assert_eq!(items(&target_dir.join("got.json"))[0], (0..7).collect());
}
