//! Generator → the real `weir` binary (receiver, batch, the `attributes`
//! plugin, the `file` exporter writing `format: proto` into a FIFO) → sink
//! reading that FIFO: every stamped span arrives exactly once, tagged.
//!
//! Needs `weir` built beside this test (`cargo test --workspace` builds it;
//! alone: `cargo build -p weir` first), or its path in `WEIR_BIN`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const LOADGEN: &str = env!("CARGO_BIN_EXE_weir-loadgen");

/// `$WEIR_BIN`, else `target/<profile>/weir`, next to this test's `deps/` folder.
fn weir_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("WEIR_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let weir = profile_dir.join("weir");
    assert!(
        weir.exists(),
        "{} is not built: run `cargo build -p weir` (or `cargo test --workspace`)",
        weir.display()
    );
    weir
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_span_crosses_weir_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("spans.fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());

    // The sink first: weir opens the FIFO for writing, which waits for a reader.
    let sink = Command::new(LOADGEN)
        .args([
            "--sink",
            "--json",
            "--signal",
            "traces",
            "--expect",
            "8000",
            "--idle-exit",
            "120",
        ])
        .arg("--from-file")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 100ms, send_batch_size: 2048}}
  attributes/tag:
    actions: [{{key: org_name, value: loadgen-test, action: insert}}]
exporters:
  file/sink: {{path: {}, format: proto}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch, attributes/tag], exporters: [file/sink]}}
"#,
            fifo.display()
        ),
    )
    .unwrap();
    let mut weir = Command::new(weir_binary())
        .arg("--config")
        .arg(&config)
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = weir.stderr.take().unwrap();
    let weir = Killed(weir);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut grpc, mut http) = (None, None);
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(180))
            .expect("weir did not become ready");
        let address = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("address="))
            .map(str::to_owned);
        if line.contains("transport=\"grpc\"") {
            grpc = address;
        } else if line.contains("transport=\"http\"") {
            http = address;
        }
        if line.contains(" ready") {
            break;
        }
    }

    // Ids 0..5000 over gRPC, then 5000..8000 over HTTP.
    for (target, extra) in [
        (
            grpc.as_deref().unwrap(),
            ["--grpc", "--count", "5000", "--first-id", "0"],
        ),
        (
            http.as_deref().unwrap(),
            ["--http", "--count", "3000", "--first-id", "5000"],
        ),
    ] {
        let out = Command::new(LOADGEN)
            .args(["--target", target, "--json", "--batch", "500"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let generated: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(generated["items_accepted"], generated["items_sent"]);
    }

    let out = sink.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("sink: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let traces = &report["signals"][0];
    assert_eq!(report["stopped_by"], "expect", "{report}");
    assert_eq!(traces["signal"], "traces");
    assert_eq!(traces["distinct_ids"], 8000);
    assert_eq!(traces["duplicate_ids"], 0);
    assert_eq!(traces["missing_ids"], 0);
    assert_eq!(traces["latency"]["count"], 8000);
    drop(weir);
}
