//! The walking skeleton's acceptance, end to end: the real `weir` binary
//! with mTLS on OTLP/gRPC and OTLP/HTTP, fed by the OpenTelemetry Python
//! SDK (configured only by OTEL_EXPORTER_OTLP_* variables) and by curl
//! posting OTLP/JSON; every data point lands in the file exporter's output
//! tagged by the attributes plugin. Clients without a good certificate are
//! refused at the handshake and the collector keeps serving.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::*;

const TAG: &str = "XPLG-benchmarker-dev-tag-test";

/// The issue's config, on free ports, plus a logs pipeline so all three
/// signals are exercised.
fn config() -> String {
    r#"
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0, tls: {cert_file: server.crt, key_file: server.key, client_ca_file: ca.crt}}
      http: {endpoint: 127.0.0.1:0, tls: {cert_file: server.crt, key_file: server.key, client_ca_file: ca.crt}}
processors:
  memory_limiter: {check_interval: 5s, limit_mib: 200, spike_limit_mib: 50}
  batch: {timeout: 1s, send_batch_size: 1024}
  attributes/add_client_tag:
    actions: [{key: org_name, value: XPLG-benchmarker-dev-tag-test, action: insert}]
exporters:
  debug: {verbosity: detailed}
  file/tagged_metrics: {path: tagged_metrics.json}
  file/tagged_logs: {path: tagged_logs.json}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    metrics: {receivers: [otlp], processors: [memory_limiter, batch, attributes/add_client_tag], exporters: [file/tagged_metrics]}
    traces:  {receivers: [otlp], processors: [memory_limiter, batch, attributes/add_client_tag], exporters: [debug]}
    logs:    {receivers: [otlp], processors: [memory_limiter, batch, attributes/add_client_tag], exporters: [file/tagged_logs]}
"#
    .to_string()
}

fn sdk_env(dir: &Path, protocol: &str, endpoint: String) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_string()),
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            dir.join("ca.crt").display().to_string(),
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            dir.join("client.crt").display().to_string(),
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            dir.join("client.key").display().to_string(),
        ),
    ]
}

/// (run.id, seq) of every data point or log record in an OTLP/JSON lines
/// file, checking each carries `org_name`.
fn tagged_items(path: &Path, scope_key: &str, item_keys: &[&str]) -> BTreeSet<(String, i64)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let request: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON line {e}: {line}"));
        for resource in request[scope_key.split('.').next().unwrap()]
            .as_array()
            .unwrap()
        {
            let run = attribute(&resource["resource"]["attributes"], "run.id").unwrap_or_default();
            for items in collect_items(resource, item_keys) {
                let attrs = &items["attributes"];
                assert_eq!(
                    attribute(attrs, "org_name").as_deref(),
                    Some(TAG),
                    "untagged item: {items}"
                );
                let seq = attrs
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|kv| kv["key"] == "seq")
                    .map(|kv| match &kv["value"]["intValue"] {
                        serde_json::Value::String(s) => s.parse().unwrap(),
                        v => v.as_i64().unwrap(),
                    })
                    .unwrap_or(-1);
                seen.insert((run.clone(), seq));
            }
        }
    }
    seen
}

/// Walks `resourceX[].scopeX[].items[]` (and metrics' data points).
fn collect_items(resource: &serde_json::Value, keys: &[&str]) -> Vec<serde_json::Value> {
    let mut level = vec![resource.clone()];
    for key in keys {
        let mut next = Vec::new();
        for node in &level {
            if *key == "*dataPoints" {
                for kind in [
                    "gauge",
                    "sum",
                    "histogram",
                    "exponentialHistogram",
                    "summary",
                ] {
                    if let Some(points) = node[kind]["dataPoints"].as_array() {
                        next.extend(points.iter().cloned());
                    }
                }
            } else if let Some(items) = node[*key].as_array() {
                next.extend(items.iter().cloned());
            }
        }
        level = next;
    }
    level
}

fn attribute(attrs: &serde_json::Value, key: &str) -> Option<String> {
    attrs
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["stringValue"].as_str().map(String::from))
}

fn expected(runs: &[&str], count: i64) -> BTreeSet<(String, i64)> {
    runs.iter()
        .flat_map(|r| (0..count).map(move |i| (r.to_string(), i)))
        .collect()
}

