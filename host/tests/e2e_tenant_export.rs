//! Tenants past the collector, end to end against real binaries:
//! the `otlp` (gRPC) and `otlphttp` exporters set `X-Scope-OrgID` from each
//! batch's tenant (`headers_setter`), and a second weir that finds tenants
//! by that header files each tenant's data apart; a tenant defines its own
//! processors and exporters inside its `tenants.<name>` block.

mod common;

use std::time::Duration;

use common::plain::{Conn, span_names, spans_json};
use common::*;

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn otlp_exporters_send_the_batch_tenant_as_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let b_dir = dir.path().join("b");
    std::fs::create_dir_all(&b_dir).unwrap();
    // B: the tenant is the X-Scope-OrgID header; each tenant's data arrives
    // over gRPC and over HTTP, each into a file of its own.
    let mut b_config = String::from(
        r#"
receivers:
  otlp/grpc: {protocols: {grpc: {endpoint: 127.0.0.1:0}}}
  otlp/http: {protocols: {http: {endpoint: 127.0.0.1:0}}}
exporters:
"#,
    );
    for tenant in ["acme", "globex"] {
        for via in ["grpc", "http"] {
            b_config.push_str(&format!(
                "  file/{tenant}_{via}: {{path: {tenant}_{via}.json}}\n"
            ));
        }
    }
    b_config.push_str(
        "tenancy: {sources: [{from: header, name: X-Scope-OrgID}], unknown: refuse}\ntenants:\n",
    );
    for tenant in ["acme", "globex"] {
        b_config.push_str(&format!(
            "  {tenant}:\n    pipelines:\n      traces/grpc: {{receivers: [otlp/grpc], exporters: [file/{tenant}_grpc]}}\n      traces/http: {{receivers: [otlp/http], exporters: [file/{tenant}_http]}}\n"
        ));
    }
    b_config.push_str("service:\n  telemetry: {metrics: {address: 127.0.0.1:0}}\n");
    let b = Weir::start(&b_dir, &b_config);

    // A: the tenant is X-Team (not the header B reads), and both exporters
    // write it to X-Scope-OrgID.
    let a = Weir::start(
        dir.path(),
        &format!(
            r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: 127.0.0.1:0}}}}}}
processors:
  batch: {{timeout: 100ms}}
exporters:
  otlp:
    endpoint: {grpc}
    tls: {{insecure: true}}
    headers_setter: [{{key: X-Scope-OrgID, from_context: tenant}}]
  otlphttp:
    endpoint: http://{http}
    headers_setter:
      - {{key: X-Scope-OrgID, from_context: tenant}}
tenancy: {{sources: [{{from: header, name: X-Team}}]}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [otlp, otlphttp]}}
"#,
            grpc = b.grpc.unwrap(),
            http = b.http.unwrap(),
        ),
    );
    let mut conn = Conn::new(a.http.unwrap());
    let mut sent = std::collections::BTreeMap::new();
    for (tenant, n) in [("acme", 7), ("globex", 5)] {
        let batch = names(tenant, n);
        let reply = conn
            .post_json(
                "/v1/traces",
                &[("X-Team", tenant)],
                spans_json(&batch).as_bytes(),
            )
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        sent.insert(tenant, batch);
    }
    for (tenant, batch) in &sent {
        for via in ["grpc", "http"] {
            let path = b_dir.join(format!("{tenant}_{via}.json"));
            b.wait_for(
                &format!("{tenant}'s spans over {via}"),
                Duration::from_secs(60),
                |_| span_names(&path).len() >= batch.len(),
            );
            assert_eq!(
                sorted(span_names(&path)),
                sorted(batch.clone()),
                "{tenant} over {via}: only its own spans"
            );
        }
    }
    // B refused nothing: every request named a tenant it knows.
    assert_eq!(
        b.metric("weir_tenant_unidentified_requests_total", &[]),
        0.0
    );
}

