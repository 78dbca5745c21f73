//! Tenant isolation and scaling, end to end against the real `weir`
//! binary (not criterion: each scenario is a load run of seconds).
//!
//! 1. Isolation: tenant `steady` sends 50 requests/s of 20 spans through a
//!    `chaos` processor; its request (Export) latency is measured alone,
//!    and while tenant `flood` sends 10x its rate limit through the same
//!    plugin type with every batch trapping it, each phase on a fresh
//!    collector. Rounds (WEIR_BENCH_ROUNDS, default 5) alternate which
//!    phase goes first; reported per round: steady's p50/p99/max, its
//!    losses, the flood's 429s; then the p99 ratio's median and worst over
//!    the rounds.
//! 2. Scaling: the same load (requests of 100 spans from 4 client threads)
//!    sent as 1 tenant and spread over 100 tenants, each tenant with its own
//!    pipeline (batch → file exporter): items/s until all are exported.
//!
//! Run: `cargo bench -p weir --bench tenants [isolation|scaling]`
//! (WEIR_BENCH_SECONDS per phase, default 10; WEIR_BIN to run another
//! build of the collector).

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

/// The collector under test: `WEIR_BIN` when set (to compare builds with
/// the same benchmark), else the one cargo built.
fn weir_binary() -> String {
    std::env::var("WEIR_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_weir").to_string())
}
const PLUGIN_DIR: &str = env!("WEIR_PLUGIN_DIR");

struct Weir {
    child: Child,
    http: SocketAddr,
    telemetry: SocketAddr,
}