#[test]
fn python_sdk_and_curl_over_mtls_reach_the_file_tagged() {
    let dir = tempfile::tempdir().unwrap();
    generate_certs(dir.path(), "e2e-client");
    let weir = Weir::start(dir.path(), &config());
    let grpc = weir.grpc.unwrap();
    let http = weir.http.unwrap();
    const COUNT: i64 = 25;

    let out = python_send(
        &sdk_env(
            dir.path(),
            "grpc",
            format!("https://127.0.0.1:{}", grpc.port()),
        ),
        &["--count", &COUNT.to_string(), "--run-id", "sdk-grpc"],
    );
    assert!(
        out.status.success(),
        "python grpc: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = python_send(
        &sdk_env(
            dir.path(),
            "http/protobuf",
            format!("https://127.0.0.1:{}", http.port()),
        ),
        &["--count", &COUNT.to_string(), "--run-id", "sdk-http"],
    );
    assert!(
        out.status.success(),
        "python http: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let base = format!("https://127.0.0.1:{}", http.port());
    let certs = |dir: &Path| {
        vec![
            "--cacert".to_string(),
            dir.join("ca.crt").display().to_string(),
            "--cert".to_string(),
            dir.join("client.crt").display().to_string(),
            "--key".to_string(),
            dir.join("client.key").display().to_string(),
        ]
    };
    for (path, body) in [
        ("/v1/metrics", curl_metrics_json()),
        ("/v1/logs", curl_logs_json()),
        ("/v1/traces", curl_traces_json()),
    ] {
        let mut args = certs(dir.path());
        args.extend(
            [
                "-H",
                "Content-Type: application/json",
                "-w",
                "\n%{http_code}",
                "--data-binary",
            ]
            .map(String::from),
        );
        args.push(body);
        args.push(format!("{base}{path}"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = curl(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.trim_end().ends_with("200"),
            "curl {path}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let mut want_points = expected(&["sdk-grpc", "sdk-http"], COUNT);
    want_points.extend(expected(&["curl"], 3));
    let metrics_file = dir.path().join("tagged_metrics.json");
    let logs_file = dir.path().join("tagged_logs.json");
    weir.wait_for(
        "every data point and log record in the files",
        Duration::from_secs(60),
        |_| {
            tagged_items(
                &metrics_file,
                "resourceMetrics",
                &["scopeMetrics", "metrics", "*dataPoints"],
            ) == want_points
                && tagged_items(&logs_file, "resourceLogs", &["scopeLogs", "logRecords"])
                    == want_points
        },
    );
    // Traces go to the debug exporter: every span, tagged, on stdout.
    weir.wait_for("every span printed tagged", Duration::from_secs(30), |w| {
        let out = w.stdout();
        let tagged = out.matches(&format!("-> org_name: Str({TAG})")).count();
        let spans_sent = 2 * COUNT as usize + 1; // SDK over gRPC and HTTP, and curl's one
        tagged >= spans_sent
            && out.contains("curl-span")
            && (0..COUNT).all(|i| out.contains(&format!("span-{i}")))
    });
    assert!(
        weir.metric(
            "weir_receiver_accepted_items_total",
            &[("signal", "metrics")]
        ) >= (2 * COUNT + 3) as f64
    );
}

#[test]
fn clients_without_a_good_certificate_are_refused_and_the_collector_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    generate_certs(dir.path(), "e2e-client");
    let other = tempfile::tempdir().unwrap();
    generate_certs(other.path(), "intruder");
    let mut weir = Weir::start(dir.path(), &config());
    let http = format!("https://127.0.0.1:{}/v1/metrics", weir.http.unwrap().port());
    let ca = dir.path().join("ca.crt").display().to_string();
    let post = |extra: &[String]| {
        let mut args: Vec<String> = vec!["--cacert".into(), ca.clone()];
        args.extend(extra.iter().cloned());
        args.extend(
            [
                "-H",
                "Content-Type: application/json",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--data-binary",
            ]
            .map(String::from),
        );
        args.push(curl_metrics_json());
        args.push(http.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&args)
    };
    let with_cert = |d: &Path| {
        vec![
            "--cert".to_string(),
            d.join("client.crt").display().to_string(),
            "--key".to_string(),
            d.join("client.key").display().to_string(),
        ]
    };

    // No client certificate: the handshake fails (curl reports an SSL error, no HTTP status).
    let out = post(&[]);
    assert!(
        !out.status.success(),
        "no-cert client was accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A certificate from another CA: refused too.
    let out = post(&with_cert(other.path()));
    assert!(
        !out.status.success(),
        "foreign-CA client was accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The Python SDK over gRPC with a foreign certificate fails to export.
    let mut env = sdk_env(
        dir.path(),
        "grpc",
        format!("https://127.0.0.1:{}", weir.grpc.unwrap().port()),
    );
    env.retain(|(k, _)| !k.contains("CLIENT"));
    env.push((
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        other.path().join("client.crt").display().to_string(),
    ));
    env.push((
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        other.path().join("client.key").display().to_string(),
    ));
    env.push(("OTEL_EXPORTER_OTLP_TIMEOUT", "5".into()));
    let out = python_send(&env, &["--signals", "metrics", "--count", "1"]);
    assert!(
        !out.status.success(),
        "foreign-CA gRPC client exported: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    assert!(weir.is_running());
    let out = post(&with_cert(dir.path()));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        weir.metric("weir_receiver_tls_handshake_failures_total", &[]) >= 3.0,
        "{}",
        weir.metrics()
    );
    assert!(weir.stop().success());
}

/// Three metric data points (seq 0..2) as OTLP/JSON, as a user would write them.
pub fn curl_metrics_json() -> String {
    let points: Vec<String> = (0..3)
        .map(|i| format!(r#"{{"asInt":"{v}","timeUnixNano":"1700000000000000000","attributes":[{{"key":"seq","value":{{"intValue":"{i}"}}}}]}}"#, v = i + 1))
        .collect();
    format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"curl"}}}},{{"key":"run.id","value":{{"stringValue":"curl"}}}}]}},"scopeMetrics":[{{"scope":{{"name":"curl"}},"metrics":[{{"name":"curl.requests","unit":"1","sum":{{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{}]}}}}]}}]}}]}}"#,
        points.join(",")
    )
}

pub fn curl_logs_json() -> String {
    let records: Vec<String> = (0..3)
        .map(|i| format!(r#"{{"timeUnixNano":"1700000000000000000","severityNumber":9,"severityText":"INFO","body":{{"stringValue":"curl log {i}"}},"attributes":[{{"key":"seq","value":{{"intValue":{i}}}}}]}}"#))
        .collect();
    format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"run.id","value":{{"stringValue":"curl"}}}}]}},"scopeLogs":[{{"scope":{{}},"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    )
}

pub fn curl_traces_json() -> String {
    r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"run.id","value":{"stringValue":"curl"}}]},"scopeSpans":[{"scope":{"name":"curl"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"curl-span","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000","attributes":[{"key":"seq","value":{"intValue":"0"}}]}]}]}]}"#.to_string()
}