#[test]
fn headers_setter_errors_name_the_exporter_and_item() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        r#"
receivers:
  otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:9
    headers_setter: [{key: X-Scope-OrgID}]
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [otlphttp]}
"#,
    )
    .unwrap();
    let out = std::process::Command::new(WEIR)
        .args(["validate", "--config", "config.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("config.yaml"), "{text}");
    assert!(
        text.contains("exporters.otlphttp.headers_setter[0]")
            && text.contains("exactly one of `value` and `from_context`"),
        "{text}"
    );
}

/// `(span name, value of its `team` attribute)` in a file exporter's output.
fn named_teams(path: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let team = s["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|kv| kv["key"] == "team")
                        .and_then(|kv| kv["value"]["stringValue"].as_str())
                        .unwrap_or("")
                        .to_string();
                    out.push((s["name"].as_str().unwrap_or("").to_string(), team));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_tenant_defines_its_own_processors_and_exporters() {
    let dir = tempfile::tempdir().unwrap();
    // Both tenants name `attributes/tag` and `file/out`, each its own; the
    // shared `batch` comes from the top level; `globex` also uses the
    // top-level `file/shared`.
    let config = r#"
receivers:
  otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}
processors:
  batch: {timeout: 100ms}
exporters:
  file/shared: {path: shared.json}
tenancy: {sources: [{from: header}], unknown: refuse}
tenants:
  acme:
    processors:
      attributes/tag: {actions: [{key: team, value: acme, action: insert}]}
    exporters:
      file/out: {path: acme.json}
    pipelines:
      traces: {receivers: [otlp], processors: [attributes/tag, batch], exporters: [file/out]}
  globex:
    processors:
      attributes/tag: {actions: [{key: team, value: globex, action: insert}]}
    exporters:
      file/out: {path: globex.json}
    pipelines:
      traces: {receivers: [otlp], processors: [batch, attributes/tag], exporters: [file/out, file/shared]}
service:
  telemetry: {metrics: {address: 127.0.0.1:0}}
"#;
    let weir = Weir::start(dir.path(), config);
    let mut conn = Conn::new(weir.http.unwrap());
    for (tenant, n) in [("acme", 4), ("globex", 3)] {
        let reply = conn
            .post_json(
                "/v1/traces",
                &[("X-Scope-OrgID", tenant)],
                spans_json(&names(tenant, n)).as_bytes(),
            )
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let expect = |tenant: &str, n: usize| -> Vec<(String, String)> {
        names(tenant, n)
            .into_iter()
            .map(|name| (name, tenant.to_string()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    for (file, tenant, n) in [
        ("acme.json", "acme", 4),
        ("globex.json", "globex", 3),
        ("shared.json", "globex", 3),
    ] {
        let path = dir.path().join(file);
        weir.wait_for(file, Duration::from_secs(60), |_| {
            named_teams(&path).len() >= n
        });
        assert_eq!(named_teams(&path), expect(tenant, n), "{file}");
    }
    // Each tenant's components are its own, labelled with the tenant.
    for tenant in ["acme", "globex"] {
        assert!(
            weir.metric(
                "weir_plugin_calls_total",
                &[
                    ("component", &format!("attributes/tag@{tenant}")),
                    ("outcome", "ok")
                ]
            ) >= 1.0,
            "{}",
            weir.metrics()
        );
    }
}

#[test]
fn a_tenant_component_error_names_the_file_and_key_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        r#"
receivers:
  otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}
exporters:
  debug:
tenants:
  acme:
    processors:
      attributes/tag: {actions: [{key: team, action: shout}]}
    exporters:
      file/out: {}
    pipelines:
      traces: {receivers: [otlp], processors: [attributes/tag], exporters: [file/out]}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
"#,
    )
    .unwrap();
    let out = std::process::Command::new(WEIR)
        .args(["validate", "--config", "config.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    for want in [
        "config.yaml:9: tenants.acme.processors.attributes/tag.actions[0].action: unknown action `shout`",
        "config.yaml:11: tenants.acme.exporters.file/out.path: required",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
}
