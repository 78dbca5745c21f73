//! The hostile-plugin suite: one collector, one receiver, a healthy pipeline
//! beside one pipeline per attack of the `hostile` test plugin (socket, file,
//! environment, clock, spin, 1 GiB, trap, panic, 100× output). Each attack
//! is refused by the sandbox or contained by the limits, counted in
//! `/metrics`, and the healthy pipeline delivers every span. A plugin that
//! imports `wasi:http` is refused at load, naming the import; grants make
//! the file and the variable visible to the plugin that is given them.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::plain::{Conn, span_names, spans_json};
use common::*;

const ATTACKS: &[&str] = &[
    "socket", "file", "env", "clock", "spin", "alloc", "trap", "panic", "amplify",
];

fn config(dir: &Path, port: u16) -> String {
    let secret = dir.join("secret.txt");
    let mut processors = String::new();
    let mut exporters = String::from("  file/healthy: {path: healthy.json}\n");
    let mut pipelines =
        String::from("    traces/healthy: {receivers: [otlp], exporters: [file/healthy]}\n");
    for attack in ATTACKS {
        processors.push_str(&format!(
            "  hostile/{attack}: {{mode: {attack}, port: {port}, path: {secret}, var: WEIR_HOSTILE_SECRET}}\n",
            secret = secret.display()
        ));
        exporters.push_str(&format!("  file/{attack}: {{path: {attack}.json}}\n"));
        pipelines.push_str(&format!(
            "    traces/{attack}: {{receivers: [otlp], processors: [hostile/{attack}], exporters: [file/{attack}]}}\n"
        ));
    }
    // The same plugin, granted the directory and the variable.
    for attack in ["file", "env"] {
        processors.push_str(&format!(
            "  hostile_granted/{attack}: {{mode: {attack}, path: {secret}, var: WEIR_HOSTILE_SECRET}}\n",
            secret = secret.display()
        ));
        exporters.push_str(&format!(
            "  file/granted_{attack}: {{path: granted_{attack}.json}}\n"
        ));
        pipelines.push_str(&format!(
            "    traces/granted_{attack}: {{receivers: [otlp], processors: [hostile_granted/{attack}], exporters: [file/granted_{attack}]}}\n"
        ));
    }
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
plugins:
  hostile:
    path: {plugins}/hostile_wasi.wasm
    limits: {{memory_mib: 64, timeout: 300ms}}
  hostile_granted:
    path: {plugins}/hostile_wasi.wasm
    allow:
      env: [WEIR_HOSTILE_SECRET]
      files: [{{path: {dir}}}]
processors:
{processors}exporters:
{exporters}service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
{pipelines}"#,
        plugins = PLUGIN_DIR,
        dir = dir.display(),
    )
}

