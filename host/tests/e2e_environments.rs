//! Per-environment configs through the real binary: `--env NAME` (or
//! `WEIR_ENV` / `ENVIRONMENT`) deep-merges `environments/NAME.yaml` over the
//! base config; errors name the file they are in; an unknown environment is
//! refused with the list of known ones.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const BASE: &str = r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
processors:
  batch: {timeout: 100ms}
  attributes/env:
    actions: [{key: deployment.environment, value: base, action: upsert}]
exporters:
  file: {path: out.json}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [file]}
"#;

/// dev tags spans (a processor added to the pipeline); prod tags the
/// resource with the environment's name and writes elsewhere.
const DEV: &str = r#"
processors:
  attributes/env:
    actions: [{key: deployment.environment, value: dev, action: upsert}]
service:
  pipelines:
    traces: {processors: [batch, attributes/env]}
"#;

const PROD: &str = r#"
processors:
  resource:
    attributes:
      - {key: deployment.environment, from_context: weir.environment, action: upsert}
exporters:
  file: {path: prod.json}
service:
  pipelines:
    traces: {processors: [batch, resource]}
"#;

const SPAN: &str = r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"env-test"}]}]}]}"#;

fn layout(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("environments")).unwrap();
    std::fs::write(dir.join("collector.yaml"), BASE).unwrap();
    std::fs::write(dir.join("environments/dev.yaml"), DEV).unwrap();
    std::fs::write(dir.join("environments/prod.yaml"), PROD).unwrap();
    dir.join("collector.yaml")
}

fn validate(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(WEIR)
        .arg("validate")
        .args(args)
        .current_dir(dir)
        .env_remove("WEIR_ENV")
        .env_remove("ENVIRONMENT")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout),
    )
}

fn send_span(weir: &Weir) {
    let url = format!("http://{}/v1/traces", weir.http.unwrap());
    let out = curl(&[
        "-sS",
        "-w",
        "%{http_code}",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        SPAN,
        &url,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("200"), "send failed: {text}");
}

fn wait_for_file(weir: &Weir, name: &str) -> String {
    let path = weir.dir.join(name);
    weir.wait_for(name, Duration::from_secs(20), |_| {
        std::fs::read_to_string(&path).is_ok_and(|t| t.contains("env-test"))
    });
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn the_environment_file_is_merged_over_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let config = layout(dir.path());
    let config = config.to_str().unwrap();

    let weir = Weir::start_with(dir.path(), &["--config", config, "--env", "dev"]);
    send_span(&weir);
    let out = wait_for_file(&weir, "out.json");
    assert!(
        out.contains(r#""deployment.environment","value":{"stringValue":"dev"}"#),
        "dev's processor did not run: {out}"
    );
    weir.stop();

    // prod writes prod.json; its `resource` processor tags the resource
    // (not the span) with the environment the collector runs as.
    let weir = Weir::start_with(dir.path(), &["--config", config, "--env", "prod"]);
    send_span(&weir);
    let out = wait_for_file(&weir, "prod.json");
    let request: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let resource = &request["resourceSpans"][0]["resource"]["attributes"];
    assert_eq!(
        resource,
        &serde_json::json!([{"key": "deployment.environment", "value": {"stringValue": "prod"}}]),
        "{out}"
    );
    let span = &request["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert!(
        span.get("attributes")
            .is_none_or(|a| a.as_array().unwrap().is_empty()),
        "{out}"
    );
    weir.stop();
}

#[test]
fn validate_names_the_file_of_each_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = layout(dir.path());
    let config = config.to_str().unwrap();
    for env in ["dev", "prod"] {
        let (ok, text) = validate(dir.path(), &["--config", config, "--env", env], &[]);
        assert!(ok, "{env}: {text}");
    }
    let (ok, text) = validate(dir.path(), &["--config", config], &[("ENVIRONMENT", "dev")]);
    assert!(ok, "{text}");

    // A mistake in the overlay is reported against the overlay, with its line.
    std::fs::write(
        dir.path().join("environments/staging.yaml"),
        "processors:\n  batch:\n    timeout: soon\n",
    )
    .unwrap();
    let (ok, text) = validate(dir.path(), &["--config", config, "--env", "staging"], &[]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("environments/staging.yaml:3: processors.batch.timeout"),
        "{text}"
    );

    // A typo in the name is refused, listing the environments there are.
    let (ok, text) = validate(dir.path(), &["--config", config], &[("WEIR_ENV", "prdo")]);
    assert!(!ok, "{text}");
    assert!(text.contains("environment `prdo`"), "{text}");
    assert!(text.contains("environments: dev, prod, staging"), "{text}");
}
