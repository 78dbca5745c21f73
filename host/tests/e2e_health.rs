//! The `health_check` extension through the real binary: 200 with the Go
//! collector's body on its path and on `/healthz` while running, 404
//! elsewhere; not listening when it is declared but not enabled.

mod common;

use common::*;

const CONFIG: &str = r#"
extensions:
  health_check:
    endpoint: 127.0.0.1:0
    path: /health/status
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
exporters:
  debug:
service:
  extensions: [health_check]
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
"#;

fn get(url: &str) -> (String, String) {
    let out = curl(&["-sS", "-w", "\n%{http_code}", url]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.to_string(), body.to_string())
}

#[test]
fn answers_ready_on_its_path_and_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), CONFIG);
    let addr = weir.health.expect("health_check logs where it listens");
    for path in ["/health/status", "/healthz"] {
        let (status, body) = get(&format!("http://{addr}{path}"));
        assert_eq!(status, "200", "{path}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["status"], "Server available");
        assert!(body["upSince"].as_str().unwrap().contains('T'), "{body}");
    }
    let (status, _) = get(&format!("http://{addr}/elsewhere"));
    assert_eq!(status, "404");
    weir.stop();
}

#[test]
fn declared_but_not_enabled_does_not_listen() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(
        dir.path(),
        &CONFIG.replace("  extensions: [health_check]\n", ""),
    );
    assert_eq!(weir.health, None);
    weir.stop();
}