impl Weir {
    fn start(dir: &Path, config: &str) -> Weir {
        std::fs::write(dir.join("config.yaml"), config).unwrap();
        let mut child = Command::new(weir_binary())
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

    /// CPU time the collector has used (user + system), from
    /// `/proc/<pid>/stat` (in USER_HZ ticks, 100 a second on Linux): what
    /// a flood costs the collector, apart from what else runs on the machine.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the `(comm)`, which may hold spaces: utime and stime
        // are the 14th and 15th of the whole line.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / 100.0
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

/// What one paced sender saw.
struct Sent {
    /// Latencies of the accepted requests.
    latencies: Vec<Duration>,
    /// Statuses of the refused ones.
    refused: Vec<u16>,
    /// Refusals that carried `Retry-After`.
    hinted: usize,
    /// Span names accepted.
    accepted: Vec<String>,
    /// Requests sent per second, as achieved.
    rate: f64,
}

/// Sends `rate` requests/s of `spans` spans as `tenant` for `secs` (one
/// keep-alive connection; a request due while the last is in flight goes
/// out as soon as it returns).
fn paced(
    addr: SocketAddr,
    tenant: &str,
    rate: f64,
    spans: usize,
    secs: f64,
    name: impl Fn(usize) -> Option<String>,
) -> Sent {
    let mut conn = Conn::new(addr);
    // A sender whose names never change builds its body once.
    let fixed = name(0)
        .is_none()
        .then(|| spans_json(&vec!["weir-chaos:trap"; spans]));
    let started = Instant::now();
    let (mut latencies, mut refused, mut accepted) = (Vec::new(), Vec::new(), Vec::new());
    let mut hinted = 0;
    let mut n = 0;
    while started.elapsed().as_secs_f64() < secs {
        let due = Duration::from_secs_f64(n as f64 / rate);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let names: Vec<String> = (0..spans).filter_map(|i| name(n * spans + i)).collect();
        let body = match &fixed {
            Some(body) => body.clone(),
            None => spans_json(&names),
        };
        let reply = conn
            .post_json("/v1/traces", &[("X-Scope-OrgID", tenant)], body.as_bytes())
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
    Sent {
        latencies,
        refused,
        hinted,
        accepted,
        rate: n as f64 / started.elapsed().as_secs_f64(),
    }
}

/// One phase of the isolation benchmark: a fresh collector, the steady
/// tenant measured, with or without the flood beside it.
struct Phase {
    steady: Sent,
    /// The collector's CPU time per second of the measured phase.
    cpu_per_second: f64,
    exported: usize,
    flood: Option<Sent>,
    traps: f64,
}

fn isolation_phase(dir: &Path, config: &str, with_flood: bool, secs: f64) -> Phase {
    std::fs::create_dir_all(dir).unwrap();
    let weir = Weir::start(dir, config);
    let addr = weir.http;
    // Warm up the steady tenant's instances before measuring.
    paced(addr, "steady", STEADY_RATE, STEADY_SPANS, 1.0, |i| {
        Some(format!("warm-{i}"))
    });
    let cpu_before = (weir.cpu_seconds(), Instant::now());
    let flood = with_flood.then(|| {
        std::thread::spawn(move || {
            // 10x the 1000 items/s limit: 100 requests/s of 100 trapping spans.
            paced(addr, "flood", 100.0, 100, secs, |_| None)
        })
    });
    let steady = paced(addr, "steady", STEADY_RATE, STEADY_SPANS, secs, |i| {
        Some(format!("steady-{i}"))
    });
    let flood = flood.map(|f| f.join().unwrap());
    let cpu_per_second = (weir.cpu_seconds() - cpu_before.0) / cpu_before.1.elapsed().as_secs_f64();
    let path = dir.join("steady.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    let steady_spans = || -> usize {
        span_names(&path)
            .iter()
            .filter(|n| n.starts_with("steady-"))
            .count()
    };
    while steady_spans() < steady.accepted.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let exported = steady_spans();
    let traps = weir.metric(
        "weir_plugin_calls_total",
        "component=\"chaos@flood\",function=\"process\",outcome=\"trap\"",
    );
    Phase {
        steady,
        cpu_per_second,
        exported,
        flood,
        traps,
    }
}

/// The steady tenant's load: 1000 spans/s as 50 requests/s of 20 spans,
/// so a 10 s phase has 500 latencies (p99 is the 5th worst, not the 2nd).
const STEADY_RATE: f64 = 50.0;
const STEADY_SPANS: usize = 20;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn isolation() {
    let secs = seconds();
    let rounds: usize = std::env::var("WEIR_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
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
    println!(
        "\n== isolation: steady tenant {STEADY_RATE} req/s x {STEADY_SPANS} spans, {secs} s per phase, {rounds} rounds (binary {}) ==",
        weir_binary()
    );
    let (mut ratios, mut lost_total) = (Vec::new(), 0);
    let (mut all_alone, mut all_with) = (Vec::new(), Vec::new());
    let mut cpu = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        // Alternate which phase goes first, so a drift in the machine's
        // load (other work on it) does not always favour one side.
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        let mut p99 = [Duration::ZERO; 2];
        for with_flood in order {
            let name = format!("r{round}-{}", if with_flood { "with" } else { "alone" });
            let phase = isolation_phase(&dir.path().join(name), &config, with_flood, secs);
            let s = &phase.steady;
            let lost = s.accepted.len() - phase.exported.min(s.accepted.len());
            lost_total += lost + s.refused.len();
            p99[usize::from(with_flood)] = percentile(&s.latencies, 99.0);
            cpu[usize::from(with_flood)].push(phase.cpu_per_second);
            println!(
                "round {round} {}: steady p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} ok, {} refused; spans accepted {}, exported {} (lost {lost}); weir CPU {:.0} ms/s",
                if with_flood {
                    "with flood"
                } else {
                    "alone     "
                },
                ms(percentile(&s.latencies, 50.0)),
                ms(percentile(&s.latencies, 99.0)),
                ms(s.latencies.iter().max().copied().unwrap_or_default()),
                s.latencies.len(),
                s.refused.len(),
                s.accepted.len(),
                phase.exported,
                phase.cpu_per_second * 1e3,
            );
            if let Some(f) = &phase.flood {
                println!(
                    "               flood: {:.0} req/s sent, {} accepted, {} refused ({} x 429, {} with Retry-After); chaos@flood traps: {}",
                    f.rate,
                    f.latencies.len(),
                    f.refused.len(),
                    f.refused.iter().filter(|s| **s == 429).count(),
                    f.hinted,
                    phase.traps,
                );
            }
            if with_flood {
                all_with.extend(phase.steady.latencies);
            } else {
                all_alone.extend(phase.steady.latencies);
            }
        }
        let ratio = p99[1].as_secs_f64() / p99[0].as_secs_f64();
        println!("round {round}: steady p99 with flood / alone = {ratio:.2}x");
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "steady p99 ratio over {rounds} rounds: median {median:.2}x, best {:.2}x, worst {:.2}x; pooled p99 alone {:.2} ms, with flood {:.2} ms ({:.2}x); steady spans lost or refused: {lost_total}",
        ratios[0],
        ratios[ratios.len() - 1],
        ms(percentile(&all_alone, 99.0)),
        ms(percentile(&all_with, 99.0)),
        percentile(&all_with, 99.0).as_secs_f64() / percentile(&all_alone, 99.0).as_secs_f64(),
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64 * 1e3;
    println!(
        "weir CPU: {:.0} ms/s alone, {:.0} ms/s with the flood (the flood costs {:.0} ms of CPU a second)",
        mean(&cpu[0]),
        mean(&cpu[1]),
        mean(&cpu[1]) - mean(&cpu[0]),
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
