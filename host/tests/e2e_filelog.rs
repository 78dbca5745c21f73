//! The `filelog` receiver through the real binary: it tails matching files
//! (not excluded ones), groups multiline records, and with a `file_storage`
//! extension resumes after a restart exactly where it stopped.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

const CONFIG: &str = r#"
extensions:
  file_storage:
    directory: state
    create_directory: true
receivers:
  filelog:
    include: [logs/*.log]
    exclude: [logs/skip*.log]
    start_at: beginning
    poll_interval: 50ms
    force_flush_period: 300ms
    multiline: {line_start_pattern: '^\d{4}-'}
    storage: file_storage
exporters:
  file: {path: out.json}
service:
  extensions: [file_storage]
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    logs: {receivers: [filelog], exporters: [file]}
"#;

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// (body, log.file.name) of every record the file exporter wrote.
fn records(dir: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(dir.join("out.json")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let request: Value = serde_json::from_str(line).unwrap();
        for rl in request["resourceLogs"].as_array().unwrap() {
            for sl in rl["scopeLogs"].as_array().unwrap() {
                for r in sl["logRecords"].as_array().unwrap() {
                    let body = r["body"]["stringValue"].as_str().unwrap().to_string();
                    let name = r["attributes"][0]["value"]["stringValue"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    out.push((body, name));
                }
            }
        }
    }
    out
}

fn wait_for_records(weir: &Weir, n: usize) -> Vec<(String, String)> {
    weir.wait_for(&format!("{n} records"), Duration::from_secs(30), |w| {
        records(&w.dir).len() >= n
    });
    // Anything more would be a duplicate: give it a moment to show.
    std::thread::sleep(Duration::from_millis(500));
    records(&weir.dir)
}

#[test]
fn tails_groups_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let app = dir.path().join("logs/app.log");
    append(
        &app,
        "2026-12-01 first\n2026-12-01 boom\n  at frame 1\n  at frame 2\n2026-12-01 third\n",
    );
    append(
        &dir.path().join("logs/skip-me.log"),
        "2026-12-01 excluded\n",
    );

    let weir = Weir::start(dir.path(), CONFIG);
    let got = wait_for_records(&weir, 3);
    let bodies: Vec<&str> = got.iter().map(|(b, _)| b.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "2026-12-01 first",
            "2026-12-01 boom\n  at frame 1\n  at frame 2",
            "2026-12-01 third"
        ]
    );
    assert!(got.iter().all(|(_, name)| name == "app.log"), "{got:?}");

    // Lines written while it runs arrive too.
    append(&app, "2026-12-01 live\n");
    let got = wait_for_records(&weir, 4);
    assert_eq!(got[3].0, "2026-12-01 live");
    let accepted = weir.metric(
        "weir_receiver_accepted_items_total",
        &[("receiver", "filelog"), ("transport", "file")],
    );
    assert_eq!(accepted, 4.0, "{}", weir.metrics());
    assert!(weir.stop().success());

    // Written while it was down: read after the restart, and only that.
    append(&app, "2026-12-01 while down 1\n2026-12-01 while down 2\n");
    let weir = Weir::start(dir.path(), CONFIG);
    let got = wait_for_records(&weir, 6);
    let bodies: Vec<&str> = got.iter().map(|(b, _)| b.as_str()).collect();
    assert_eq!(bodies.len(), 6, "{bodies:?}");
    assert_eq!(
        &bodies[4..],
        ["2026-12-01 while down 1", "2026-12-01 while down 2"]
    );
    weir.stop();
}

#[test]
fn storage_must_name_an_enabled_file_storage() {
    let dir = tempfile::tempdir().unwrap();
    let config = CONFIG.replace("  extensions: [file_storage]\n", "");
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(WEIR)
        .args(["validate", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "receivers.filelog.storage: `file_storage` is not a file_storage extension listed in service.extensions"
        ),
        "{stderr}"
    );
}
