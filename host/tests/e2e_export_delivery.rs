//! Delivery to a network endpoint, end to end: the real `weir` binary takes
//! OTLP/HTTP logs and sends them with the `otlphttp` exporter to a loopback
//! server that plays outages, refusals and throttling.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Weir;
use common::sink::{Received, Reply, Sink, always_ok};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;

/// A logs request whose records carry `seq` = `first..first+count`.
fn logs(first: i64, count: i64) -> Vec<u8> {
    common::seqlogs::logs(first, count, 0)
}

/// POSTs OTLP protobuf; the status and the `Retry-After` header.
fn post(addr: SocketAddr, path: &str, body: &[u8]) -> (u16, Option<String>) {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        tcp,
        "POST {path} HTTP/1.1\r\nHost: weir\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    tcp.write_all(body).unwrap();
    let mut response = String::new();
    let _ = tcp.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let retry_after = response
        .lines()
        .find_map(|l| {
            l.strip_prefix("retry-after: ")
                .or_else(|| l.strip_prefix("Retry-After: "))
        })
        .map(|v| v.trim().to_string());
    (status, retry_after)
}

/// The `seq` of every record a request carried.
fn seqs(r: &Received) -> Vec<i64> {
    let request = ExportLogsServiceRequest::decode(r.decoded().as_slice()).expect("OTLP logs");
    request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .filter_map(|lr| match lr.attributes[0].value.as_ref()?.value {
            Some(any_value::Value::IntValue(i)) => Some(i),
            _ => None,
        })
        .collect()
}

fn config(endpoint: &str, batch: bool, delivery: &str) -> String {
    let processors = if batch { "[batch]" } else { "[]" };
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
      grpc: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 200ms, send_batch_size: 100}}
exporters:
  otlphttp:
    endpoint: {endpoint}
{delivery}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: {processors}, exporters: [otlphttp]}}
"#
    )
}

