//! Hot reload through the real binary: config changes, plugin `.wasm` swaps
//! and certificate rotation are picked up from disk while telemetry flows,
//! nothing accepted is lost or duplicated, and invalid changes leave the
//! running configuration in place (counted).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::https::HttpsClient;
use common::*;

/// Two configs that differ in one processor's setting; `stamp` is a custom
/// plugin loaded from `stamp.wasm` in the working directory.
fn config(version: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0, tls: {{cert_file: server.crt, key_file: server.key, client_ca_file: ca.crt}}}}
processors:
  batch: {{timeout: 200ms, send_batch_size: 512}}
  attributes/version:
    actions: [{{key: config.version, value: "{version}", action: upsert}}]
  stamp:
plugins:
  stamp: {{path: stamp.wasm}}
exporters:
  file: {{path: out.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch, attributes/version, stamp], exporters: [file]}}
"#
    )
}

/// Writes a file the way editors and deploy tools do: a temporary file renamed over it.
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn plugin(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(PLUGIN_DIR).join(name)).unwrap()
}

/// An OTLP/JSON request of `count` spans named `{prefix}-{i}`.
fn spans(prefix: &str, first: u64, count: u64) -> Vec<u8> {
    let spans: Vec<String> = (first..first + count)
        .map(|i| format!(r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"{i:016x}","name":"{prefix}-{i}"}}"#))
        .collect();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
    .into_bytes()
}

/// Span name → (config.version, weir.stamp) for every span in the file; panics on a duplicate.
fn exported(path: &Path) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let request: serde_json::Value = serde_json::from_str(line).unwrap();
        for rs in request["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for span in ss["spans"].as_array().unwrap() {
                    let attr = |key: &str| {
                        span["attributes"]
                            .as_array()
                            .and_then(|a| a.iter().find(|kv| kv["key"] == key))
                            .and_then(|kv| kv["value"]["stringValue"].as_str())
                            .unwrap_or("")
                            .to_string()
                    };
                    let name = span["name"].as_str().unwrap().to_string();
                    let previous =
                        out.insert(name.clone(), (attr("config.version"), attr("weir.stamp")));
                    assert!(previous.is_none(), "span {name} exported twice");
                }
            }
        }
    }
    out
}

/// Waits for `weir_config_reload_success_total` to pass `count`; returns how long it took.
fn await_reload(weir: &Weir, count: f64, since: Instant) -> Duration {
    weir.wait_for("the reload", Duration::from_secs(30), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= count
    });
    since.elapsed()
}

