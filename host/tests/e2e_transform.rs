//! The `transform` and `filter` plugins through the real binary: OTTL
//! statements tag a real Python SDK export, conditions drop spans, a bad
//! statement stops startup (and `weir validate`) with the statement, its
//! place in the file and the column, and a reload with a bad statement
//! keeps the running config.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const SEED: &str = r#"set(datapoint.attributes["client_id"], resource.attributes["service.name"])"#;

/// A collector whose metrics pipeline runs `statement` in a datapoint
/// group, and whose traces pipeline drops spans with `seq >= 5`.
fn config(statement: &str) -> String {
    // Single-quoted YAML: the statement's double quotes stay as they are.
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  transform:
    error_mode: ignore
    metric_statements:
      - context: datapoint
        statements:
          - '{statement}'
  filter:
    error_mode: ignore
    traces:
      span:
        - 'attributes["seq"] >= 5'
exporters:
  file: {{path: out.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    metrics: {{receivers: [otlp], processors: [transform], exporters: [file]}}
    traces: {{receivers: [otlp], processors: [filter], exporters: [file]}}
"#
    )
}

fn send(weir: &Weir, signals: &str, count: usize, service: &str) {
    let env = [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_string()),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{}", weir.http.unwrap()),
        ),
    ];
    let out = python_send(
        &env,
        &[
            "--signals",
            signals,
            "--count",
            &count.to_string(),
            "--service",
            service,
        ],
    );
    assert!(
        out.status.success(),
        "python: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn attr(attributes: &serde_json::Value, key: &str) -> Option<serde_json::Value> {
    attributes
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .map(|kv| kv["value"].clone())
}

/// Every exported data point as (service.name, seq, client_id).
fn data_points(path: &Path) -> Vec<(String, i64, Option<String>)> {
    let mut out = Vec::new();
    for request in lines(path) {
        let Some(resources) = request["resourceMetrics"].as_array() else {
            continue;
        };
        for rm in resources {
            let service =
                attr(&rm["resource"]["attributes"], "service.name").unwrap()["stringValue"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            for sm in rm["scopeMetrics"].as_array().unwrap() {
                for metric in sm["metrics"].as_array().unwrap() {
                    let points = metric["sum"]["dataPoints"]
                        .as_array()
                        .expect("a sum metric");
                    for p in points {
                        let seq = attr(&p["attributes"], "seq").unwrap()["intValue"].clone();
                        let seq = seq
                            .as_i64()
                            .or_else(|| seq.as_str().and_then(|s| s.parse().ok()))
                            .unwrap();
                        let client_id = attr(&p["attributes"], "client_id")
                            .map(|v| v["stringValue"].as_str().unwrap_or("").to_owned());
                        out.push((service.clone(), seq, client_id));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// Every exported span's `seq`.
fn span_seqs(path: &Path) -> Vec<i64> {
    let mut out = Vec::new();
    for request in lines(path) {
        for rs in request["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for span in ss["spans"].as_array().unwrap() {
                    let seq = attr(&span["attributes"], "seq").unwrap()["intValue"].clone();
                    out.push(
                        seq.as_i64()
                            .or_else(|| seq.as_str().and_then(|s| s.parse().ok()))
                            .unwrap(),
                    );
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn seed_statement_tags_every_data_point_and_filter_drops_spans() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), &config(SEED));
    send(&weir, "metrics,traces", 10, "checkout");
    let out = dir.path().join("out.json");
    weir.wait_for(
        "10 data points and 5 spans",
        Duration::from_secs(60),
        |_| data_points(&out).len() == 10 && span_seqs(&out).len() == 5,
    );
    let expected: Vec<_> = (0..10)
        .map(|i| ("checkout".to_owned(), i, Some("checkout".to_owned())))
        .collect();
    assert_eq!(data_points(&out), expected);
    assert_eq!(span_seqs(&out), vec![0, 1, 2, 3, 4]);
    // The drops are counted by the plugin and by the host.
    assert_eq!(
        weir.metric("weir_plugin_counter_total", &[("name", "dropped_items")]),
        5.0
    );
    assert_eq!(
        weir.metric(
            "weir_processor_dropped_items_total",
            &[("component", "filter")]
        ),
        5.0
    );
}

const BAD: &str =
    r#"set(datapoint.attributes["client_id"], resource.attributes["service.name"], "extra")"#;
/// Where the bad statement is: its line in the config file and its column.
const BAD_AT: &str = r#"config.yaml:12: processors.transform.metric_statements[0].statements[0]: statement `set(datapoint.attributes["client_id"], resource.attributes["service.name"], "extra")`: column 77: `set` takes 2 arguments (target, value), got 3"#;

#[test]
fn a_bad_statement_stops_startup_and_fails_validate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yaml"), config(BAD)).unwrap();
    let validate = Command::new(WEIR)
        .args(["validate", "--config", "config.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!validate.status.success());
    let stderr = String::from_utf8_lossy(&validate.stderr);
    assert_eq!(stderr.trim(), format!("{BAD_AT}\nconfig.yaml: 1 error"));

    let run = Command::new(WEIR)
        .args(["--config", "config.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    // Said once, with the statement and its column.
    assert_eq!(stderr.matches("column 77").count(), 1, "{stderr}");
    assert!(
        stderr
            .trim_end()
            .ends_with(&format!("weir: invalid configuration:\n{BAD_AT}")),
        "{stderr}"
    );
}

#[test]
fn a_reload_with_a_bad_statement_keeps_the_old_config() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), &config(SEED));
    let config_path = dir.path().join("config.yaml");
    let tmp = dir.path().join("config.tmp");
    std::fs::write(&tmp, config(BAD)).unwrap();
    std::fs::rename(&tmp, &config_path).unwrap();
    weir.wait_for("the refused reload", Duration::from_secs(60), |w| {
        w.metric("weir_config_reload_failures_total", &[]) >= 1.0
    });
    // The log line saying why may come just after the counter moves.
    weir.wait_for("the reason in the log", Duration::from_secs(10), |w| {
        w.stderr().contains(
            "processors.transform.metric_statements[0].statements[0]: statement `set(datapoint.attributes[\"client_id\"], resource.attributes[\"service.name\"], \"extra\")`: column 77: `set` takes 2 arguments",
        )
    });

    // The old statements still run.
    send(&weir, "metrics", 3, "billing");
    let out = dir.path().join("out.json");
    weir.wait_for("3 data points", Duration::from_secs(60), |_| {
        data_points(&out).len() == 3
    });
    let expected: Vec<_> = (0..3)
        .map(|i| ("billing".to_owned(), i, Some("billing".to_owned())))
        .collect();
    assert_eq!(data_points(&out), expected);

    // A good change is taken.
    std::fs::write(
        &tmp,
        config(r#"set(datapoint.attributes["client_id"], "v2")"#),
    )
    .unwrap();
    std::fs::rename(&tmp, &config_path).unwrap();
    weir.wait_for("the good reload", Duration::from_secs(60), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= 1.0
    });
    send(&weir, "metrics", 2, "shipping");
    let shipping = || -> Vec<_> {
        data_points(&out)
            .into_iter()
            .filter(|p| p.0 == "shipping")
            .collect()
    };
    weir.wait_for("2 more data points", Duration::from_secs(60), |_| {
        shipping().len() == 2
    });
    let expected: Vec<_> = (0..2)
        .map(|i| ("shipping".to_owned(), i, Some("v2".to_owned())))
        .collect();
    assert_eq!(shipping(), expected);
}
