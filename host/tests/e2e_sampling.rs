//! Tail sampling through the real binary: the production policy set
//! (errors, slow traces, 10% of the rest) on a generated workload; spans of
//! one trace spread over batches and seconds decided once, together; and a
//! shutdown during `decision_wait` that still delivers what the policies
//! keep of the held spans.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::otlp::*;
use common::*;

/// A pipeline `otlp → [tail_sampling, batch] → file` with these settings.
fn config(decision_wait: &str, policies: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  tail_sampling:
    decision_wait: {decision_wait}
    num_traces: 100000
    expected_new_traces_per_sec: 10000
    policies: {policies}
  batch: {{timeout: 200ms, send_batch_size: 4096}}
plugins:
  tail_sampling:
    limits: {{memory_mib: 512, timeout: 10s, tick_interval: 250ms}}
exporters:
  file: {{path: out.json}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [tail_sampling, batch], exporters: [file]}}
"#
    )
}

const PRODUCTION: &str = r#"
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: slow, type: latency, latency: {threshold_ms: 1000}}
      - {name: ten_percent, type: probabilistic, probabilistic: {sampling_percentage: 10}}"#;

const ERRORS_ONLY: &str = r#"
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}"#;

fn counter(weir: &Weir, name: &str) -> f64 {
    weir.metric(
        "weir_plugin_counter_total",
        &[("component", "tail_sampling"), ("name", name)],
    )
}

fn decided(weir: &Weir) -> f64 {
    counter(weir, "traces_sampled") + counter(weir, "traces_not_sampled")
}

#[test]
fn production_policies_keep_every_error_and_slow_trace_and_ten_percent_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), &config("2s", PRODUCTION));
    let addr = weir.http.unwrap();
    const TRACES: u64 = 20_000;
    let is_error = |n: u64| n.is_multiple_of(23);
    let is_slow = |n: u64| n.is_multiple_of(31);
    // Each trace's root span in the first pass, its child in the second:
    // the two halves of every trace arrive in different requests.
    for k in 0..2u64 {
        for chunk in (0..TRACES).collect::<Vec<_>>().chunks(1000) {
            let spans = chunk
                .iter()
                .map(|&n| {
                    let duration = if is_slow(n) && k == 0 { 1500 } else { 20 };
                    span(n, k, duration, is_error(n) && k == 1)
                })
                .collect();
            send(addr, spans);
        }
    }
    weir.wait_for("every trace decided", Duration::from_secs(120), |w| {
        decided(w) >= TRACES as f64
    });
    assert_eq!(
        decided(&weir),
        TRACES as f64,
        "each trace decided exactly once"
    );
    // The last decided batch reaches the file through the batcher.
    let path = dir.path().join("out.json");
    let sampled_spans = 2.0 * counter(&weir, "traces_sampled");
    weir.wait_for("sampled spans exported", Duration::from_secs(60), |_| {
        exported_spans(&path).len() as f64 >= sampled_spans
    });

    let mut spans_per_trace: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for name in exported_spans(&path) {
        assert!(
            spans_per_trace
                .entry(trace_of(&name))
                .or_default()
                .insert(name.clone()),
            "{name} exported twice"
        );
    }
    let split: Vec<_> = spans_per_trace
        .iter()
        .filter(|(_, s)| s.len() != 2)
        .collect();
    assert!(
        split.is_empty(),
        "traces split: {:?}",
        &split[..split.len().min(5)]
    );
    let missing: Vec<u64> = (0..TRACES)
        .filter(|&n| (is_error(n) || is_slow(n)) && !spans_per_trace.contains_key(&n))
        .collect();
    assert!(
        missing.is_empty(),
        "error or slow traces dropped: {missing:?}"
    );
    let rest: Vec<u64> = (0..TRACES)
        .filter(|&n| !is_error(n) && !is_slow(n))
        .collect();
    let rest_kept = rest
        .iter()
        .filter(|n| spans_per_trace.contains_key(n))
        .count();
    let share = rest_kept as f64 / rest.len() as f64;
    eprintln!(
        "kept {} traces: all {} error/slow, {rest_kept} of {} others ({:.2}%)",
        spans_per_trace.len(),
        TRACES as usize - rest.len(),
        rest.len(),
        share * 100.0
    );
    assert!((share - 0.10).abs() <= 0.015, "the rest kept at {share}");
    assert_eq!(counter(&weir, "traces_decided_early"), 0.0);
    assert!(weir.stop().success());
}

