//! The `plugin_call` bench's two contenders (an `attributes` insert on a
//! 1,024-span batch: the plugin call, and the same edit natively on the
//! wire), timed call by call: the p50/p90/p99 that issue 9's "p99 added
//! latency of one plugin call" asks for and criterion does not give, and
//! the CPU time per call (all threads; on a loaded machine, wall time
//! includes waiting for a core). Also what to run under `perf record` with
//! `WEIR_PLUGIN_PERFMAP=1`.
//!
//! `cargo bench -p weir --bench plugin_call_latency` (env: `N` calls,
//! default 2000; `MODE=wasm|native|both`; `SPANS`, default 1024;
//! `WEIR_BENCH_PLUGIN=path.wasm` measures a component from disk instead of
//! the built-in `attributes`, e.g. one rebuilt with names for `perf`).

use std::time::{Duration, Instant};

use weir::Signal;
use weir::plugin::{CallContext, PluginEngine, PluginLimits, builtin_bytes};
use weir::test_util;

#[path = "common/attributes_insert.rs"]
mod attributes_insert;
use attributes_insert::{CONFIG, inserted_value, native_wire_insert};

/// CPU time of the whole process (all threads), from /proc/self/stat: on a
/// loaded machine, wall time includes waiting for a core.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn report(name: &str, mut times: Vec<Duration>, cpu: Duration) {
    println!(
        "{name:>8}: CPU {:.3} ms per call",
        cpu.as_secs_f64() * 1e3 / times.len() as f64
    );
    times.sort();
    let pick = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    let mean = times.iter().sum::<Duration>().as_secs_f64() * 1e3 / times.len() as f64;
    println!(
        "{name:>8}: n={} mean {mean:.3} ms  min {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}",
        times.len(),
        pick(0.0),
        pick(0.5),
        pick(0.9),
        pick(0.99)
    );
}

fn main() {
    // The allocator set up as the collector's `main` does.
    weir::malloc::tune();
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mode = std::env::var("MODE").unwrap_or_else(|_| "both".into());
    let spans: usize = std::env::var("SPANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let payload = test_util::encode(&test_util::traces(spans, 10));
    let value = inserted_value();
    println!("payload {} bytes, {spans} spans", payload.len());

    if mode != "native" {
        let bytes = match std::env::var("WEIR_BENCH_PLUGIN") {
            Ok(path) => std::fs::read(path).expect("read the component"),
            Err(_) => builtin_bytes("attributes").unwrap().to_vec(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let engine = PluginEngine::without_disk_cache().unwrap();
        let component = engine.compile("attributes", &bytes).unwrap();
        let pool = engine
            .processor_pool(
                "attributes",
                "attributes",
                &component,
                CONFIG.into(),
                PluginLimits::default(),
                weir::plugin::Grants::default(),
            )
            .unwrap();
        let ctx = CallContext::default();
        let out = runtime
            .block_on(pool.process(&ctx, Signal::Traces, payload.clone()))
            .unwrap();
        assert_eq!(
            out[0].1,
            native_wire_insert(&payload, &value),
            "plugin and native differ"
        );
        for _ in 0..n / 10 {
            runtime
                .block_on(pool.process(&ctx, Signal::Traces, payload.clone()))
                .unwrap();
        }
        let mut times = Vec::with_capacity(n);
        let cpu_start = cpu();
        for _ in 0..n {
            // The pipeline hands its batch over; the copy is not the call's.
            let batch = payload.clone();
            let started = Instant::now();
            let out = runtime
                .block_on(pool.process(&ctx, Signal::Traces, batch))
                .unwrap();
            times.push(started.elapsed());
            drop(out);
        }
        report("wasm", times, cpu() - cpu_start);
    }
    if mode != "wasm" {
        for _ in 0..n / 10 {
            std::hint::black_box(native_wire_insert(&payload, &value));
        }
        let mut times = Vec::with_capacity(n);
        let cpu_start = cpu();
        for _ in 0..n {
            let started = Instant::now();
            let out = native_wire_insert(&payload, &value);
            times.push(started.elapsed());
            drop(std::hint::black_box(out));
        }
        report("native", times, cpu() - cpu_start);
    }
}