#[test]
fn reloads_and_plugin_swaps_under_load_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate_certs(d, "reload-client");
    std::fs::write(d.join("stamp.wasm"), plugin("stamp_a.wasm")).unwrap();
    let weir = Weir::start(d, &config("A"));
    let addr = weir.http.unwrap();
    let client = HttpsClient::new(d, d);

    // A steady client: 5 spans a request, retried until accepted, as an SDK would.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(0u64));
    let load = {
        let (stop, sent, client) = (stop.clone(), sent.clone(), client.clone());
        std::thread::spawn(move || {
            let mut next = 0;
            while !stop.load(Ordering::Relaxed) {
                let body = spans("load", next, 5);
                loop {
                    match client.post(addr, "/v1/traces", "application/json", &body) {
                        Ok(200) => break,
                        other => {
                            eprintln!("load request refused ({other:?}); retrying");
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
                next += 5;
                *sent.lock().unwrap() = next;
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };

    let config_path = d.join("config.yaml");
    let mut expected_probes = BTreeMap::new();
    let mut config_latency = Vec::new();
    let mut plugin_latency = Vec::new();
    let mut reloads = 0.0;
    let (mut version, mut stamp) = ("A", "a");
    for round in 0..25 {
        let started = Instant::now();
        if round % 5 == 4 {
            // Every fifth change is a new build of the plugin, not a config change.
            stamp = if stamp == "a" { "b" } else { "a" };
            replace(
                &d.join("stamp.wasm"),
                &plugin(&format!("stamp_{stamp}.wasm")),
            );
            reloads += 1.0;
            plugin_latency.push(await_reload(&weir, reloads, started));
        } else {
            version = if version == "A" { "B" } else { "A" };
            replace(&config_path, config(version).as_bytes());
            reloads += 1.0;
            config_latency.push(await_reload(&weir, reloads, started));
        }
        // The change is live: a request sent now goes through the new pipeline.
        let probe = format!("probe{round}");
        assert_eq!(
            client.post(addr, "/v1/traces", "application/json", &spans(&probe, 0, 1)),
            Ok(200)
        );
        expected_probes.insert(
            format!("{probe}-0"),
            (version.to_string(), stamp.to_string()),
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    let sent = *sent.lock().unwrap();
    assert!(weir.stop().success());

    let out = exported(&d.join("out.json"));
    let load_spans = out.keys().filter(|k| k.starts_with("load-")).count() as u64;
    for i in 0..sent {
        assert!(
            out.contains_key(&format!("load-{i}")),
            "span load-{i} of {sent} lost"
        );
    }
    assert_eq!(load_spans, sent, "every load span exactly once");
    for (probe, want) in &expected_probes {
        assert_eq!(
            out.get(probe),
            Some(want),
            "{probe} went through the wrong pipeline"
        );
    }
    let ms = |v: &[Duration]| {
        let mut v: Vec<u128> = v.iter().map(Duration::as_millis).collect();
        v.sort();
        format!("median {} ms, max {} ms", v[v.len() / 2], v[v.len() - 1])
    };
    println!(
        "{sent} load spans, all exported once; {} config reloads ({}), {} plugin swaps ({})",
        config_latency.len(),
        ms(&config_latency),
        plugin_latency.len(),
        ms(&plugin_latency)
    );
}

#[test]
fn a_rotated_certificate_is_served_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate_certs(d, "old-client");
    std::fs::write(d.join("stamp.wasm"), plugin("stamp_a.wasm")).unwrap();
    let weir = Weir::start(d, &config("A"));
    let addr = weir.http.unwrap();
    assert_eq!(
        HttpsClient::new(d, d).post(addr, "/v1/traces", "application/json", &spans("old", 0, 1)),
        Ok(200)
    );

    let old = tempfile::tempdir().unwrap();
    for file in ["ca.crt", "client.crt", "client.key"] {
        std::fs::copy(d.join(file), old.path().join(file)).unwrap();
    }
    let fresh = tempfile::tempdir().unwrap();
    generate_certs(fresh.path(), "new-client");
    for file in ["server.key", "server.crt", "ca.crt"] {
        replace(
            &d.join(file),
            &std::fs::read(fresh.path().join(file)).unwrap(),
        );
    }
    weir.wait_for("the certificate reload", Duration::from_secs(30), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= 1.0
    });
    // A client trusting only the new CA, with a certificate from it, connects.
    let new_client = HttpsClient::new(fresh.path(), fresh.path());
    assert_eq!(
        new_client.post(addr, "/v1/traces", "application/json", &spans("new", 0, 1)),
        Ok(200)
    );
    // A client of the old CA no longer gets in.
    let refused = HttpsClient::new(old.path(), old.path()).post(
        addr,
        "/v1/traces",
        "application/json",
        &spans("old", 1, 1),
    );
    assert!(
        refused.is_err(),
        "old-CA client still accepted: {refused:?}"
    );
}

#[test]
fn invalid_changes_leave_the_running_config_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate_certs(d, "client");
    std::fs::write(d.join("stamp.wasm"), plugin("stamp_a.wasm")).unwrap();
    let weir = Weir::start(d, &config("A"));
    let addr = weir.http.unwrap();
    let client = HttpsClient::new(d, d);
    let config_path = d.join("config.yaml");
    let good_cert = std::fs::read(d.join("server.crt")).unwrap();
    let good_plugin = plugin("stamp_a.wasm");

    type Change<'a> = Box<dyn Fn() + 'a>;
    let bad_changes: Vec<(&str, Change)> = vec![
        (
            "invalid YAML",
            Box::new(|| replace(&config_path, b"receivers: [unclosed\n")),
        ),
        (
            "unknown plugin type",
            Box::new(|| {
                replace(
                    &config_path,
                    config("A")
                        .replace("  stamp:\nplugins", "  stamp:\n  nosuch:\nplugins")
                        .replace(
                            "attributes/version, stamp]",
                            "attributes/version, stamp, nosuch]",
                        )
                        .as_bytes(),
                )
            }),
        ),
        (
            "a plugin that does not compile",
            Box::new(|| replace(&d.join("stamp.wasm"), b"\0asm not really")),
        ),
        (
            "a plugin that refuses its settings",
            Box::new(|| {
                replace(&d.join("stamp.wasm"), &good_plugin);
                replace(
                    &config_path,
                    config("A")
                        .replace("  stamp:\nplugins", "  stamp: {color: red}\nplugins")
                        .as_bytes(),
                )
            }),
        ),
        (
            "a certificate that does not parse",
            Box::new(|| {
                replace(&config_path, config("A").as_bytes());
                replace(
                    &d.join("server.crt"),
                    b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
                )
            }),
        ),
    ];
    let mut failures = 0.0;
    for (what, change) in &bad_changes {
        change();
        failures += 1.0;
        weir.wait_for(what, Duration::from_secs(30), |w| {
            w.metric("weir_config_reload_failures_total", &[]) >= failures
        });
        // Still serving with the old configuration.
        assert_eq!(
            client.post(addr, "/v1/traces", "application/json", &spans(what, 0, 1)),
            Ok(200),
            "after {what}"
        );
    }
    assert_eq!(
        weir.metric("weir_config_reload_success_total", &[]),
        0.0,
        "no bad change was swapped in"
    );

    // POST /reload says why it refuses; after repair it reloads.
    let admin = format!("http://{}/reload", weir.telemetry.unwrap());
    let out = curl(&["-X", "POST", "-w", "\n%{http_code}", &admin]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.trim_end().ends_with("422") && text.contains("server.crt"),
        "{text}"
    );
    replace(&d.join("server.crt"), &good_cert);
    weir.wait_for("the repaired config", Duration::from_secs(30), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= 1.0
    });
    let out = curl(&["-X", "POST", "-w", "\n%{http_code}", &admin]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim_end()
            .ends_with("200")
    );
    // SIGHUP reloads too.
    let before = weir.metric("weir_config_reload_success_total", &[]);
    weir.signal("HUP");
    weir.wait_for("the SIGHUP reload", Duration::from_secs(30), |w| {
        w.metric("weir_config_reload_success_total", &[]) > before
    });
}
