//! Tenant isolation and scaling, end to end against the real `weir`
//! binary (not criterion: each scenario is a load run of seconds).
//!
//! 1. Isolation: tenant `steady` sends 20 requests/s of 50 spans through a
//!    `chaos` processor; its request (Export) latency is measured alone,
//!    then while tenant `flood` sends 10x its rate limit through the same
//!    plugin type with every batch trapping it. Reported: steady's p50/p99
//!    with and without the flood, steady's losses, flood's 429s.
//! 2. Scaling: the same load (requests of 100 spans from 4 client threads)
//!    sent as 1 tenant and spread over 100 tenants, each tenant with its own
//!    pipeline (batch → file exporter): items/s until all are exported.
//!
//! Run: `cargo bench -p weir --bench tenants` (WEIR_BENCH_SECONDS, default 10).

#[path = "../host/tests/common/plain.rs"]
mod plain;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use plain::{Conn, percentile, span_names, spans_json};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");
const PLUGIN_DIR: &str = env!("WEIR_PLUGIN_DIR");

struct Weir {
    child: Child,
    http: SocketAddr,
    telemetry: SocketAddr,
}

impl Weir {
    fn start(dir: &Path, config: &str) -> Weir {
        std::fs::write(dir.join("config.yaml"), config).unwrap();
        let mut child = Command::new(WEIR)
            .args(["--config", "config.yaml"])
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (mut http, mut telemetry) = (None, None);
        let mut lines = stderr.lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            seen.push(line.clone());
            let addr = line
                .split("address=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|a| a.parse().ok());
            if line.contains("transport=\"http\"") {
                http = addr;
            } else if line.contains("transport=\"telemetry\"") {
                telemetry = addr;
            }
            if line.contains(" ready") {
                break;
            }
        }
        // Keep draining stderr so the collector never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Weir {
            child,
            http: http.unwrap_or_else(|| panic!("no http address in:\n{}", seen.join("\n"))),
            telemetry: telemetry.expect("telemetry address"),
        }
    }

    fn metric(&self, name: &str, label: &str) -> f64 {
        let mut stream = TcpStream::connect(self.telemetry).unwrap();
        write!(stream, "GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text.lines()
            .filter(|l| l.starts_with(name) && l.contains(label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Weir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn seconds() -> f64 {
    std::env::var("WEIR_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0)
}

/// Sends `rate` requests/s of `spans` spans as `tenant` for `secs`; the
/// latencies of the accepted requests, the other statuses, and the span
/// names accepted.
fn paced(
    addr: SocketAddr,
    tenant: &str,
    rate: f64,
    spans: usize,
    secs: f64,
    name: impl Fn(usize) -> String,
) -> (Vec<Duration>, Vec<u16>, Vec<String>, usize) {
    let mut conn = Conn::new(addr);
    let started = Instant::now();
    let (mut latencies, mut refused, mut accepted) = (Vec::new(), Vec::new(), Vec::new());
    let mut hinted = 0;
    let mut n = 0;
    while started.elapsed().as_secs_f64() < secs {
        let due = Duration::from_secs_f64(n as f64 / rate);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let names: Vec<String> = (0..spans).map(|i| name(n * spans + i)).collect();
        let reply = conn
            .post_json(
                "/v1/traces",
                &[("X-Scope-OrgID", tenant)],
                spans_json(&names).as_bytes(),
            )
            .unwrap();
        if reply.status == 200 {
            latencies.push(reply.latency);
            accepted.extend(names);
        } else {
            if reply.header("retry-after").is_some() {
                hinted += 1;
            }
            refused.push(reply.status);
        }
        n += 1;
    }
    (latencies, refused, accepted, hinted)
}

fn isolation() {
    let secs = seconds();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: 127.0.0.1:0}}}}}}
processors:
  batch: {{timeout: 200ms}}
  chaos:
plugins:
  chaos: {{path: {PLUGIN_DIR}/chaos.wasm, limits: {{timeout: 500ms}}}}
exporters:
  file/flood: {{path: flood.json}}
  file/steady: {{path: steady.json}}
