//! The configs Weir ships in `config/`: every environment validates, and a
//! trace sent through staging — TLS, basic auth, tail sampling — reaches
//! "Tempo" (a second `weir` receiving OTLP/gRPC) tagged with the environment.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

fn base_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/collector.yaml")
}

/// Certificates and a bcrypt htpasswd file with user `team-a`.
fn secrets(dir: &Path) -> Vec<(&'static str, String)> {
    generate_certs(dir, "weir-client");
    let htpasswd = format!("team-a:{}\n", bcrypt::hash("s3cret", 8).unwrap());
    std::fs::write(dir.join("htpasswd"), htpasswd).unwrap();
    vec![
        ("WEIR_TLS_DIR", dir.display().to_string()),
        ("WEIR_HTPASSWD", dir.join("htpasswd").display().to_string()),
        ("WEIR_OTLP_GRPC_ENDPOINT", "127.0.0.1:0".into()),
        ("WEIR_OTLP_HTTP_ENDPOINT", "127.0.0.1:0".into()),
        ("WEIR_HEALTH_ENDPOINT", "127.0.0.1:0".into()),
        ("WEIR_PROMETHEUS_ENDPOINT", "127.0.0.1:0".into()),
        ("WEIR_TELEMETRY_ADDRESS", "127.0.0.1:0".into()),
        // Nothing listens there: these pipelines get no data in the test.
        ("LOKI_ENDPOINT", "http://127.0.0.1:9".into()),
        (
            "PROMETHEUS_RW_URL",
            "http://127.0.0.1:9/api/v1/write".into(),
        ),
    ]
}

#[test]
fn every_shipped_environment_validates() {
    let dir = tempfile::tempdir().unwrap();
    let env = secrets(dir.path());
    for name in ["dev", "staging", "prod"] {
        let out = Command::new(WEIR)
            .args([
                "validate",
                "--config",
                base_config().to_str().unwrap(),
                "--env",
                name,
            ])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const TEMPO: &str = r#"
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0}
exporters:
  file: {path: tempo.json}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
"#;

/// One span with an error status: tail sampling keeps every error trace.
const ERROR_SPAN: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"charge","startTimeUnixNano":"1","endTimeUnixNano":"2","status":{"code":2}}]}]}]}"#;

#[test]
fn a_trace_crosses_staging_with_tls_and_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let tempo_dir = tempfile::tempdir().unwrap();
    let tempo = Weir::start(tempo_dir.path(), TEMPO);
    let mut env = secrets(dir.path());
    env.push(("TEMPO_ENDPOINT", tempo.grpc.unwrap().to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config = base_config();
    let staging = Weir::start_with_env(
        dir.path(),
        &["--config", config.to_str().unwrap(), "--env", "staging"],
        &env,
    );
    let url = format!(
        "https://localhost:{}/v1/traces",
        staging.http.unwrap().port()
    );
    let ca = dir.path().join("ca.crt");
    let send = |user: &str| {
        let out = curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--cacert",
            ca.to_str().unwrap(),
            "--resolve",
            &format!("localhost:{}:127.0.0.1", staging.http.unwrap().port()),
            "-u",
            user,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            ERROR_SPAN,
            &url,
        ]);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert_eq!(send("team-a:wrong"), "401");
    assert_eq!(send("team-a:s3cret"), "200");

    // Held for staging's decision_wait (10 s), then kept as an error trace.
    let file = tempo_dir.path().join("tempo.json");
    tempo.wait_for("the span at Tempo", Duration::from_secs(60), |_| {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("charge"))
    });
    let out = std::fs::read_to_string(&file).unwrap();
    assert!(
        out.contains(r#""key":"deployment.environment","value":{"stringValue":"staging"}"#),
        "{out}"
    );
    assert_eq!(out.matches("\"charge\"").count(), 1, "{out}");
}
