//! Bad input, through the real binary and real clients: each case gets its
//! precise status, is counted in the collector's own metrics, and the
//! collector keeps serving the next good request.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::*;

const CONFIG: &str = r#"
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 1}
      http: {endpoint: 127.0.0.1:0, max_request_body_size: 1048576}
processors:
  batch: {timeout: 100ms}
exporters:
  file: {path: out.json}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [file]}
"#;

const TRACES: &str = "/v1/traces";
const GRPC_TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// A valid one-span OTLP/JSON traces request.
const GOOD_JSON: &str = r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok"}]}]}]}"#;

/// POSTs `body` (a file) with `content_type`, returning (status, body).
fn post(
    addr: &str,
    path: &str,
    content_type: &str,
    body: &Path,
    extra: &[&str],
) -> (String, String) {
    let url = format!("http://{addr}{path}");
    let header = format!("Content-Type: {content_type}");
    let data = format!("@{}", body.display());
    let mut args = vec![
        "-H",
        header.as_str(),
        "-w",
        "\n%{http_code}",
        "--data-binary",
        data.as_str(),
    ];
    args.extend_from_slice(extra);
    args.push(url.as_str());
    let out = curl(&args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    (status.to_string(), body.to_string())
}

fn file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn grpc_raw(addr: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/grpc_raw.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(addr)
        .arg(GRPC_TRACES)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "grpc_raw: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn each_bad_request_gets_its_status_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut weir = Weir::start(dir.path(), CONFIG);
    let http = weir.http.unwrap().to_string();
    let grpc = weir.grpc.unwrap().to_string();
    let d = dir.path();

    // A valid protobuf request, truncated by a byte: 400 with the scan's reason.
    let good = file(d, "good.json", GOOD_JSON.as_bytes());
    let (status, _) = post(&http, TRACES, "application/json", &good, &[]);
    assert_eq!(status, "200");
    let proto = hex_span_request();
    let truncated = file(d, "truncated.pb", &proto[..proto.len() - 1]);
    let (status, body) = post(&http, TRACES, "application/x-protobuf", &truncated, &[]);
    assert_eq!(status, "400", "{body}");

    let cases: Vec<(&str, String, &str, std::path::PathBuf, Vec<&str>)> = vec![
        (
            "wrong content type",
            "415".into(),
            "text/plain",
            good.clone(),
            vec![],
        ),
        (
            "invalid JSON",
            "400".into(),
            "application/json",
            file(d, "bad.json", b"{\"resourceSpans\": [}"),
            vec![],
        ),
        (
            "empty JSON body",
            "400".into(),
            "application/json",
            file(d, "empty.json", b""),
            vec![],
        ),
        (
            "empty protobuf body",
            "200".into(),
            "application/x-protobuf",
            file(d, "empty.pb", b""),
            vec![],
        ),
        (
            "body over the limit",
            "413".into(),
            "application/x-protobuf",
            file(d, "big.pb", &vec![0u8; 2 * 1024 * 1024]),
            vec![],
        ),
        (
            "gzip bomb",
            "413".into(),
            "application/x-protobuf",
            file(d, "bomb.gz", &gzip(&vec![0u8; 64 * 1024 * 1024])),
            vec!["-H", "Content-Encoding: gzip"],
        ),
    ];
    for (what, want, content_type, body, extra) in &cases {
        let (status, text) = post(&http, TRACES, content_type, body, extra);
        assert_eq!(&status, want, "{what}: {text}");
        if want != "200" {
            assert!(
                !text.is_empty(),
                "{what}: an error response carries a status message"
            );
        }
    }
    // A signal no pipeline takes: 404, as the Go collector answers for a service it did not register.
    let (status, text) = post(
        &http,
        "/v1/logs",
        "application/json",
        &file(
            d,
            "logs.json",
            br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}"#,
        ),
        &[],
    );
    assert_eq!(status, "404", "{text}");
    assert!(text.contains("no pipeline takes logs"), "{text}");
    // gRPC: malformed → INVALID_ARGUMENT; over the limit → RESOURCE_EXHAUSTED without a retry hint.
    let reply = grpc_raw(&grpc, &["--hex", &hex(&proto[..proto.len() - 1])]);
    assert!(reply.starts_with("INVALID_ARGUMENT"), "{reply}");
    let reply = grpc_raw(&grpc, &["--repeat", "00:2000000"]);
    assert!(
        reply.starts_with("RESOURCE_EXHAUSTED") && !reply.contains("retry-info"),
        "{reply}"
    );
    let reply = grpc_raw(&grpc, &["--repeat", "00:60000000", "--gzip"]);
    assert!(
        reply.starts_with("RESOURCE_EXHAUSTED"),
        "gzip bomb over gRPC: {reply}"
    );
    let reply = grpc_raw(&grpc, &["--hex", &hex(&proto)]);
    assert!(reply.starts_with("OK"), "{reply}");

    // Still serving, and every refusal is counted by outcome.
    assert!(weir.is_running());
    let (status, _) = post(&http, TRACES, "application/json", &good, &[]);
    assert_eq!(status, "200");
    let metrics = weir.metrics();
    for (outcome, at_least) in [
        ("invalid", 4.0),
        ("unsupported_media_type", 1.0),
        ("too_large", 4.0),
        ("accepted", 4.0),
    ] {
        let n = metric_value(
            &metrics,
            "weir_receiver_requests_total",
            &[("outcome", outcome)],
        );
        assert!(
            n >= at_least,
            "outcome {outcome}: {n} < {at_least}\n{metrics}"
        );
    }
}

