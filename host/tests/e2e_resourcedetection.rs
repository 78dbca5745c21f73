//! `resourcedetection` through the real binary: the host reads
//! OTEL_RESOURCE_ATTRIBUTES and the host name of the machine, the `resource`
//! plugin writes them onto each resource, the file exporter shows them.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::Weir;
use common::otlp::{send, span};

/// The resource attributes of every exported request in `path`.
fn resources(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            let attrs = rs["resource"]["attributes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            out.push(
                attrs
                    .iter()
                    .map(|kv| {
                        (
                            kv["key"].as_str().unwrap().to_string(),
                            kv["value"]["stringValue"]
                                .as_str()
                                .unwrap_or("")
                                .to_string(),
                        )
                    })
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn detected_attributes_reach_exported_resources() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
processors:
  resourcedetection:
    detectors: [env, system]
    system: {hostname_sources: [os]}
  resourcedetection/keep:
    detectors: [system, env]
    override: false
exporters:
  file/override: {path: override.jsonl}
  file/keep: {path: keep.jsonl}
service:
  telemetry: {metrics: {address: 127.0.0.1:0}}
  pipelines:
    traces/override: {receivers: [otlp], processors: [resourcedetection], exporters: [file/override]}
    traces/keep: {receivers: [otlp], processors: [resourcedetection/keep], exporters: [file/keep]}
"#,
    )
    .unwrap();
    let weir = Weir::start_with_env(
        dir.path(),
        &["--config", config.to_str().unwrap()],
        &[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-env, deployment.environment=e2e,team=a%2Cb,host.name=env-host",
        )],
    );
    send(
        weir.http.unwrap(),
        vec![span(1, 0, 5, false), span(1, 1, 5, false)],
    );
    weir.wait_for("both files written", Duration::from_secs(60), |_| {
        !resources(&dir.path().join("override.jsonl")).is_empty()
            && !resources(&dir.path().join("keep.jsonl")).is_empty()
    });
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();

    // override (the default): env first, so its host.name and service.name win.
    let r = &resources(&dir.path().join("override.jsonl"))[0];
    assert_eq!(r["service.name"], "from-env", "{r:?}");
    assert_eq!(r["deployment.environment"], "e2e");
    assert_eq!(r["team"], "a,b");
    assert_eq!(r["host.name"], "env-host");
    assert_eq!(r["os.type"], "linux");

    // override: false keeps what the resource had; system first, so
    // host.name is the machine's.
    let r = &resources(&dir.path().join("keep.jsonl"))[0];
    assert_eq!(r["service.name"], "load", "{r:?}");
    assert_eq!(r["host.name"], hostname);
    assert_eq!(r["os.type"], "linux");
    assert_eq!(r["deployment.environment"], "e2e");
    assert_eq!(r["team"], "a,b");
}

#[test]
fn a_malformed_environment_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        r#"
receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}
processors:
  resourcedetection: {detectors: [env]}
exporters: {debug: {}}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [resourcedetection], exporters: [debug]}
"#,
    )
    .unwrap();
    let out = std::process::Command::new(common::WEIR)
        .args(["validate", "--config", config.to_str().unwrap()])
        .env("OTEL_RESOURCE_ATTRIBUTES", "team=%zz")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("processors.resourcedetection.detectors[0]: OTEL_RESOURCE_ATTRIBUTES: invalid percent escape"),
        "{stderr}"
    );
}
