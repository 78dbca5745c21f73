//! The README's walk from `weir plugin new` to a custom plugin loaded by a
//! running collector, with the real binary: new → build → inspect → a config
//! naming the built `.wasm` (pinned by its digest) → `weir run` → spans in →
//! the plugin's work visible at the exporter.
//!
//! Building a plugin project is the expensive step (a release wasm build of
//! the SDK and its dependencies): both tests build into the plugin
//! workspace's target dir, which the host's own build already warmed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::plain::{Conn, spans_json};
use common::*;

/// `plugins/target`, shared with the host's build of the built-in plugins.
fn shared_target_dir() -> PathBuf {
    Path::new(PLUGIN_DIR)
        .ancestors()
        .nth(2)
        .expect("WEIR_PLUGIN_DIR is <target>/wasm32-wasip2/release")
        .to_path_buf()
}

fn weir(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(WEIR)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .output()
        .expect("cannot run weir");
    assert!(
        out.status.success(),
        "weir {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `weir plugin new NAME --kind KIND` then `weir plugin build`; the
/// component's path.
fn new_and_build(dir: &Path, name: &str, kind: &str) -> PathBuf {
    let out = weir(dir, &["plugin", "new", name, "--kind", kind]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("weir plugin build"), "{said}");
    assert!(dir.join(name).join("wit/processor.wit").is_file());
    assert!(dir.join(name).join("weir-plugin.toml").is_file());
    let out = weir(&dir.join(name), &["plugin", "build"]);
    let wasm = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(wasm.is_file(), "{wasm:?}");
    wasm
}

/// `weir plugin inspect`: its lines by their label.
fn inspect(dir: &Path, wasm: &Path) -> String {
    let out = weir(dir, &["plugin", "inspect", wasm.to_str().unwrap()]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn line<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{text}"))
        .trim()
}

#[test]
fn a_new_processor_is_built_inspected_and_runs_in_a_collector() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = new_and_build(dir.path(), "my-tagger", "processor");

    let found = inspect(dir.path(), &wasm);
    assert_eq!(line(&found, "world:"), "weir:plugin/processor-plugin@0.1.0");
    assert_eq!(line(&found, "signals:"), "traces");
    assert_eq!(line(&found, "stateful:"), "false");
    assert_eq!(line(&found, "loads:"), "yes");
    assert!(
        found.contains("weir:plugin/host@0.1.0") && found.contains("host API"),
        "{found}"
    );
    let sha256 = line(&found, "sha256:").to_string();

    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  my_tagger: {{key: team, value: checkout}}
plugins:
  my_tagger:
    path: {wasm}
    sha256: sha256:{sha256}
exporters:
  file: {{path: out.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [my_tagger], exporters: [file]}}
"#,
        wasm = wasm.display()
    );
    let weir = Weir::start(dir.path(), &config);
    let mut conn = Conn::new(weir.http.unwrap());
    let reply = conn
        .post_json("/v1/traces", &[], spans_json(&["a", "b", "c"]).as_bytes())
        .unwrap();
    assert_eq!(reply.status, 200, "{reply:?}");

    let out = dir.path().join("out.json");
    weir.wait_for("the tagged spans", Duration::from_secs(30), |_| {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() > 0)
    });
    let text = std::fs::read_to_string(&out).unwrap();
    let request: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap();
    assert_eq!(spans.len(), 3);
    for span in spans {
        let team = span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == "team")
            .unwrap_or_else(|| panic!("no team attribute: {span}"));
        assert_eq!(team["value"]["stringValue"], "checkout");
    }
    assert_eq!(
        weir.metric(
            "weir_plugin_counter_total",
            &[("component", "my_tagger"), ("name", "spans_processed")]
        ),
        3.0
    );
}

#[test]
fn a_new_exporter_is_built_and_writes_where_the_config_says() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = new_and_build(dir.path(), "span-lines", "exporter");

    let found = inspect(dir.path(), &wasm);
    assert_eq!(line(&found, "world:"), "weir:plugin/exporter-plugin@0.1.0");
    assert_eq!(line(&found, "destination:"), "file");
    assert_eq!(line(&found, "loads:"), "yes");

    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
plugins:
  span_lines: {{path: {wasm}}}
exporters:
  span_lines: {{path: spans.txt, prefix: "span "}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [span_lines]}}
"#,
        wasm = wasm.display()
    );
    let weir = Weir::start(dir.path(), &config);
    let mut conn = Conn::new(weir.http.unwrap());
    let reply = conn
        .post_json(
            "/v1/traces",
            &[],
            spans_json(&["checkout", "pay"]).as_bytes(),
        )
        .unwrap();
    assert_eq!(reply.status, 200, "{reply:?}");
    let out = dir.path().join("spans.txt");
    weir.wait_for("two lines", Duration::from_secs(30), |_| {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() == 2)
    });
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "span 5b8efff798038103d269b633813fc60c checkout\n\
         span 5b8efff798038103d269b633813fc60c pay\n"
    );
}

