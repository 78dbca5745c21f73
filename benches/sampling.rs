//! Tail sampling in its sandbox: throughput of the `tail_sampling` plugin
//! (spans/s through `process` + `tick`, with the production policy set)
//! and the guest memory one held trace costs.
//!
//! Run: `cargo bench -p weir --bench sampling` (add `--profile dev` to skip
//! a release build of the host: the plugin is a release wasm build either
//! way, and dependencies are optimised in dev builds).

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use weir::Signal;
use weir::plugin::{CallContext, PluginEngine, PluginLimits, StatefulInstance, builtin_bytes};
use weir::test_util;

const SPANS_PER_TRACE: u64 = 4;
const TRACES_PER_BATCH: u64 = 256;

fn config(decision_wait: &str) -> String {
    format!(
        r#"{{"decision_wait":"{decision_wait}","num_traces":1000000,"policies":[
        {{"name":"errors","type":"status_code","status_code":{{"status_codes":["ERROR"]}}}},
        {{"name":"slow","type":"latency","latency":{{"threshold_ms":1000}}}},
        {{"name":"rest","type":"probabilistic","probabilistic":{{"sampling_percentage":10}}}}]}}"#
    )
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Batch `b`: 256 traces of 4 spans, 8 attributes each; 5% errors, 5% slow.
fn batch(b: u64) -> Vec<u8> {
    let mut spans = Vec::new();
    for t in b * TRACES_PER_BATCH..(b + 1) * TRACES_PER_BATCH {
        let id = [mix(t).to_be_bytes(), mix(!t).to_be_bytes()].concat();
        for k in 0..SPANS_PER_TRACE {
            let start = 1_764_000_000_000_000_000 + k * 1_000_000;
            let slow = t % 20 == 1 && k == 0;
            spans.push(Span {
                trace_id: id.clone(),
                span_id: (t * 8 + k).to_be_bytes().to_vec(),
                name: format!("GET /api/items/{k}"),
                kind: 2,
                start_time_unix_nano: start,
                end_time_unix_nano: start + if slow { 2_000_000_000 } else { 3_000_000 },
                attributes: (0..8)
                    .map(|a| test_util::kv(&format!("attr.{a}"), &format!("value-{t}-{a}")))
                    .collect(),
                status: Some(Status {
                    code: if t.is_multiple_of(20) && k == 3 { 2 } else { 1 },
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: test_util::traces(1, 0).resource_spans[0].resource.clone(),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    request.encode_to_vec()
}

fn instance(engine: &PluginEngine, decision_wait: &str) -> StatefulInstance {
    let component = engine
        .compile("tail_sampling", builtin_bytes("tail_sampling").unwrap())
        .unwrap();
    let limits = PluginLimits {
        memory_mib: 4096,
        timeout: Duration::from_secs(60),
        ..PluginLimits::default()
    };
    engine
        .processor_pool(
            "tail_sampling",
            "tail_sampling",
            &component,
            config(decision_wait),
            limits,
            weir::plugin::Grants::default(),
        )
        .unwrap()
        .stateful_instance()
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn throughput(engine: &PluginEngine) {
    let batches: Vec<Vec<u8>> = (0..100).map(batch).collect();
    let bytes: usize = batches.iter().map(Vec::len).sum();
    let ctx = CallContext::default();
    for round in 0..3 {
        let mut sampler = instance(engine, "1s");
        let (mut out_spans, mut out_batches) = (0usize, 0usize);
        let started = Instant::now();
        for (i, payload) in batches.iter().enumerate() {
            sampler
                .process(&ctx, Signal::Traces, payload.clone())
                .unwrap();
            if i % 10 == 9 {
                // Everything held is due: decide it and encode what is kept.
                for (signal, out) in sampler.tick(now() + 2_000_000_000).unwrap() {
                    out_spans += weir_wire::count_items(signal, &out).unwrap();
                    out_batches += 1;
                }
            }
        }
        let elapsed = started.elapsed();
        let spans = batches.len() as u64 * TRACES_PER_BATCH * SPANS_PER_TRACE;
        println!(
            "round {round}: {spans} spans ({:.1} MB) in {:.3} s = {:.0} spans/s; kept {out_spans} spans in {out_batches} requests",
            bytes as f64 / 1e6,
            elapsed.as_secs_f64(),
            spans as f64 / elapsed.as_secs_f64()
        );
    }
}

fn memory_per_trace(engine: &PluginEngine) {
    let ctx = CallContext::default();
    let mut sampler = instance(engine, "1h");
    sampler
        .process(&ctx, Signal::Traces, batch(1_000_000))
        .unwrap();
    let mut held = TRACES_PER_BATCH;
    let mut points = vec![(held, sampler.memory_bytes())];
    for b in 0..400u64 {
        sampler.process(&ctx, Signal::Traces, batch(b)).unwrap();
        held += TRACES_PER_BATCH;
        if (b + 1) % 100 == 0 {
            points.push((held, sampler.memory_bytes()));
        }
    }
    for pair in points.windows(2) {
        let ((t0, m0), (t1, m1)) = (pair[0], pair[1]);
        println!(
            "held {t0:>6} -> {t1:>6} traces ({SPANS_PER_TRACE} spans, 8 attributes each): guest memory {:.1} -> {:.1} MiB, {:.0} bytes per trace",
            m0 as f64 / 1048576.0,
            m1 as f64 / 1048576.0,
            (m1 - m0) as f64 / (t1 - t0) as f64
        );
    }
    let (t, m) = *points.last().unwrap();
    println!(
        "overall: {t} traces in {:.1} MiB = {:.0} bytes per held trace (encoded size of one trace: {} bytes)",
        m as f64 / 1048576.0,
        m as f64 / t as f64,
        batch(0).len() as u64 / TRACES_PER_BATCH
    );
}

fn main() {
    let engine = PluginEngine::new().unwrap();
    println!(
        "tail_sampling throughput (errors + latency + 10% policies, decision every 10 batches):"
    );
    throughput(&engine);
    println!("memory per held trace:");
    memory_per_trace(&engine);
}
