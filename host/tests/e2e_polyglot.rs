//! Plugins in Python and JavaScript pass the same behaviour tests as the Rust
//! ones doing the same job, through the real binary: one collector runs the
//! same batches through a Rust pipeline and a Python (or JavaScript) pipeline
//! side by side, each into its own `file` exporter, and the outputs must be
//! the same item for item, and right.
//!
//! - `examples/plugins/python-redact-emails` (componentize-py) against the
//!   built-in `transform` with `replace_pattern` / `replace_all_patterns`;
//! - `examples/plugins/js-drop-health` (jco componentize) against the
//!   built-in `filter` with span-name and route conditions.
//!
//! The components are built by the tests, with the commands the examples'
//! READMEs give. A missing componentize-py or jco is a failure that says how
//! to install it (`scripts/test` and `.ci/run` do), never a skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::Value;

/// Cranelift compiles the 12-18 MB components in seconds on an idle
/// machine, but took 85 s for the JavaScript one on a loaded 2-core one.
const WAIT: Duration = Duration::from_secs(600);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

/// The shared 1,000-item request of `signal` (made outside this project,
/// in `shared/` beside the checkout), or one made here when it is absent.
fn shared_request(signal: &str) -> Vec<u8> {
    let path = repo().join(format!("../shared/otlp-payloads/{signal}-r10-i100.pb"));
    std::fs::read(&path).unwrap_or_else(|_| {
        eprintln!(
            "{} is absent: using weir::test_util's {signal}",
            path.display()
        );
        match signal {
            "logs" => weir::test_util::encode(&weir::test_util::logs(1000, 5)),
            _ => weir::test_util::encode(&weir::test_util::traces(1000, 5)),
        }
    })
}

