//! Plugins that trap, loop forever or allocate past their cap: that call
//! fails, the batch follows the pipeline's `error_mode`, the instance is
//! replaced, the next batch goes through, and the counters show it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

fn config(error_mode: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  chaos:
plugins:
  chaos:
    path: {plugins}/chaos.wasm
    limits: {{memory_mib: 32, timeout: 300ms}}
exporters:
  file: {{path: out.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [chaos], exporters: [file], error_mode: {error_mode}}}
"#,
        plugins = PLUGIN_DIR
    )
}

fn span_json(name: &str) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"{name}"}}]}}]}}]}}"#
    )
}

fn post(weir: &Weir, name: &str) -> String {
    let out = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &span_json(name),
        &format!("http://{}/v1/traces", weir.http.unwrap()),
    ]);
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn spans_in(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let mut names = Vec::new();
            for rs in v["resourceSpans"].as_array().unwrap() {
                for ss in rs["scopeSpans"].as_array().unwrap() {
                    for s in ss["spans"].as_array().unwrap() {
                        names.push(s["name"].as_str().unwrap().to_string());
                    }
                }
            }
            names
        })
        .collect()
}

#[test]
fn a_failing_call_fails_alone_and_the_next_batch_goes_through() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), &config("ignore"));
    let calls = |outcome: &str| {
        weir.metric(
            "weir_plugin_calls_total",
            &[("component", "chaos"), ("outcome", outcome)],
        )
    };
    for (marker, outcome) in [
        ("weir-chaos:trap", "trap"),
        ("weir-chaos:loop", "timeout"),
        ("weir-chaos:alloc", "memory"),
    ] {
        // error_mode: ignore → the failing batch passes on unchanged, and is accepted.
        assert_eq!(post(&weir, marker), "200", "{marker}");
        assert_eq!(
            calls(outcome),
            1.0,
            "{marker} counted as {outcome}:\n{}",
            weir.metrics()
        );
        // The next batch goes through a fresh instance.
        let passed_before = weir.metric(
            "weir_plugin_counter_total",
            &[("component", "chaos"), ("name", "passed")],
        );
        assert_eq!(post(&weir, &format!("after-{outcome}")), "200");
        let passed = weir.metric(
            "weir_plugin_counter_total",
            &[("component", "chaos"), ("name", "passed")],
        );
        assert_eq!(
            passed,
            passed_before + 1.0,
            "the plugin ran on the next batch"
        );
    }
    let out = dir.path().join("out.json");
    weir.wait_for("all six spans exported", Duration::from_secs(20), |_| {
        spans_in(&out).len() == 6
    });
    let names = spans_in(&out);
    for name in [
        "weir-chaos:trap",
        "after-trap",
        "weir-chaos:loop",
        "after-timeout",
        "weir-chaos:alloc",
        "after-memory",
    ] {
        assert!(
            names.contains(&name.to_string()),
            "{name} missing from {names:?}"
        );
    }
    assert!(
        weir.metric(
            "weir_plugin_instances_started_total",
            &[("component", "chaos")]
        ) >= 4.0
    );
    assert_eq!(
        weir.metric(
            "weir_processor_failed_batches_total",
            &[("component", "chaos")]
        ),
        3.0
    );
}

#[test]
fn error_mode_propagate_refuses_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), &config("propagate"));
    assert_eq!(post(&weir, "weir-chaos:trap"), "400");
    assert_eq!(post(&weir, "fine"), "200");
    let out = dir.path().join("out.json");
    weir.wait_for("the good span exported", Duration::from_secs(20), |_| {
        spans_in(&out) == vec!["fine".to_string()]
    });
}

/// A batch too big for the exporter plugin's memory cap is encoded in
/// halves, not dropped: every span arrives, once.
#[test]
fn an_exporter_out_of_memory_encodes_the_batch_in_halves() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
exporters:
  file: {path: out.json}
plugins:
  file:
    limits: {memory_mib: 4}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
"#;
    let weir = Weir::start(dir.path(), config);
    // 4,000 spans with a long attribute each: several MiB of OTLP/JSON.
    let filler = "x".repeat(400);
    let spans: Vec<String> = (0..4000)
        .map(|i| {
            format!(
                r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"{i:016x}","name":"s{i}","attributes":[{{"key":"pad","value":{{"stringValue":"{filler}"}}}}]}}"#
            )
        })
        .collect();
    let body = format!(
        r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    );
    let body_file = dir.path().join("big.json");
    std::fs::write(&body_file, body).unwrap();
    let out = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &format!("@{}", body_file.display()),
        &format!("http://{}/v1/traces", weir.http.unwrap()),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    let path = dir.path().join("out.json");
    let count = || {
        std::fs::read_to_string(&path)
            .map(|t| t.matches(r#""name":"s"#).count())
            .unwrap_or(0)
    };
    weir.wait_for("all 4000 spans", Duration::from_secs(60), |_| {
        count() >= 4000
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(), 4000);
    assert!(
        weir.stderr().contains("encoding them in halves"),
        "{}",
        weir.stderr()
    );
    weir.stop();
}