#[test]
fn a_config_with_unknown_keys_is_refused_with_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        CONFIG
            .replace(
                "batch: {timeout: 100ms}",
                "batch: {timeout: 100ms, sise: 1}",
            )
            .replace("grpc: {", "grpc: {endpont: x, "),
    )
    .unwrap();
    let out = Command::new(WEIR)
        .args(["validate", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("bad.yaml:5: receivers.otlp.protocols.grpc.endpont: unknown field `endpont`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.yaml:8: processors.batch.sise: unknown field `sise`"),
        "{stderr}"
    );
    assert!(stderr.contains("2 errors"), "{stderr}");
    // `run` refuses it too, with the same messages.
    let out = Command::new(WEIR)
        .args(["--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `endpont`"));
    // And a good one validates.
    std::fs::write(&path, CONFIG).unwrap();
    let out = Command::new(WEIR)
        .args(["validate", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn plugin_settings_are_checked_by_validate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    let config = CONFIG
        .replace(
            "batch: {timeout: 100ms}",
            "batch: {timeout: 100ms}\n  attributes: {actions: [{key: k, action: hash}]}",
        )
        .replace("processors: [batch]", "processors: [batch, attributes]")
        .replace(
            "file: {path: out.json}",
            "file: {path: out.json, format: yaml}",
        );
    std::fs::write(&path, config).unwrap();
    let out = Command::new(WEIR)
        .args(["validate", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Each names the setting at fault and its line.
    assert!(
        stderr.contains(
            "bad.yaml:9: processors.attributes.actions[0].action: `hash` is not supported yet"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.yaml:11: exporters.file.format: expected json or proto"),
        "{stderr}"
    );
}

/// A one-span ExportTraceServiceRequest, hand-encoded: resource_spans {
/// scope_spans { spans { trace_id, span_id, name } } }.
fn hex_span_request() -> Vec<u8> {
    let mut span = vec![0x0a, 16];
    span.extend([0x5b; 16]);
    span.extend([0x12, 8]);
    span.extend([0xee; 8]);
    span.extend([0x2a, 2, b'o', b'k']);
    let mut scope = vec![0x12, span.len() as u8];
    scope.extend(span);
    let mut resource = vec![0x12, scope.len() as u8];
    resource.extend(scope);
    let mut request = vec![0x0a, resource.len() as u8];
    request.extend(resource);
    request
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn memory_pressure_gets_429_and_resource_exhausted_with_a_retry_hint() {
    // A 1 MiB budget (2 MiB limit, 1 MiB spike headroom) held by a batcher
    // that waits a minute: the third 400 KB request does not fit.
    let config = r#"
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0}
      http: {endpoint: 127.0.0.1:0}
processors:
  memory_limiter: {check_interval: 2s, limit_mib: 2, spike_limit_mib: 1}
  batch: {timeout: 60s, send_batch_size: 0}
exporters:
  file: {path: out.json}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [file]}
"#;
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), config);
    let http = weir.http.unwrap().to_string();
    let grpc = weir.grpc.unwrap().to_string();
    let big = file(dir.path(), "big.pb", &padded_span_request(400 * 1024));
    assert_eq!(
        post(&http, TRACES, "application/x-protobuf", &big, &[]).0,
        "200"
    );
    assert_eq!(
        post(&http, TRACES, "application/x-protobuf", &big, &[]).0,
        "200"
    );
    let out = curl(&[
        "-i",
        "-H",
        "Content-Type: application/x-protobuf",
        "--data-binary",
        &format!("@{}", big.display()),
        &format!("http://{http}{TRACES}"),
    ]);
    let response = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(response.starts_with("http/1.1 429"), "{response}");
    assert!(response.contains("retry-after: 2"), "{response}");
    let reply = grpc_raw(&grpc, &["--file", big.to_str().unwrap()]);
    assert!(
        reply.starts_with("RESOURCE_EXHAUSTED") && reply.contains("retry-info"),
        "{reply}"
    );
    assert!(weir.metric("weir_memory_refused_requests_total", &[]) >= 2.0);
    assert!(weir.metric("weir_receiver_requests_total", &[("outcome", "exhausted")]) >= 2.0);
}

/// A one-span request whose span name is `size` bytes long.
fn padded_span_request(size: usize) -> Vec<u8> {
    fn field(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let mut len = body.len();
        while len >= 0x80 {
            out.push((len as u8 & 0x7f) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(body);
        out
    }
    let mut span = field(0x0a, &[0x5b; 16]);
    span.extend(field(0x12, &[0xee; 8]));
    span.extend(field(0x2a, &vec![b'x'; size]));
    field(0x0a, &field(0x12, &field(0x12, &span)))
}
