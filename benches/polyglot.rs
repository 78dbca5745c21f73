//! Per-batch cost of the Python and JavaScript example plugins against the
//! built-in Rust plugins doing the same job, on the same 1,000-item
//! batches (the shared load-test requests, `shared/otlp-payloads`):
//!
//! - redact emails in logs: `examples/plugins/python-redact-emails`
//!   (componentize-py) vs `transform` with `replace_pattern`;
//! - drop health-check spans: `examples/plugins/js-drop-health`
//!   (jco componentize) vs `filter` with span conditions.
//!
//! Each job runs on the shared request as it is (no address, no health
//! check: the common case) and on a copy where a third of the log bodies
//! carry two addresses (a fifth also one in an attribute), or a tenth of
//! the spans are health checks. Before criterion runs, a table of ms per
//! batch and the ratio to Rust is printed.
//!
//! The components are built first when missing (componentize-py, and
//! `npm ci` done in `examples/plugins/js-drop-health`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use prost::Message;
use weir::Signal;
use weir::plugin::{CallContext, Grants, PluginEngine, PluginLimits, ProcessorPool, builtin_bytes};

const EMAIL: &str = "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

fn shared(signal: &str) -> Vec<u8> {
    let path = repo().join(format!("../shared/otlp-payloads/{signal}-r10-i100.pb"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The example's component, built with its README's command when missing.
fn component(dir: &str, file: &str, program: &str, args: &[&str]) -> Vec<u8> {
    let dir = repo().join(dir);
    if !dir.join(file).exists() {
        let status = Command::new(program)
            .args(args)
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(status.success(), "{program} failed in {}", dir.display());
    }
    std::fs::read(dir.join(file)).unwrap()
}

fn string(text: String) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(V::StringValue(text)),
    })
}

fn with_emails(payload: &[u8]) -> Vec<u8> {
    let mut request = ExportLogsServiceRequest::decode(payload).unwrap();
    let records = request
        .resource_logs
        .iter_mut()
        .flat_map(|r| &mut r.scope_logs)
        .flat_map(|s| &mut s.log_records);
    for (i, record) in records.enumerate() {
        if i % 3 == 0 {
            record.body = string(format!(
                "user alice.{i}@example.com logged in from bob@corp.example.org"
            ));
        }
        if i % 5 == 0 {
            record.attributes.push(KeyValue {
                key: "user.email".into(),
                value: string(format!("carol+{i}@mail.example.net")),
                ..Default::default()
            });
        }
    }
    request.encode_to_vec()
}

fn with_health_checks(payload: &[u8]) -> Vec<u8> {
    let mut request = ExportTraceServiceRequest::decode(payload).unwrap();
    let spans = request
        .resource_spans
        .iter_mut()
        .flat_map(|r| &mut r.scope_spans)
        .flat_map(|s| &mut s.spans);
    for (i, span) in spans.enumerate() {
        if i % 10 == 0 {
            span.name = "/healthz".into();
        }
    }
    request.encode_to_vec()
}

struct Job {
    name: &'static str,
    signal: Signal,
    rust: ProcessorPool,
    guest: ProcessorPool,
    guest_lang: &'static str,
    inputs: Vec<(&'static str, Vec<u8>)>,
}

fn pool(engine: &PluginEngine, name: &str, bytes: &[u8], config: String) -> ProcessorPool {
    let component = engine.compile(name, bytes).unwrap();
    let limits = PluginLimits {
        memory_mib: 256,
        recycle_above_mib: 200,
        timeout: Duration::from_secs(60),
        max_instances: 1,
        ..PluginLimits::default()
    };
    engine
        .processor_pool(name, name, &component, config, limits, Grants::default())
        .unwrap()
}

fn jobs(engine: &PluginEngine) -> Vec<Job> {
    let python = component(
        "examples/plugins/python-redact-emails",
        "redact_emails.wasm",
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
    );
    let js = component(
        "examples/plugins/js-drop-health",
        "drop_health.wasm",
        "npm",
        &["run", "build"],
    );
    let transform = serde_json::json!({
        "error_mode": "propagate",
        "log_statements": [{"context": "log", "statements": [
            format!(r#"replace_pattern(log.body, "{EMAIL}", "[redacted]")"#),
            format!(r#"replace_all_patterns(log.attributes, "value", "{EMAIL}", "[redacted]")"#),
        ]}],
    });
    let mut conditions = Vec::new();
    for path in ["/health", "/healthz", "/ready"] {
        for field in [
            "name",
            r#"attributes["http.route"]"#,
            r#"attributes["url.path"]"#,
        ] {
            conditions.push(format!(r#"{field} == "{path}""#));
        }
    }
    let filter = serde_json::json!({"error_mode": "propagate", "traces": {"span": conditions}});
    let logs = shared("logs");
    let traces = shared("traces");
    vec![
        Job {
            name: "redact_emails_1000_logs",
            signal: Signal::Logs,
            rust: pool(
                engine,
                "transform",
                builtin_bytes("transform").unwrap(),
                transform.to_string(),
            ),
            guest: pool(engine, "redact_emails", &python, "{}".into()),
            guest_lang: "python",
            inputs: vec![
                ("no_address", logs.clone()),
                ("with_addresses", with_emails(&logs)),
            ],
        },
        Job {
            name: "drop_health_1000_spans",
            signal: Signal::Traces,
            rust: pool(
                engine,
                "filter",
                builtin_bytes("filter").unwrap(),
                filter.to_string(),
            ),
            guest: pool(engine, "drop_health", &js, "{}".into()),
            guest_lang: "js",
            inputs: vec![
                ("no_health_check", traces.clone()),
                ("tenth_health_checks", with_health_checks(&traces)),
            ],
        },
    ]
}

/// Mean wall time of one call over `n` calls, after one warm-up call.
fn mean_ms(
    runtime: &tokio::runtime::Runtime,
    pool: &ProcessorPool,
    signal: Signal,
    input: &[u8],
    n: u32,
) -> f64 {
    let ctx = CallContext::default();
    let call = || {
        runtime
            .block_on(pool.process(&ctx, signal, input.to_vec()))
            .unwrap()
    };
    call();
    let start = Instant::now();
    for _ in 0..n {
        call();
    }
    start.elapsed().as_secs_f64() * 1000.0 / n as f64
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = PluginEngine::new().unwrap();
    let jobs = jobs(&engine);
    let ctx = CallContext::default();

    println!("\njob / input                               rust ms   guest ms   guest/rust");
    for job in &jobs {
        for (input_name, input) in &job.inputs {
            let rust = mean_ms(&runtime, &job.rust, job.signal, input, 20);
            let guest = mean_ms(&runtime, &job.guest, job.signal, input, 20);
            println!(
                "{:<42}{rust:>8.2}{guest:>11.2}{:>12.1}x  ({})",
                format!("{} / {input_name}", job.name),
                guest / rust,
                job.guest_lang
            );
        }
    }

    for job in &jobs {
        let mut group = c.benchmark_group(job.name);
        group.throughput(Throughput::Elements(1000));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(5));
        for (input_name, input) in &job.inputs {
            for (lang, pool) in [("rust", &job.rust), (job.guest_lang, &job.guest)] {
                group.bench_function(format!("{lang}/{input_name}"), |b| {
                    b.iter(|| {
                        runtime
                            .block_on(pool.process(&ctx, job.signal, input.clone()))
                            .unwrap()
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
