//! The real `weir-loadgen` binary as generator and as sink, over real
//! sockets: every item sent is counted exactly once, and loss, duplicates,
//! refusals and failed TLS are reported as such.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const LOADGEN: &str = env!("CARGO_BIN_EXE_weir-loadgen");

/// A sink child process and the address it listens on.
struct Sink {
    child: Child,
    addr: SocketAddr,
}

impl Sink {
    fn start(args: &[&str]) -> Sink {
        let mut child = Command::new(LOADGEN)
            .args(["--sink", "--listen", "127.0.0.1:0", "--json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the sink");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("weir-loadgen sink listening on ") {
                    let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the sink says where it listens");
        Sink { child, addr }
    }

    /// Waits for the sink to stop on its own and returns its JSON report.
    fn report(self) -> Value {
        let out = self.child.wait_with_output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "sink printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// SIGTERM, then the report.
    fn stop(self) -> Value {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.report()
    }
}

/// Runs the generator to completion; its JSON report and whether it exited 0.
fn generate(target: SocketAddr, args: &[&str]) -> (Value, bool) {
    let out = Command::new(LOADGEN)
        .args(["--target", &target.to_string(), "--json"])
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "generator printed no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.success())
}

fn signal<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["signal"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

#[test]
fn grpc_traces_arrive_exactly_once() {
    let sink = Sink::start(&["--expect", "10500", "--idle-exit", "60"]);
    // 10.5 batches of 1000 over 4 connections: the last request is short.
    let (gen_report, ok) = generate(
        sink.addr,
        &["--count", "10500", "--connections", "4", "--batch", "1000"],
    );
    assert!(ok, "{gen_report}");
    assert_eq!(gen_report["items_sent"], 10500);
    assert_eq!(gen_report["items_accepted"], 10500);
    assert_eq!(gen_report["requests"], 11);
    assert_eq!(gen_report["latency"]["count"], 11);
    let report = sink.report();
    assert_eq!(report["stopped_by"], "expect");
    let traces = signal(&report, "traces");
    assert_eq!(traces["items"], 10500);
    assert_eq!(traces["requests"], 11);
    assert_eq!(traces["distinct_ids"], 10500);
    assert_eq!(traces["duplicate_ids"], 0);
    assert_eq!(traces["missing_ids"], 0);
    assert_eq!(traces["max_id"], 10499);
    assert_eq!(traces["latency"]["count"], 10500);
}

#[test]
fn http_logs_and_metrics_at_a_fixed_rate() {
    let sink = Sink::start(&["--http", "--idle-exit", "5"]);
    let start = std::time::Instant::now();
    // 2,000 items at 4,000/s: about half a second, paced.
    let (logs, ok) = generate(
        sink.addr,
        &[
            "--http", "--signal", "logs", "--count", "2000", "--batch", "100", "--rate", "4000",
        ],
    );
    assert!(ok, "{logs}");
    assert!(
        start.elapsed() >= Duration::from_millis(450),
        "not paced: {logs}"
    );
    let (metrics, ok) = generate(
        sink.addr,
        &[
            "--http",
            "--signal",
            "metrics",
            "--count",
            "777",
            "--batch",
            "50",
            "--connections",
            "2",
        ],
    );
    assert!(ok, "{metrics}");
    assert_eq!(metrics["items_accepted"], 777);
    let report = sink.report();
    assert_eq!(report["stopped_by"], "idle");
    let logs = signal(&report, "logs");
    assert_eq!(
        (logs["distinct_ids"].as_u64(), logs["missing_ids"].as_u64()),
        (Some(2000), Some(0))
    );
    let metrics = signal(&report, "metrics");
    assert_eq!(metrics["items"], 777);
    assert_eq!(metrics["distinct_ids"], 777);
    assert_eq!(metrics["duplicate_ids"], 0);
}

#[test]
fn duplicates_and_losses_are_counted_exactly() {
    let sink = Sink::start(&["--expect", "5000", "--idle-exit", "5"]);
    // Ids 0..3000, twice: 3000 duplicates, and 3000..5000 never sent.
    for _ in 0..2 {
        let (r, ok) = generate(sink.addr, &["--count", "3000", "--batch", "128"]);
        assert!(ok, "{r}");
    }
    let report = sink.report();
    assert_eq!(report["stopped_by"], "idle");
    let traces = signal(&report, "traces");
    assert_eq!(traces["items"], 6000);
    assert_eq!(traces["distinct_ids"], 3000);
    assert_eq!(traces["duplicate_ids"], 3000);
    assert_eq!(traces["missing_ids"], 2000);
    assert_eq!(traces["first_missing"][0], 3000);
}

#[test]
fn refusals_are_reported_by_status() {
    // A gRPC-only sink answers OTLP/HTTP with 404.
    let sink = Sink::start(&["--grpc"]);
    let (report, ok) = generate(sink.addr, &["--http", "--count", "250", "--batch", "100"]);
    assert!(!ok);
    assert_eq!(report["items_accepted"], 0);
    assert_eq!(report["items_failed"], 250);
    // Each of the 3 requests is refused with 404, or, when the sink closed
    // the connection after a 404 (it does not read an unexpected body), fails
    // to send on it; the first one always sees the 404.
    let refused = report["refused"]["http 404"].as_u64().unwrap_or(0);
    let errors: u64 = report["errors"]
        .as_object()
        .map(|e| e.values().filter_map(|n| n.as_u64()).sum())
        .unwrap_or(0);
    assert!(refused >= 1, "{report}");
    assert_eq!(refused + errors, 3, "{report}");
    let sink_report = sink.stop();
    assert_eq!(sink_report["stopped_by"], "signal");
    assert!(sink_report["signals"].as_array().unwrap().is_empty());
}

#[test]
fn mtls_needs_the_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let path = |name: &str| certs.join(name).to_str().unwrap().to_owned();
    let sink = Sink::start(&[
        "--cert",
        &path("server.crt"),
        "--key",
        &path("server.key"),
        "--ca",
        &path("ca.crt"),
        "--idle-exit",
        "5",
    ]);
    // Without a client certificate the handshake is refused: the generator
    // cannot connect at all.
    let out = Command::new(LOADGEN)
        .args([
            "--target",
            &sink.addr.to_string(),
            "--count",
            "10",
            "--ca",
            &path("ca.crt"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    for protocol in ["--grpc", "--http"] {
        let (report, ok) = generate(
            sink.addr,
            &[
                protocol,
                "--signal",
                "metrics",
                "--count",
                "1500",
                "--batch",
                "500",
                "--ca",
                &path("ca.crt"),
                "--cert",
                &path("client.crt"),
                "--key",
                &path("client.key"),
            ],
        );
        assert!(ok, "{report}");
        assert_eq!(report["items_accepted"], 1500);
    }
    let report = sink.report();
    let metrics = signal(&report, "metrics");
    // Both runs stamped ids 0..1500.
    assert_eq!(metrics["items"], 3000);
    assert_eq!(metrics["distinct_ids"], 1500);
    assert_eq!(metrics["duplicate_ids"], 1500);
}

#[test]
fn a_payload_file_is_replayed_and_stamped() {
    let dir = tempfile::tempdir().unwrap();
    // A request made by another encoder: a fixed, hand-built gRPC frame
    // around a request of 3 spans.
    let request = three_span_request();
    let mut framed = vec![0];
    framed.extend_from_slice(&(request.len() as u32).to_be_bytes());
    framed.extend_from_slice(&request);
    let file = dir.path().join("traces-three.grpc");
    std::fs::write(&file, &framed).unwrap();
    let sink = Sink::start(&["--expect", "10", "--idle-exit", "60"]);
    let (report, ok) = generate(
        sink.addr,
        &[
            "--payload-file",
            file.to_str().unwrap(),
            "--count",
            "10",
            "--connections",
            "1",
        ],
    );
    assert!(ok, "{report}");
    // 3 + 3 + 3 + 1.
    assert_eq!(report["requests"], 4);
    let report = sink.report();
    let traces = signal(&report, "traces");
    assert_eq!(traces["distinct_ids"], 10);
    assert_eq!(traces["missing_ids"], 0);

    // The shared payloads, when this checkout has them beside it.
    let shared = Path::new("/work/shared/otlp-payloads/logs-r10-i100.pb");
    if shared.exists() {
        let sink = Sink::start(&["--http", "--expect", "2500", "--idle-exit", "60"]);
        let (report, ok) = generate(
            sink.addr,
            &[
                "--http",
                "--payload-file",
                shared.to_str().unwrap(),
                "--count",
                "2500",
            ],
        );
        assert!(ok, "{report}");
        let report = sink.report();
        let logs = signal(&report, "logs");
        assert_eq!(logs["distinct_ids"], 2500);
        assert_eq!(logs["missing_ids"], 0);
    }
}

/// `resource_spans { scope_spans { spans × 3 } }`, each span with a name,
/// written byte by byte.
fn three_span_request() -> Vec<u8> {
    let span: &[u8] = &[0x2a, 0x01, b's']; // name = "s" (field 5)
    let mut scope = Vec::new();
    for _ in 0..3 {
        scope.extend_from_slice(&[0x12, span.len() as u8]);
        scope.extend_from_slice(span);
    }
    let mut resource = vec![0x12, scope.len() as u8];
    resource.extend_from_slice(&scope);
    let mut request = vec![0x0a, resource.len() as u8];
    request.extend_from_slice(&resource);
    request
}

/// CA, server (127.0.0.1) and client certificates in `dir`.
fn make_certs(dir: &Path) -> PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .signed_by(&client_key, &ca)
        .unwrap();
    for (name, pem) in [
        ("ca.crt", ca.pem()),
        ("server.crt", server.pem()),
        ("server.key", server_key.serialize_pem()),
        ("client.crt", client.pem()),
        ("client.key", client_key.serialize_pem()),
    ] {
        std::fs::write(dir.join(name), pem).unwrap();
    }
    dir.to_path_buf()
}