#[test]
fn a_pin_that_does_not_match_refuses_to_load() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = format!("{PLUGIN_DIR}/stamp_a.wasm");
    let wrong = "0".repeat(64);
    std::fs::write(
        dir.path().join("config.yaml"),
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  stamp:
plugins:
  stamp: {{path: {wasm}, sha256: "sha256:{wrong}"}}
exporters:
  file: {{path: out.json}}
service:
  pipelines:
    traces: {{receivers: [otlp], processors: [stamp], exporters: [file]}}
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
    let actual = {
        use sha2::Digest;
        let bytes = std::fs::read(&wasm).unwrap();
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert!(stderr.contains("plugins.stamp.sha256"), "{stderr}");
    assert!(
        stderr.contains(&format!("expected sha256:{wrong}")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("got sha256:{actual}")), "{stderr}");
    assert!(stderr.contains("stamp_a.wasm"), "{stderr}");
}

#[test]
fn a_restart_loads_compiled_plugins_from_the_disk_cache_and_recompiles_a_corrupt_one() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let cache_env = cache.to_str().unwrap();
    let config = r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
processors:
  attributes: {actions: [{key: a, value: b, action: upsert}]}
exporters:
  file: {path: out.json}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [attributes], exporters: [file]}
"#;
    std::fs::write(dir.path().join("config.yaml"), config).unwrap();
    let start = || {
        let weir = Weir::start_with_env(
            dir.path(),
            &["--config", "config.yaml"],
            &[("WEIR_PLUGIN_CACHE", cache_env)],
        );
        let log = weir.stderr();
        weir.stop();
        let loaded: Vec<String> = log
            .lines()
            .filter(|l| l.contains("loaded plugin"))
            .map(String::from)
            .collect();
        assert_eq!(loaded.len(), 2, "{log}");
        (loaded, log)
    };
    let (cold, _) = start();
    assert!(cold.iter().all(|l| l.contains("compiled")), "{cold:?}");
    let entries: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 2, "one entry per plugin: {entries:?}");

    let (warm, _) = start();
    assert!(warm.iter().all(|l| l.contains("disk_cache")), "{warm:?}");

    // A flipped byte in every entry: never loaded, compiled again.
    for entry in &entries {
        let mut bytes = std::fs::read(entry).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x5a;
        std::fs::write(entry, bytes).unwrap();
    }
    let (again, log) = start();
    assert!(again.iter().all(|l| l.contains("compiled")), "{again:?}");
    assert!(log.contains("corrupt compiled-plugin cache entry"), "{log}");
    let (healed, _) = start();
    assert!(
        healed.iter().all(|l| l.contains("disk_cache")),
        "{healed:?}"
    );
}

#[test]
fn a_pinned_plugin_replaced_on_disk_is_refused_at_reload_and_the_old_one_keeps_running() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let a = std::fs::read(format!("{PLUGIN_DIR}/stamp_a.wasm")).unwrap();
    let b = std::fs::read(format!("{PLUGIN_DIR}/stamp_b.wasm")).unwrap();
    let pin: String = sha2::Sha256::digest(&a)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    std::fs::write(dir.path().join("stamp.wasm"), &a).unwrap();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  stamp:
plugins:
  stamp: {{path: stamp.wasm, sha256: {pin}}}
exporters:
  file: {{path: out.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [stamp], exporters: [file]}}
"#
    );
    let weir = Weir::start(dir.path(), &config);
    // Another build of the plugin, renamed over the pinned one.
    let tmp = dir.path().join("stamp.tmp");
    std::fs::write(&tmp, &b).unwrap();
    std::fs::rename(&tmp, dir.path().join("stamp.wasm")).unwrap();
    weir.wait_for("the refused reload", Duration::from_secs(30), |w| {
        w.metric("weir_config_reload_failures_total", &[]) >= 1.0
    });
    assert!(
        weir.stderr().contains("does not match its pin"),
        "{}",
        weir.stderr()
    );
    let mut conn = Conn::new(weir.http.unwrap());
    let reply = conn
        .post_json("/v1/traces", &[], spans_json(&["after"]).as_bytes())
        .unwrap();
    assert_eq!(reply.status, 200);
    let out = dir.path().join("out.json");
    weir.wait_for("the span", Duration::from_secs(30), |_| {
        std::fs::read_to_string(&out).is_ok_and(|t| t.contains("weir.stamp"))
    });
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains(r#"{"key":"weir.stamp","value":{"stringValue":"a"}}"#),
        "still the pinned build: {text}"
    );
}