#[test]
fn every_attack_is_refused_or_contained_and_the_healthy_pipeline_delivers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret.txt"), "the secret").unwrap();
    // Something to connect to, so only the sandbox can stop the socket.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    std::fs::write(dir.path().join("config.yaml"), config(dir.path(), port)).unwrap();
    let weir = Weir::start_with_env(
        dir.path(),
        &["--config", "config.yaml"],
        &[("WEIR_HOSTILE_SECRET", "hunter2")],
    );
    let mut conn = Conn::new(weir.http.unwrap());
    // Bigger than the output limit's 4 KiB allowance, so 100 copies of it
    // are well past 10x.
    let names: Vec<String> = (0..40).map(|i| format!("span-{i:02}")).collect();
    const REQUESTS: usize = 3;
    for _ in 0..REQUESTS {
        let reply = conn
            .post_json("/v1/traces", &[], spans_json(&names).as_bytes())
            .unwrap();
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    let spans = REQUESTS * names.len();

    // The healthy pipeline got everything, and so did each attacked one
    // (error_mode ignore: a failed call passes its batch on unchanged) —
    // amplify's included, at 1x.
    for pipeline in ["healthy"].iter().chain(ATTACKS) {
        let out = dir.path().join(format!("{pipeline}.json"));
        weir.wait_for(
            &format!("{spans} spans at {pipeline}"),
            Duration::from_secs(60),
            |_| span_names(&out).len() >= spans,
        );
        assert_eq!(span_names(&out).len(), spans, "{pipeline}");
    }

    let calls = |attack: &str, outcome: &str| {
        weir.metric(
            "weir_plugin_calls_total",
            &[
                ("component", &format!("hostile/{attack}")),
                ("function", "process"),
                ("outcome", outcome),
            ],
        )
    };
    let counter = |component: &str, name: &str| {
        weir.metric(
            "weir_plugin_counter_total",
            &[("component", component), ("name", name)],
        )
    };
    let metrics = weir.metrics();
    // Reaching outside: refused by the sandbox, the plugin's call succeeds.
    for attack in ["socket", "file", "env", "clock"] {
        let component = format!("hostile/{attack}");
        assert_eq!(counter(&component, "escaped"), 0.0, "{attack}:\n{metrics}");
        assert_eq!(
            counter(&component, "denied"),
            REQUESTS as f64,
            "{attack}:\n{metrics}"
        );
        assert_eq!(calls(attack, "ok"), REQUESTS as f64, "{attack}");
    }
    assert!(
        listener.accept().is_err(),
        "the plugin reached the test's socket"
    );
    // Limits: each call fails alone, counted by what stopped it.
    for (attack, outcome) in [
        ("spin", "timeout"),
        ("alloc", "memory"),
        ("trap", "trap"),
        ("panic", "trap"),
        ("amplify", "output_limit"),
    ] {
        assert_eq!(
            calls(attack, outcome),
            REQUESTS as f64,
            "{attack} as {outcome}:\n{metrics}"
        );
        assert_eq!(calls(attack, "ok"), 0.0, "{attack}");
        assert_eq!(
            weir.metric(
                "weir_processor_failed_batches_total",
                &[("component", &format!("hostile/{attack}"))]
            ),
            REQUESTS as f64,
            "{attack}:\n{metrics}"
        );
    }
    // Call durations are recorded per component.
    assert!(
        weir.metric(
            "weir_plugin_call_duration_seconds_count",
            &[("component", "hostile/spin"), ("function", "process")]
        ) >= REQUESTS as f64,
        "{metrics}"
    );
    // What is granted is visible.
    for attack in ["file", "env"] {
        let component = format!("hostile_granted/{attack}");
        assert_eq!(
            counter(&component, "escaped"),
            REQUESTS as f64,
            "{attack}:\n{metrics}"
        );
    }
}

#[test]
fn a_plugin_importing_wasi_http_is_refused_at_load_naming_the_import() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
plugins:
  hostile: {{path: {PLUGIN_DIR}/hostile_http.wasm}}
processors:
  hostile: {{mode: http}}
exporters:
  debug:
service:
  pipelines:
    traces: {{receivers: [otlp], processors: [hostile], exporters: [debug]}}
"#
        ),
    )
    .unwrap();
    let out = Command::new(WEIR)
        .args(["validate", "--config", "config.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("processors.hostile"), "{stderr}");
    assert!(stderr.contains("plugin `hostile` imports"), "{stderr}");
    assert!(
        stderr.contains("wasi:http/outgoing-handler@0.2"),
        "{stderr}"
    );
    assert!(stderr.contains("never provides"), "{stderr}");

    let out = Command::new(WEIR)
        .args([
            "plugin",
            "inspect",
            &format!("{PLUGIN_DIR}/hostile_http.wasm"),
        ])
        .args(["--config", r#"{"mode": "http"}"#])
        .output()
        .unwrap();
    assert!(!out.status.success(), "inspect says it would not load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let http = stdout
        .lines()
        .find(|l| l.contains("wasi:http/outgoing-handler"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(http.contains("refused"), "{http}");
    assert!(stdout.contains("loads:    no"), "{stdout}");
}
