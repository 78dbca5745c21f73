//! The host's side of stateful plugins, with the `chaos` test plugin in its
//! stateful mode: one instance that holds batches, `tick` on the
//! configured timer, `flush` on reload into the OLD pipeline's exporter,
//! and a trap that loses the held state (counted) and starts afresh.

mod common;

use std::path::Path;
use std::time::Duration;

use common::otlp::*;
use common::*;

fn config(chaos: &str, tag: &str, out: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  chaos: {chaos}
  attributes/tag:
    actions: [{{key: config.tag, value: "{tag}", action: upsert}}]
plugins:
  chaos:
    path: {plugins}/chaos.wasm
    limits: {{tick_interval: 200ms}}
exporters:
  file: {{path: {out}}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [chaos, attributes/tag], exporters: [file]}}
"#,
        plugins = PLUGIN_DIR
    )
}

fn chaos_counter(weir: &Weir, name: &str) -> f64 {
    weir.metric(
        "weir_plugin_counter_total",
        &[("component", "chaos"), ("name", name)],
    )
}

fn calls(weir: &Weir, function: &str) -> f64 {
    weir.metric(
        "weir_plugin_calls_total",
        &[
            ("component", "chaos"),
            ("function", function),
            ("outcome", "ok"),
        ],
    )
}

/// `config.tag` of every exported span, by span name.
fn tags(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for s in ss["spans"].as_array().unwrap() {
                    let tag = s["attributes"]
                        .as_array()
                        .and_then(|a| a.iter().find(|kv| kv["key"] == "config.tag"))
                        .and_then(|kv| kv["value"]["stringValue"].as_str())
                        .unwrap_or("")
                        .to_string();
                    out.push((s["name"].as_str().unwrap().to_string(), tag));
                }
            }
        }
    }
    out
}

#[test]
fn tick_releases_held_batches_on_the_configured_timer() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), &config("{stateful: true}", "a", "out.json"));
    send(
        weir.http.unwrap(),
        vec![span(1, 0, 5, false), span(1, 1, 5, false)],
    );
    assert_eq!(chaos_counter(&weir, "held"), 1.0, "held, not passed on");
    let path = dir.path().join("out.json");
    weir.wait_for("the tick's release", Duration::from_secs(30), |_| {
        exported_spans(&path).len() == 2
    });
    // The release went through the stage after chaos.
    assert!(tags(&path).iter().all(|(_, tag)| tag == "a"));
    // About five ticks a second: the configured 200ms, not the 1s default.
    let before = calls(&weir, "tick");
    std::thread::sleep(Duration::from_secs(2));
    let ticks = calls(&weir, "tick") - before;
    assert!((6.0..=12.0).contains(&ticks), "{ticks} ticks in 2 s");
    assert!(weir.stop().success());
}

#[test]
fn reload_flushes_held_data_down_the_old_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let chaos = "{stateful: true, release_on_tick: false}";
    let weir = Weir::start(dir.path(), &config(chaos, "old", "old.json"));
    let addr = weir.http.unwrap();
    send(addr, vec![span(1, 0, 5, false)]);
    send(addr, vec![span(2, 0, 5, false)]);
    weir.wait_for("held", Duration::from_secs(10), |w| {
        chaos_counter(w, "held") == 2.0
    });
    std::thread::sleep(Duration::from_millis(600));
    assert!(exported_spans(&dir.path().join("old.json")).is_empty());

    // The new config tags differently and writes elsewhere.
    std::fs::write(
        dir.path().join("config.yaml"),
        config(chaos, "new", "new.json"),
    )
    .unwrap();
    weir.signal("HUP");
    weir.wait_for("the reload", Duration::from_secs(60), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= 1.0
    });
    let old = dir.path().join("old.json");
    weir.wait_for("the flushed spans", Duration::from_secs(30), |_| {
        exported_spans(&old).len() == 2
    });
    assert_eq!(
        tags(&old),
        [
            ("t1-0".to_string(), "old".to_string()),
            ("t2-0".to_string(), "old".to_string())
        ]
    );
    assert_eq!(chaos_counter(&weir, "flushed"), 2.0);

    // The new pipeline has an instance of its own, flushed at shutdown.
    send(addr, vec![span(3, 0, 5, false)]);
    assert!(weir.stop().success());
    assert_eq!(
        tags(&dir.path().join("new.json")),
        [("t3-0".to_string(), "new".to_string())]
    );
    assert_eq!(exported_spans(&old).len(), 2);
}

#[test]
fn a_trap_loses_the_held_state_counted_and_a_fresh_instance_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let chaos = "{stateful: true, release_on_tick: false}";
    let weir = Weir::start(dir.path(), &config(chaos, "a", "out.json"));
    let addr = weir.http.unwrap();
    send(addr, vec![span(1, 0, 5, false)]);
    let mut poison = span(2, 0, 5, false);
    poison.name = "weir-chaos:trap".into();
    send(addr, vec![poison]);
    weir.wait_for("the lost state counted", Duration::from_secs(10), |w| {
        w.metric(
            "weir_plugin_state_lost_total",
            &[("pipeline", "traces"), ("component", "chaos")],
        ) == 1.0
    });
    // The log line reaches the test through a pipe reader: give it time.
    weir.wait_for("the loss logged", Duration::from_secs(10), |w| {
        w.stderr().contains("lost what it held")
    });
    // A fresh instance holds the next batch; shutdown flushes it.
    send(addr, vec![span(3, 0, 5, false)]);
    assert!(weir.stop().success());
    let names = exported_spans(&dir.path().join("out.json"));
    // t1 was lost with the trapped instance; the failed batch itself
    // passed on unchanged (error_mode: ignore); t3 came out of the flush.
    assert_eq!(names, ["weir-chaos:trap", "t3-0"]);
}

/// A stateful stage after `batch`: at shutdown the batcher flushes into it
/// first, then it is flushed, then the exporter drains — the held batch and
/// the one still in the batcher both come out.
#[test]
fn shutdown_flushes_the_batcher_into_a_stateful_stage_before_flushing_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch/slow: {{timeout: 1h, send_batch_size: 0}}
  chaos: {{stateful: true, release_on_tick: false}}
plugins:
  chaos: {{path: {plugins}/chaos.wasm}}
exporters:
  file: {{path: out.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch/slow, chaos], exporters: [file]}}
"#,
        plugins = PLUGIN_DIR
    );
    let weir = Weir::start(dir.path(), &config);
    send(weir.http.unwrap(), vec![span(1, 0, 5, false)]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(chaos_counter(&weir, "held"), 0.0, "still in the batcher");
    assert!(weir.stop().success());
    assert_eq!(exported_spans(&dir.path().join("out.json")), ["t1-0"]);
}