tenancy: {{sources: [{{from: header}}], unknown: refuse}}
tenants:
  flood:
    rate_limit: {{items_per_second: 1000, burst: 1000}}
    pipelines: {{traces: {{receivers: [otlp], processors: [chaos, batch], exporters: [file/flood]}}}}
  steady:
    pipelines: {{traces: {{receivers: [otlp], processors: [chaos, batch], exporters: [file/steady]}}}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"#
    );
    let mut results = Vec::new();
    for with_flood in [false, true] {
        let run = dir.path().join(if with_flood { "with" } else { "alone" });
        std::fs::create_dir_all(&run).unwrap();
        let weir = Weir::start(&run, &config);
        let addr = weir.http;
        // Warm up the steady tenant's instances before measuring.
        paced(addr, "steady", 20.0, 50, 1.0, |i| format!("warm-{i}"));
        let flood = with_flood.then(|| {
            std::thread::spawn(move || {
                // 10x the 1000 items/s limit: 100 requests/s of 100 trapping spans.
                paced(addr, "flood", 100.0, 100, secs, |_| {
                    "weir-chaos:trap".into()
                })
            })
        });
        let (latencies, refused, accepted, _) =
            paced(addr, "steady", 20.0, 50, secs, |i| format!("steady-{i}"));
        let flood = flood.map(|f| f.join().unwrap());
        let path = run.join("steady.json");
        let deadline = Instant::now() + Duration::from_secs(60);
        let steady_spans = || -> Vec<String> {
            span_names(&path)
                .into_iter()
                .filter(|n| n.starts_with("steady-"))
                .collect()
        };
        while steady_spans().len() < accepted.len() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let exported = steady_spans();
        let traps = weir.metric(
            "weir_plugin_calls_total",
            "component=\"chaos@flood\",function=\"process\",outcome=\"trap\"",
        );
        results.push((
            with_flood,
            latencies,
            refused,
            accepted.len(),
            exported.len(),
            flood,
            traps,
        ));
    }
    println!("\n== isolation: steady tenant, 20 req/s x 50 spans for {secs} s ==");
    let mut p99s = Vec::new();
    for (with_flood, latencies, refused, accepted, exported, flood, traps) in &results {
        let p50 = percentile(latencies, 50.0);
        let p99 = percentile(latencies, 99.0);
        p99s.push(p99);
        println!(
            "{}: steady p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; requests ok {}, refused {}; spans accepted {accepted}, exported {exported} (lost {})",
            if *with_flood {
                "with flood   "
            } else {
                "without flood"
            },
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            latencies
                .iter()
                .max()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3,
            latencies.len(),
            refused.len(),
            accepted - exported.min(accepted),
        );
        if let Some((ok, refused, _, hinted)) = flood {
            println!(
                "               flood: {} requests accepted, {} refused ({} x 429, {hinted} with Retry-After); chaos@flood traps: {traps}",
                ok.len(),
                refused.len(),
                refused.iter().filter(|s| **s == 429).count(),
            );
        }
    }
    println!(
        "steady p99 with flood / without: {:.2}x",
        p99s[1].as_secs_f64() / p99s[0].as_secs_f64()
    );
}

fn scaling() {
    const THREADS: usize = 4;
    const SPANS: usize = 100;
    let secs = seconds();
    println!("\n== scaling: {THREADS} client threads, requests of {SPANS} spans, {secs} s ==");
    for tenants in [1usize, 100] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = String::from(
            r#"
receivers:
  otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}
processors:
  batch: {timeout: 200ms, send_batch_size: 2048}
exporters:
"#,
        );
        for t in 0..tenants {
            config.push_str(&format!("  file/t{t}: {{path: t{t}.bin, format: proto}}\n"));
        }
        config.push_str("tenancy: {sources: [{from: header}], unknown: refuse}\ntenants:\n");
        for t in 0..tenants {
            config.push_str(&format!(
                "  t{t}: {{pipelines: {{traces: {{receivers: [otlp], processors: [batch], exporters: [file/t{t}]}}}}}}\n"
            ));
        }
        config.push_str("service:\n  telemetry: {metrics: {address: \"127.0.0.1:0\"}}\n");
        let started = Instant::now();
        let weir = Weir::start(dir.path(), &config);
        let start_ms = started.elapsed().as_millis();
        let addr = weir.http;
        let sent = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let workers: Vec<_> = (0..THREADS)
            .map(|w| {
                let sent = sent.clone();
                std::thread::spawn(move || {
                    let mut conn = Conn::new(addr);
                    let body = spans_json(&vec!["load"; SPANS]);
                    let mut n = w;
                    while started.elapsed().as_secs_f64() < secs {
                        let tenant = format!("t{}", n % tenants);
                        let reply = conn
                            .post_json("/v1/traces", &[("X-Scope-OrgID", &tenant)], body.as_bytes())
                            .unwrap();
                        assert_eq!(reply.status, 200, "{}", reply.body);
                        sent.fetch_add(SPANS, Ordering::Relaxed);
                        n += THREADS;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let accepted_in = started.elapsed();
        let total = sent.load(Ordering::Relaxed) as f64;
        while weir.metric("weir_exporter_sent_items_total", "signal=\"traces\"") < total {
            std::thread::sleep(Duration::from_millis(50));
        }
        let drained = started.elapsed();
        println!(
            "{tenants:>3} tenant(s): started in {start_ms} ms; {total} spans accepted in {:.2} s ({:.0} spans/s), all exported after {:.2} s ({:.0} spans/s)",
            accepted_in.as_secs_f64(),
            total / accepted_in.as_secs_f64(),
            drained.as_secs_f64(),
            total / drained.as_secs_f64(),
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if only.is_empty() || only.iter().any(|a| a == "isolation") {
        isolation();
    }
    if only.is_empty() || only.iter().any(|a| a == "scaling") {
        scaling();
    }
}