#[test]
fn spans_spread_over_batches_and_seconds_are_decided_once_together() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), &config("3s", ERRORS_ONLY));
    let addr = weir.http.unwrap();
    // Trace 1: two fast OK spans, then its ERROR span 2 s later; trace 2:
    // OK spans only, over the same seconds. One request per span.
    send(addr, vec![span(1, 0, 5, false)]);
    send(addr, vec![span(2, 0, 5, false)]);
    std::thread::sleep(Duration::from_secs(1));
    send(addr, vec![span(1, 1, 5, false)]);
    send(addr, vec![span(2, 1, 5, false)]);
    std::thread::sleep(Duration::from_secs(1));
    send(addr, vec![span(1, 2, 5, true)]);
    send(addr, vec![span(2, 2, 5, false)]);

    let path = dir.path().join("out.json");
    weir.wait_for("trace 1 exported", Duration::from_secs(30), |_| {
        !exported_spans(&path).is_empty()
    });
    std::thread::sleep(Duration::from_millis(500));
    let requests = exported_requests(&path);
    assert_eq!(
        requests.len(),
        1,
        "released at once, in one request: {requests:?}"
    );
    let mut names = requests[0].clone();
    names.sort();
    assert_eq!(names, ["t1-0", "t1-1", "t1-2"]);
    assert_eq!(counter(&weir, "traces_sampled"), 1.0);
    assert_eq!(counter(&weir, "traces_not_sampled"), 1.0);

    // Late spans follow the decision: trace 1's passes, trace 2's does not.
    send(addr, vec![span(1, 3, 5, false), span(2, 3, 5, false)]);
    weir.wait_for("the late span", Duration::from_secs(30), |_| {
        exported_spans(&path).len() == 4
    });
    assert!(exported_spans(&path).contains(&"t1-3".to_string()));
    assert_eq!(counter(&weir, "late_spans_sampled"), 1.0);
    assert_eq!(counter(&weir, "late_spans_not_sampled"), 1.0);
    assert_eq!(decided(&weir), 2.0, "still decided once each");
    assert!(weir.stop().success());
}

#[test]
fn shutdown_during_decision_wait_releases_held_spans_to_the_exporter() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(dir.path(), &config("5m", ERRORS_ONLY));
    let addr = weir.http.unwrap();
    const TRACES: u64 = 400;
    for chunk in (0..TRACES).collect::<Vec<_>>().chunks(100) {
        let spans = chunk
            .iter()
            .flat_map(|&n| [span(n, 0, 5, false), span(n, 1, 5, n.is_multiple_of(4))])
            .collect();
        send(addr, spans);
    }
    // Everything is accepted and held: nothing decided, nothing exported.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(decided(&weir), 0.0);
    let path = dir.path().join("out.json");
    assert!(exported_spans(&path).is_empty());

    let status = weir.stop();
    assert!(status.success(), "{status:?}");
    let exported = exported_spans(&path);
    let expected: BTreeSet<String> = (0..TRACES)
        .filter(|n| n.is_multiple_of(4))
        .flat_map(|n| [format!("t{n}-0"), format!("t{n}-1")])
        .collect();
    assert_eq!(exported.len(), expected.len(), "each kept span once");
    assert_eq!(exported.into_iter().collect::<BTreeSet<_>>(), expected);
}

/// FNV-1a 32 of the seed's little-endian bytes then the trace id, bucket =
/// low 14 bits, kept when below `uint32(float32(pct) * 163.84)`: the Go
/// collector's `hash_seed` rule, written out here independently of the plugin.
fn go_hash_seed_keeps(trace: &[u8; 16], seed: u32, pct: f32) -> bool {
    let hash = seed
        .to_le_bytes()
        .iter()
        .chain(trace)
        .fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
        });
    (hash & 0x3fff) < (pct * (16384.0f32 / 100.0)) as u32
}

#[test]
fn probabilistic_sampler_in_hash_seed_mode_keeps_the_traces_go_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
processors:
  probabilistic_sampler: {sampling_percentage: 15.5, hash_seed: 1234}
exporters:
  file: {path: out.json}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [probabilistic_sampler], exporters: [file]}
"#;
    let weir = Weir::start(dir.path(), config);
    const TRACES: u64 = 4000;
    for chunk in (0..TRACES).collect::<Vec<_>>().chunks(500) {
        send(
            weir.http.unwrap(),
            chunk.iter().map(|&n| span(n, 0, 5, false)).collect(),
        );
    }
    assert!(weir.stop().success());
    let kept: BTreeSet<u64> = exported_spans(&dir.path().join("out.json"))
        .iter()
        .map(|name| trace_of(name))
        .collect();
    let expected: BTreeSet<u64> = (0..TRACES)
        .filter(|&n| go_hash_seed_keeps(&trace_id(n), 1234, 15.5))
        .collect();
    assert_eq!(kept, expected);
    assert!(
        (500..750).contains(&kept.len()),
        "{} of {TRACES}",
        kept.len()
    );
    // Kept spans say how they were sampled, as Go writes it: th for 15.5%.
    let text = std::fs::read_to_string(dir.path().join("out.json")).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let state = line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceState"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        state.starts_with("ot=rv:") && state.ends_with(";th:d854"),
        "{state}"
    );
}

#[test]
fn a_full_trace_table_decides_the_oldest_early_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = config("5m", r#"[{name: all, type: always_sample}]"#)
        .replace("num_traces: 100000", "num_traces: 100");
    let weir = Weir::start(dir.path(), &config);
    for chunk in (0..300u64).collect::<Vec<_>>().chunks(50) {
        send(
            weir.http.unwrap(),
            chunk.iter().map(|&n| span(n, 0, 5, false)).collect(),
        );
    }
    // 200 made room for newer ones: decided at once and exported.
    let path = dir.path().join("out.json");
    weir.wait_for(
        "the early decisions exported",
        Duration::from_secs(30),
        |_| exported_spans(&path).len() == 200,
    );
    assert_eq!(counter(&weir, "traces_decided_early"), 200.0);
    let early: BTreeSet<u64> = exported_spans(&path).iter().map(|s| trace_of(s)).collect();
    assert_eq!(early, (0..200).collect(), "the oldest first");
    // The 100 still held come out at shutdown.
    assert!(weir.stop().success());
    assert_eq!(exported_spans(&path).len(), 300);
}