/// Runs a build command in `dir`; a missing tool is a loud failure.
fn build(dir: &Path, program: &str, args: &[&str], install: &str) -> PathBuf {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program}` ({e}): {install}"));
    assert!(
        out.status.success(),
        "`{program} {}` failed in {}:\n{}\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir.to_path_buf()
}

/// Builds the Python example; returns the component's path.
pub fn build_python() -> PathBuf {
    let dir = repo().join("examples/plugins/python-redact-emails");
    build(
        &dir,
        "componentize-py",
        &[
            "-d",
            "../../../wit",
            "-w",
            "processor-plugin",
            "componentize",
            "--stub-wasi",
            "app",
            "-o",
            "redact_emails.wasm",
        ],
        "install it with `python3 -m pip install -r examples/plugins/python-redact-emails/requirements.txt` (scripts/test does)",
    )
    .join("redact_emails.wasm")
}

/// Builds the JavaScript example (`npm run build`); returns the component's path.
pub fn build_js() -> PathBuf {
    let dir = repo().join("examples/plugins/js-drop-health");
    assert!(
        dir.join("node_modules/.bin/jco").exists(),
        "jco is not installed: run `npm ci --prefix examples/plugins/js-drop-health` (scripts/test does)"
    );
    build(&dir, "npm", &["run", "build"], "install node and npm").join("drop_health.wasm")
}

fn s(text: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(V::StringValue(text.into())),
    })
}

fn kv(key: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value,
        ..Default::default()
    }
}

fn resource(name: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv("service.name", s(name))],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "polyglot".into(),
        ..Default::default()
    })
}

fn log(body: Option<AnyValue>, attributes: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        time_unix_nano: 1_700_000_000_000_000_000,
        severity_number: 9,
        severity_text: "INFO".into(),
        body,
        attributes,
        ..Default::default()
    }
}

/// Log records with addresses where both implementations must find them
/// (string bodies, string attribute values) and where both must leave them
/// (a map body, a list attribute, text that only looks like one), and how
/// many addresses are to be redacted.
fn email_logs() -> (ExportLogsServiceRequest, u64) {
    let records = [
        log(
            s("user alice@example.com logged in"),
            vec![
                kv("user.email", s("bob.smith+tag@corp.example.org")),
                kv(
                    "n",
                    Some(AnyValue {
                        value: Some(V::IntValue(5)),
                    }),
                ),
            ],
        ),
        log(s("two: a.b@x.io, c_d@y.co.uk."), vec![]),
        log(s("no address here"), vec![kv("k", s("v"))]),
        log(s("not one either: foo@bar and @example.com"), vec![]),
        // Non-ASCII letters are outside the address's character classes.
        log(s("héllo ünïcode@example.com ✓"), vec![]),
        log(
            Some(AnyValue {
                value: Some(V::KvlistValue(KeyValueList {
                    values: vec![kv("email", s("nested@example.com"))],
                })),
            }),
            vec![kv(
                "list",
                Some(AnyValue {
                    value: Some(V::ArrayValue(ArrayValue {
                        values: vec![s("in@list.example.com").unwrap()],
                    })),
                }),
            )],
        ),
        log(None, vec![kv("reply_to", s("Reply-To: ops@example.net"))]),
    ];
    // alice, bob, a.b, c_d, code@example.com, ops
    let redacted = 6;
    let request = ExportLogsServiceRequest {
        resource_logs: vec![
            ResourceLogs {
                resource: resource("checkout"),
                scope_logs: vec![ScopeLogs {
                    scope: scope(),
                    log_records: records[..4].to_vec(),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceLogs {
                resource: resource("billing"),
                scope_logs: vec![ScopeLogs {
                    scope: scope(),
                    log_records: records[4..].to_vec(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    };
    (request, redacted)
}

fn span(name: &str, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![7; 16],
        span_id: vec![name.len() as u8 + 1; 8],
        name: name.into(),
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_100_000_000,
        attributes,
        ..Default::default()
    }
}

fn scope_spans(spans: Vec<Span>) -> ScopeSpans {
    ScopeSpans {
        scope: scope(),
        spans,
        ..Default::default()
    }
}

/// Spans that are health checks by name, by `http.route` or by `url.path`,
/// and some that only look like one; a scope and a resource with nothing
/// but health checks (both must be removed). Returns the request and how
/// many spans are dropped.
fn health_spans() -> (ExportTraceServiceRequest, u64) {
    let request = ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: resource("api"),
                scope_spans: vec![
                    scope_spans(vec![
                        span("GET /users", vec![kv("http.route", s("/users/:id"))]),
                        span("/health", vec![]),
                        span("GET", vec![kv("http.route", s("/healthz"))]),
                        span("probe", vec![kv("url.path", s("/ready"))]),
                        span("probe", vec![kv("url.path", s("/ready/more"))]),
                        span("/Health", vec![]),
                        span("other", vec![kv("route", s("/health"))]),
                    ]),
                    scope_spans(vec![span("/healthz", vec![]), span("/ready", vec![])]),
                ],
                ..Default::default()
            },
            ResourceSpans {
                resource: resource("probes"),
                scope_spans: vec![scope_spans(vec![span(
                    "GET",
                    vec![kv("url.path", s("/health"))],
                )])],
                ..Default::default()
            },
        ],
    };
    (request, 6)
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every item of an OTLP/JSON output file, with its resource and scope, as
/// sorted JSON text: the same data cut into other batches compares equal.
/// Also checks that no resource or scope is left empty.
fn items(path: &Path, resources: &str, scopes: &str, records: &str) -> Vec<String> {
    let mut out = Vec::new();
    for request in lines(path) {
        for r in request[resources].as_array().into_iter().flatten() {
            let scope_list = r[scopes].as_array().unwrap();
            assert!(!scope_list.is_empty(), "a resource left empty: {r}");
            for sc in scope_list {
                let list = sc[records].as_array().unwrap();
                assert!(!list.is_empty(), "a scope left empty: {sc}");
                for item in list {
                    out.push(format!("{} {} {}", r["resource"], sc["scope"], item));
                }
            }
        }
    }
    out.sort();
    out
}

fn post(weir: &Weir, path: &str, body: &Path) {
    let url = format!("http://{}{path}", weir.http.unwrap());
    let out = curl(&[
        "-f",
        "-H",
        "Content-Type: application/x-protobuf",
        "--data-binary",
        &format!("@{}", body.display()),
        &url,
    ]);
    assert!(
        out.status.success(),
        "POST {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes each request to a file in `dir` and returns the files.
fn bodies(dir: &Path, signal: &str, requests: &[&[u8]]) -> Vec<PathBuf> {
    requests
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let path = dir.join(format!("{signal}-{i}.pb"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

const EMAIL: &str = "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}";

#[test]
fn python_redacts_emails_as_the_rust_transform_does() {
    let wasm = build_python();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
plugins:
  redact_emails:
    path: {wasm}
    limits: {{memory_mib: 256, recycle_above_mib: 200, timeout: 30s}}
processors:
  redact_emails: {{replacement: "[redacted]"}}
  transform:
    error_mode: propagate
    log_statements:
      - context: log
        statements:
          - 'replace_pattern(log.body, "{EMAIL}", "[redacted]")'
          - 'replace_all_patterns(log.attributes, "value", "{EMAIL}", "[redacted]")'
exporters:
  file/rust: {{path: rust.json}}
  file/python: {{path: python.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    logs/rust: {{receivers: [otlp], processors: [transform], exporters: [file/rust]}}
    logs/python: {{receivers: [otlp], processors: [redact_emails], exporters: [file/python]}}
"#,
        wasm = wasm.display()
    );
    let weir = Weir::start_within(dir.path(), &config, WAIT);
    let (request, redacted) = email_logs();
    let shared = shared_request("logs");
    let shared_count: usize = ExportLogsServiceRequest::decode(&shared[..])
        .unwrap()
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    let expected = request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum::<usize>()
        * 2
        + shared_count;
    // The hand-made request twice (once more after the shared one), so a
    // reused instance is exercised too.
    let files = bodies(dir.path(), "logs", &[&request.encode_to_vec(), &shared]);
    for f in files.iter().chain(&files[..1]) {
        post(&weir, "/v1/logs", f);
    }
    let (rust, python) = (dir.path().join("rust.json"), dir.path().join("python.json"));
    let count = |p: &Path| items(p, "resourceLogs", "scopeLogs", "logRecords").len();
    weir.wait_for("every log record in both files", WAIT, |_| {
        count(&rust) == expected && count(&python) == expected
    });

    let (rust_items, python_items) = (
        items(&rust, "resourceLogs", "scopeLogs", "logRecords"),
        items(&python, "resourceLogs", "scopeLogs", "logRecords"),
    );
    assert_eq!(python_items, rust_items, "Python and Rust outputs differ");
    // And they are right: the addresses in strings are gone, the others stay.
    let text = python_items.join("\n");
    for gone in [
        "alice@",
        "bob.smith",
        "a.b@x.io",
        "c_d@",
        "code@example.com",
        "ops@",
    ] {
        assert!(!text.contains(gone), "{gone} was not redacted");
    }
    for kept in [
        "nested@example.com",
        "in@list.example.com",
        "foo@bar and @example.com",
        "héllo ünï[redacted] ✓",
    ] {
        assert!(text.contains(kept), "{kept} is missing");
    }
    assert_eq!(text.matches("[redacted]").count() as u64, redacted * 2);
    assert_eq!(
        weir.metric(
            "weir_plugin_counter_total",
            &[("component", "redact_emails"), ("name", "redacted_emails")]
        ),
        (redacted * 2) as f64
    );
}

#[test]
fn javascript_drops_health_checks_as_the_rust_filter_does() {
    let wasm = build_js();
    let dir = tempfile::tempdir().unwrap();
    let mut conditions = String::new();
    for path in ["/health", "/healthz", "/ready"] {
        for field in [
            "name",
            r#"attributes["http.route"]"#,
            r#"attributes["url.path"]"#,
        ] {
            conditions.push_str(&format!("        - '{field} == \"{path}\"'\n"));
        }
    }
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
plugins:
  drop_health:
    path: {wasm}
    limits: {{memory_mib: 128, recycle_above_mib: 100, timeout: 30s}}
processors:
  drop_health: {{paths: [/health, /healthz, /ready], attributes: [http.route, url.path]}}
  filter:
    error_mode: propagate
    traces:
      span:
{conditions}
exporters:
  file/rust: {{path: rust.json}}
  file/js: {{path: js.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces/rust: {{receivers: [otlp], processors: [filter], exporters: [file/rust]}}
    traces/js: {{receivers: [otlp], processors: [drop_health], exporters: [file/js]}}
"#,
        wasm = wasm.display()
    );
    let weir = Weir::start_within(dir.path(), &config, WAIT);
    let (request, dropped) = health_spans();
    let total = |r: &ExportTraceServiceRequest| -> usize {
        r.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    };
    let shared_bytes = shared_request("traces");
    let shared = ExportTraceServiceRequest::decode(&shared_bytes[..]).unwrap();
    // The shared request is not ours: count its health checks by the rule.
    let is_health = |sp: &Span| {
        let health = |v: &str| ["/health", "/healthz", "/ready"].contains(&v);
        health(&sp.name)
            || sp.attributes.iter().any(|kv| {
                ["http.route", "url.path"].contains(&kv.key.as_str())
                    && matches!(kv.value.as_ref().and_then(|v| v.value.as_ref()), Some(V::StringValue(s)) if health(s))
            })
    };
    let shared_dropped = shared
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .filter(|sp| is_health(sp))
        .count();
    let expected = (total(&request) - dropped as usize) * 2 + total(&shared) - shared_dropped;
    let files = bodies(
        dir.path(),
        "traces",
        &[&request.encode_to_vec(), &shared_bytes],
    );
    for f in files.iter().chain(&files[..1]) {
        post(&weir, "/v1/traces", f);
    }
    let (rust, js) = (dir.path().join("rust.json"), dir.path().join("js.json"));
    let count = |p: &Path| items(p, "resourceSpans", "scopeSpans", "spans").len();
    weir.wait_for("every kept span in both files", WAIT, |_| {
        count(&rust) == expected && count(&js) == expected
    });

    let (rust_items, js_items) = (
        items(&rust, "resourceSpans", "scopeSpans", "spans"),
        items(&js, "resourceSpans", "scopeSpans", "spans"),
    );
    assert_eq!(js_items, rust_items, "JavaScript and Rust outputs differ");
    // And they are right: what is left of ours is what is not a health check.
    let text = js_items.join("\n");
    for kept in ["GET /users", "/ready/more", "/Health", r#""key":"route""#] {
        assert!(text.contains(kept), "{kept} is missing");
    }
    assert!(
        !text.contains(r#""probes""#),
        "the all-health resource is left"
    );
    let dropped_total = (dropped * 2) as f64 + shared_dropped as f64;
    assert_eq!(
        weir.metric(
            "weir_plugin_counter_total",
            &[("component", "drop_health"), ("name", "dropped_items")]
        ),
        dropped_total
    );
}
