//! The `hostmetrics` receiver through the real binary: its scrapes reach a
//! metrics pipeline's exporter with the Go collector's names, attributes and
//! kinds, and are counted in the collector's own metrics.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use serde_json::Value;

const CONFIG: &str = r#"
receivers:
  hostmetrics:
    collection_interval: 200ms
    initial_delay: 0s
    scrapers:
      cpu:
      memory:
      disk:
      network:
      load: {}
exporters:
  file: {path: metrics.json}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    metrics: {receivers: [hostmetrics], exporters: [file]}
"#;

/// Metric name → (kind, attribute keys of its first point, point count), from
/// the first request in the file.
fn first_scrape(text: &str) -> BTreeMap<String, (String, Vec<String>, usize)> {
    let request: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for scope in request["resourceMetrics"][0]["scopeMetrics"]
        .as_array()
        .unwrap()
    {
        for metric in scope["metrics"].as_array().unwrap() {
            let (kind, data) = ["sum", "gauge"]
                .iter()
                .find_map(|k| metric.get(*k).map(|d| (k.to_string(), d)))
                .expect("a sum or a gauge");
            let points = data["dataPoints"].as_array().unwrap();
            let keys = points[0]
                .get("attributes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|kv| kv["key"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            out.insert(
                metric["name"].as_str().unwrap().to_string(),
                (kind, keys, points.len()),
            );
        }
    }
    out
}

#[test]
fn scrapes_reach_the_pipeline_with_go_names() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), CONFIG);
    let path = dir.path().join("metrics.json");
    weir.wait_for("two scrapes", Duration::from_secs(30), |_| {
        std::fs::read_to_string(&path).is_ok_and(|t| t.lines().count() >= 2)
    });
    let metrics = first_scrape(&std::fs::read_to_string(&path).unwrap());
    let expect = [
        ("system.cpu.time", "sum", vec!["cpu", "state"]),
        ("system.memory.usage", "sum", vec!["state"]),
        ("system.disk.io", "sum", vec!["device", "direction"]),
        ("system.disk.operations", "sum", vec!["device", "direction"]),
        ("system.network.io", "sum", vec!["device", "direction"]),
        ("system.network.packets", "sum", vec!["device", "direction"]),
        ("system.cpu.load_average.1m", "gauge", vec![]),
        ("system.cpu.load_average.15m", "gauge", vec![]),
    ];
    for (name, kind, keys) in expect {
        let Some((got_kind, got_keys, _)) = metrics.get(name) else {
            panic!("{name} missing; got {:?}", metrics.keys());
        };
        assert_eq!(got_kind, kind, "{name}");
        assert_eq!(got_keys, &keys, "{name}");
    }
    // Eight states per CPU; six memory states.
    assert_eq!(metrics["system.cpu.time"].2 % 8, 0);
    assert_eq!(metrics["system.memory.usage"].2, 6);

    let accepted = weir.metric(
        "weir_receiver_accepted_items_total",
        &[("receiver", "hostmetrics"), ("transport", "scrape")],
    );
    assert!(accepted > 0.0, "{}", weir.metrics());
    weir.stop();
}