#[test]
fn an_outage_of_30s_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, always_ok());
    let weir = Weir::start(
        dir.path(),
        &config(
            &format!("http://{}", sink.addr),
            true,
            "    retry_on_failure: {initial_interval: 200ms, max_interval: 2s, max_elapsed_time: 5m}\n    sending_queue: {queue_size: 100000}",
        ),
    );
    let http = weir.http.unwrap();
    let started = Instant::now();
    let mut accepted = Vec::new();
    let mut refused = 0;
    let mut paused = false;
    let mut seq = 0;
    // Data flows for 40 s; the server is down from 5 s to 35 s.
    while started.elapsed() < Duration::from_secs(40) {
        let t = started.elapsed();
        if !paused && t > Duration::from_secs(5) && t < Duration::from_secs(35) {
            sink.pause();
            paused = true;
        }
        if paused && t >= Duration::from_secs(35) {
            sink.resume();
            paused = false;
        }
        let (status, _) = post(http, "/v1/logs", &logs(seq, 10));
        match status {
            200 => accepted.extend(seq..seq + 10),
            429 | 503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
        seq += 10;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(accepted.len() > 3000, "{} accepted", accepted.len());
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    while Instant::now() < deadline {
        counts.clear();
        for r in sink.received() {
            for s in seqs(&r) {
                *counts.entry(s).or_default() += 1;
            }
        }
        if counts.len() >= accepted.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let missing: Vec<i64> = accepted
        .iter()
        .copied()
        .filter(|s| !counts.contains_key(s))
        .collect();
    assert!(
        missing.is_empty(),
        "{} accepted items never arrived, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "items arrived more than once: {:?}",
        &twice[..twice.len().min(10)]
    );
    assert_eq!(
        counts.len(),
        accepted.len(),
        "items arrived that were never accepted"
    );
    let retries = weir.metric("weir_exporter_retries_total", &[("exporter", "otlphttp")]);
    assert!(retries > 0.0, "the outage caused no retries");
    assert_eq!(weir.metric("weir_exporter_failed_items_total", &[]), 0.0);
    eprintln!(
        "outage: {} items accepted ({refused} requests refused), all delivered once after {retries} retries",
        accepted.len()
    );
}

#[test]
fn a_400_is_not_retried_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(
        None,
        Arc::new(|_, _| {
            let mut r = Reply::status(400);
            r.body = b"invalid labels".to_vec();
            r
        }),
    );
    let weir = Weir::start(
        dir.path(),
        &config(
            &format!("http://{}", sink.addr),
            false,
            "    retry_on_failure: {initial_interval: 50ms}",
        ),
    );
    for i in 0..3 {
        assert_eq!(post(weir.http.unwrap(), "/v1/logs", &logs(i * 5, 5)).0, 200);
    }
    weir.wait_for("3 permanent failures", Duration::from_secs(30), |w| {
        w.metric(
            "weir_exporter_permanent_failures_total",
            &[("exporter", "otlphttp")],
        ) >= 3.0
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(sink.received().len(), 3, "a 400 was retried");
    assert_eq!(weir.metric("weir_exporter_retries_total", &[]), 0.0);
    assert_eq!(
        weir.metric(
            "weir_exporter_failed_items_total",
            &[("exporter", "otlphttp"), ("signal", "logs")]
        ),
        15.0
    );
    let log = weir.stderr();
    assert!(
        log.contains("not retried") && log.contains("HTTP 400 Bad Request: invalid labels"),
        "{log}"
    );
}

#[test]
fn a_429_with_retry_after_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(
        None,
        Arc::new(|_, n| {
            if n == 0 {
                Reply::status(429).with_header("retry-after", "2")
            } else {
                Reply::status(200)
            }
        }),
    );
    let weir = Weir::start(
        dir.path(),
        &config(
            &format!("http://{}", sink.addr),
            false,
            "    retry_on_failure: {initial_interval: 50ms, randomization_factor: 0}",
        ),
    );
    assert_eq!(post(weir.http.unwrap(), "/v1/logs", &logs(0, 5)).0, 200);
    let got = sink.wait_for(2, Duration::from_secs(30));
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_millis(1950),
        "retried after {gap:?}, before Retry-After: 2"
    );
    assert_eq!(seqs(&got[1]), [0, 1, 2, 3, 4]);
    weir.wait_for("5 items sent", Duration::from_secs(10), |w| {
        w.metric(
            "weir_exporter_sent_items_total",
            &[("exporter", "otlphttp")],
        ) == 5.0
    });
}

#[test]
fn a_full_queue_refuses_clients_with_a_retry_hint() {
    let dir = tempfile::tempdir().unwrap();
    // The endpoint keeps failing and the retry waits long: the one consumer
    // holds its batch, the queue fills.
    let sink = Sink::start(None, Arc::new(|_, _| Reply::status(503)));
    let weir = Weir::start(
        dir.path(),
        &config(
            &format!("http://{}", sink.addr),
            false,
            "    retry_on_failure: {initial_interval: 30s, randomization_factor: 0}\n    sending_queue: {queue_size: 2, num_consumers: 1, retry_after: 3s}",
        ),
    );
    let http = weir.http.unwrap();
    assert_eq!(post(http, "/v1/logs", &logs(0, 1)).0, 200);
    assert_eq!(post(http, "/v1/logs", &logs(1, 1)).0, 200);
    let (status, retry_after) = post(http, "/v1/logs", &logs(2, 1));
    assert_eq!(status, 429);
    assert_eq!(retry_after.as_deref(), Some("3"));
    // gRPC clients get RESOURCE_EXHAUSTED with a RetryInfo.
    let out = std::process::Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/grpc_raw.py"))
        .args([
            &weir.grpc.unwrap().to_string(),
            "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            "--hex",
            &hex(&logs(3, 1)),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("RESOURCE_EXHAUSTED") && text.contains("retry-info"),
        "{text}"
    );
    assert!(
        weir.metric(
            "weir_exporter_queue_refusals_total",
            &[("exporter", "otlphttp")]
        ) >= 2.0
    );
    assert_eq!(
        weir.metric("weir_exporter_queue_size", &[("exporter", "otlphttp")]),
        2.0
    );
    // Nothing acknowledged was dropped: both accepted batches are still held.
    assert_eq!(weir.metric("weir_exporter_failed_items_total", &[]), 0.0);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn validate_reports_bad_host_and_plugin_keys_of_network_exporters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:1
    tls: {ca: ca.crt}
  loki:
    endpoint: http://127.0.0.1:1
    line_format: xml
  prometheusremotewrite:
    endpoint: http://127.0.0.1:1/api/v1/write
    tls: {ca_file: /nonexistent/ca.crt}
  otlp:
    endpoint: 127.0.0.1:1
    retry_on_failure: {multiplier: 0.5}
service:
  pipelines:
    logs: {receivers: [otlp], exporters: [otlphttp, loki, otlp]}
    metrics: {receivers: [otlp], exporters: [prometheusremotewrite]}
"#,
    )
    .unwrap();
    let out = std::process::Command::new(common::WEIR)
        .args(["validate", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    for want in [
        // Each names the setting's own path and line.
        "bad.yaml:9: exporters.otlphttp.tls.ca: unknown field `ca`",
        "bad.yaml:12: exporters.loki.line_format: unknown variant `xml`",
        "exporters.prometheusremotewrite: tls.ca_file /nonexistent/ca.crt",
        "bad.yaml:18: exporters.otlp.retry_on_failure.multiplier: expected at least 1",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
}
