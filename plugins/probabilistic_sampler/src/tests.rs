//! Native tests: the hash against vectors computed from the Go collector's
//! published algorithm (FNV-1a 32 of the little-endian seed then the trace
//! id; bucket = low 14 bits; keep when bucket < uint32(float32(pct) *
//! 163.84)), its `tracestate` cases, and whole requests.

use weir_plugin_sdk::otlp::{
    self, ExportLogsServiceRequest, ExportTraceServiceRequest, int_value, key_value,
    logs::v1::{LogRecord, ResourceLogs, ScopeLogs},
    trace::v1::{ResourceSpans, ScopeSpans, Span},
};

use crate::config::{Config, Mode};
use crate::hashing::{
    compute_hash, legacy_keep, randomness_from_bytes, scaled_sample_rate, threshold,
};
use crate::sampler::{Priority, Sampler};
use crate::threshold::{Randomness, Threshold};
use crate::{Samplers, Tally, sample_logs, sample_traces};

fn id(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn config(json: &str) -> Config {
    Config::parse(json).unwrap()
}

/// Vectors computed outside this crate (a Python transcription of the
/// published Go code) — hash and bucket of (seed, trace id).
#[test]
fn fnv_hash_matches_the_go_algorithm() {
    let vectors: &[(u32, &str, u32)] = &[
        (0, "00000000000000000000000000000000", 0xb9fe_e455),
        (0, "0102030405060708090a0b0c0d0e0f10", 0xdf24_1a25),
        (0, "5b8efff798038103d269b633813fc60c", 0x245d_d6df),
        (1, "00000000000000000000000000000000", 0x07b1_3f04),
        (22, "5b8efff798038103d269b633813fc60c", 0xa2a6_4cc9),
        (22, "fefefefefefefefefe80000000000000", 0x6f56_8bbd),
        (0xdead_beef, "0102030405060708090a0b0c0d0e0f10", 0x6bcb_41ab),
        (0xdead_beef, "ffffffffffffffffffffffffffffffff", 0xaa19_2d7b),
    ];
    for (seed, trace, hash) in vectors {
        assert_eq!(
            compute_hash(&id(trace), *seed),
            *hash,
            "seed {seed} trace {trace}"
        );
    }
}

#[test]
fn percentages_scale_in_float32_and_truncate() {
    // uint32(float32(pct) * 163.84), as Go computes it.
    assert_eq!(scaled_sample_rate(10.0), 1638);
    assert_eq!(scaled_sample_rate(100.0 / 3.0), 5461);
    assert_eq!(scaled_sample_rate(99.99), 16382);
    assert_eq!(scaled_sample_rate(0.01), 1);
    assert_eq!(scaled_sample_rate(250.0), 16384);
    assert_eq!(
        threshold(0.006),
        None,
        "rounds to zero buckets: never sample"
    );
}

/// Keep/drop at percentages just around each trace's bucket.
#[test]
fn hash_seed_decisions_match_go_at_the_bucket_edges() {
    let cases: &[(u32, &str, f32, bool)] = &[
        (22, "5b8efff798038103d269b633813fc60c", 19.97, false), // bucket 3273, rate 3271
        (22, "5b8efff798038103d269b633813fc60c", 19.99, true),  // rate 3275
        (22, "5b8efff798038103d269b633813fc60c", 20.0, true),
        (0, "fefefefefefefefefe80000000000000", 0.2, false), // bucket 43, rate 32
        (0, "fefefefefefefefefe80000000000000", 0.27, true), // rate 44
        (0xdead_beef, "0102030405060708090a0b0c0d0e0f10", 2.61, false), // bucket 427, rate 427
        (0xdead_beef, "0102030405060708090a0b0c0d0e0f10", 2.62, true), // rate 429
    ];
    for (seed, trace, pct, keep) in cases {
        let json = format!(
            r#"{{"sampling_percentage": {pct}, "hash_seed": {seed}, "mode": "hash_seed"}}"#
        );
        let sampler = Sampler::new(&config(&json), false);
        let decision = sampler.decide_span(&id(trace), "", Priority::Defer);
        assert_eq!(decision.keep, *keep, "seed {seed} trace {trace} at {pct}%");
        assert_eq!(legacy_keep(&id(trace), *seed, *pct), *keep);
    }
}

/// The threshold form (R' >= T') and the original (bucket < rate) agree on every id.
#[test]
fn threshold_form_equals_the_original_comparison() {
    let mut state = 0x1234_5678_9abc_def0u64;
    for i in 0..20_000u32 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut trace = [0u8; 16];
        trace[..8].copy_from_slice(&state.to_le_bytes());
        trace[8..].copy_from_slice(&state.rotate_left(17).to_be_bytes());
        let pct = (i % 1000) as f32 / 10.0;
        let seed = i % 7;
        let keep =
            threshold(pct).is_some_and(|t| t.should_sample(randomness_from_bytes(&trace, seed)));
        assert_eq!(
            keep,
            legacy_keep(&trace, seed, pct),
            "{trace:?} seed {seed} pct {pct}"
        );
    }
}

#[test]
fn hash_seed_writes_rv_and_th_like_go() {
    // Go's Test_tracesamplerprocessor_HashSeedTraceState: th per percentage.
    for (pct, th) in [
        (100.0, "0"),
        (75.0, "4"),
        (50.0, "8"),
        (25.0, "c"),
        (10.0, "e668"),
        (100.0 / 3.0, "aaac"),
    ] {
        assert_eq!(threshold(pct).unwrap().tvalue(), th, "{pct}%");
    }
    let sampler = Sampler::new(
        &config(r#"{"sampling_percentage": 20, "hash_seed": 22}"#),
        false,
    );
    let decision =
        sampler.decide_span(&id("5b8efff798038103d269b633813fc60c"), "", Priority::Defer);
    assert!(decision.keep);
    // rv: 16383-bucket in the top 14 bits, the mixed unused bits, the bucket;
    // th: (16384 - 3276) << 42 = 0xccd0... for 20%.
    assert_eq!(
        decision.tracestate.as_deref(),
        Some("ot=rv:ccd828a32a4cc9;th:ccd")
    );
    // Consistent-sampling data already there is left alone: an error, so fail_closed drops it.
    let d = sampler.decide_span(
        &id("5b8efff798038103d269b633813fc60c"),
        "ot=th:8",
        Priority::Defer,
    );
    assert!(!d.keep);
    let open = Sampler::new(
        &config(r#"{"sampling_percentage": 20, "hash_seed": 22, "fail_closed": false}"#),
        false,
    );
    let d = open.decide_span(
        &id("5b8efff798038103d269b633813fc60c"),
        "ot=th:8",
        Priority::Defer,
    );
    assert!(d.keep);
}

/// Go's Test_tracesamplerprocessor_TraceState, for both consistent modes:
/// (name, pct, precision, trace id, tracestate in, equalizing out, proportional out).
/// Cases that set no precision run at 0 (full precision) as in Go's table,
/// which builds its config in code (YAML requires 1-14).
#[test]
fn consistent_modes_follow_the_go_tracestate_cases() {
    let default_tid = "fefefefefefefefefe80000000000000";
    let improbable = "111111111111111111ffffffffffffff";
    type Case<'a> = (
        &'a str,
        f32,
        u32,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
    );
    let cases: &[Case] = &[
        (
            "100 percent",
            100.0,
            0,
            default_tid,
            "",
            Some("ot=th:0"),
            Some("ot=th:0"),
        ),
        (
            "50 percent sampled",
            50.0,
            0,
            default_tid,
            "",
            Some("ot=th:8"),
            Some("ot=th:8"),
        ),
        (
            "25 sampled",
            25.0,
            0,
            "ddddddddddddddddddc0000000000000",
            "",
            Some("ot=th:c"),
            Some("ot=th:c"),
        ),
        (
            "25 unsampled",
            25.0,
            0,
            "ddddddddddddddddddb0000000000000",
            "",
            None,
            None,
        ),
        (
            "1 pct rv",
            1.0,
            0,
            default_tid,
            "ot=rv:FD70A3D70A3D71",
            Some("ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"),
            Some("ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"),
        ),
        (
            "1 pct rv fd70b",
            1.0,
            0,
            default_tid,
            "ot=rv:fd70B000000000",
            Some("ot=rv:fd70B000000000;th:fd70a3d70a3d71"),
            Some("ot=rv:fd70B000000000;th:fd70a3d70a3d71"),
        ),
        (
            "1 pct rv p4",
            1.0,
            4,
            default_tid,
            "ot=rv:FD70A3D70A3D71",
            Some("ot=rv:FD70A3D70A3D71;th:fd70a"),
            Some("ot=rv:FD70A3D70A3D71;th:fd70a"),
        ),
        (
            "1 pct rv p3",
            1.0,
            3,
            default_tid,
            "ot=rv:FD70A3D70A3D71",
            None,
            None,
        ),
        (
            "1 pct rv below",
            1.0,
            0,
            default_tid,
            "ot=rv:FD70A3D70A3D70",
            None,
            None,
        ),
        ("49 pct default tid", 49.0, 0, default_tid, "", None, None),
        (
            "1 pct with tid",
            1.0,
            4,
            "a0a0a0a0a0a0a0a0a0fe000000000000",
            "",
            Some("ot=th:fd70a"),
            Some("ot=th:fd70a"),
        ),
        (
            "incoming 50 with rv",
            50.0,
            0,
            default_tid,
            "ot=rv:90000000000000;th:80000000000000",
            Some("ot=rv:90000000000000;th:8"),
            None,
        ),
        (
            "incoming 50 at 25 not",
            25.0,
            0,
            default_tid,
            "ot=th:8",
            None,
            None,
        ),
        (
            "incoming 50 at 25",
            25.0,
            0,
            "ffffffffffffffffffffffffffffffff",
            "ot=th:8",
            Some("ot=th:c"),
            Some("ot=th:e"),
        ),
        (
            "equalizing vs proportional",
            50.0,
            0,
            default_tid,
            "ot=rv:c0000000000000;th:8",
            Some("ot=rv:c0000000000000;th:8"),
            Some("ot=rv:c0000000000000;th:c"),
        ),
        (
            "inconsistent arriving",
            100.0,
            0,
            default_tid,
            "ot=rv:40000000000000;th:8",
            Some("ot=rv:40000000000000;th:0"),
            Some("ot=rv:40000000000000;th:0"),
        ),
        (
            "40 pct p3 rv",
            40.0,
            3,
            default_tid,
            "ot=rv:a0000000000000",
            Some("ot=rv:a0000000000000;th:99a"),
            Some("ot=rv:a0000000000000;th:99a"),
        ),
        (
            "50 at 40 p6",
            40.0,
            6,
            "a0a0a0a0a0a0a0a0a0d0000000000000",
            "ot=th:8",
            Some("ot=th:99999a"),
            Some("ot=th:cccccd"),
        ),
        (
            "50 at 40 partly",
            40.0,
            3,
            "a0a0a0a0a0a0a0a0a0b0000000000000",
            "ot=th:8",
            Some("ot=th:99a"),
            None,
        ),
        (
            "50 at 40 not",
            40.0,
            3,
            "a0a0a0a0a0a0a0a0a080000000000000",
            "ot=th:8",
            None,
            None,
        ),
        (
            "200 is 100",
            200.0,
            0,
            default_tid,
            "",
            Some("ot=th:0"),
            Some("ot=th:0"),
        ),
        (
            "tiny rounding",
            100.0 * (1.0 / 16384.0),
            0,
            improbable,
            "ot=th:fffc",
            Some("ot=th:fffc"),
            Some("ot=th:fffffff"),
        ),
        (
            "probability underflow",
            0.0625,
            0,
            improbable,
            "ot=th:fffffffffffff8",
            Some("ot=th:fffffffffffff8"),
            None,
        ),
    ];
    for (name, pct, precision, tid, ts, equalizing, proportional) in cases {
        for (mode, want) in [("equalizing", equalizing), ("proportional", proportional)] {
            // The Go table runs with fail_closed unset (false).
            let json = format!(
                r#"{{"sampling_percentage": {pct}, "mode": "{mode}", "fail_closed": false}}"#
            );
            let cfg = Config {
                sampling_precision: *precision,
                ..config(&json)
            };
            let d = Sampler::new(&cfg, false).decide_span(&id(tid), ts, Priority::Defer);
            assert_eq!(d.keep, want.is_some(), "{mode} {name}");
            if let Some(want) = want {
                assert_eq!(
                    d.tracestate.as_deref().unwrap_or(ts),
                    *want,
                    "{mode} {name}"
                );
            }
        }
    }
}

#[test]
fn fail_closed_drops_items_without_usable_randomness() {
    for mode in ["equalizing", "proportional"] {
        let json = format!(r#"{{"sampling_percentage": 100, "mode": "{mode}"}}"#);
        let s = Sampler::new(&config(&json), false);
        let tid = id("fefefefefefefefefe80000000000000");
        assert!(
            !s.decide_span(&[0; 16], "", Priority::Defer).keep,
            "missing randomness"
        );
        assert!(
            !s.decide_span(&tid, "ot=rv:abababababababab", Priority::Defer)
                .keep
        );
        assert!(
            !s.decide_span(&tid, "ot=th:abababababababab", Priority::Defer)
                .keep
        );
        assert!(!s.decide_span(&tid, "ot=th:-1", Priority::Defer).keep);
        assert!(
            !s.decide_span(
                &id("ffffffffffffffffff70000000000000"),
                "ot=th:8",
                Priority::Defer
            )
            .keep
        );
        assert!(
            !s.decide_span(&tid, "ot=th:8;rv:70000000000000", Priority::Defer)
                .keep
        );
        assert!(s.decide_span(&tid, "", Priority::Defer).keep);
    }
}

#[test]
fn priority_overrides_the_decision() {
    let s = Sampler::new(&config(r#"{"sampling_percentage": 1}"#), false);
    let tid = id("fefefefefefefefefe80000000000000");
    let d = s.decide_span(&tid, "", Priority::Keep);
    assert_eq!((d.keep, d.tracestate.as_deref()), (true, Some("ot=th:0")));
    let s = Sampler::new(&config(r#"{"sampling_percentage": 99}"#), false);
    assert!(!s.decide_span(&tid, "", Priority::Drop).keep);
}

#[test]
fn threshold_round_trips_and_encodes() {
    assert_eq!(Threshold::parse("8"), Some(Threshold(0x80_0000_0000_0000)));
    assert_eq!(Threshold::parse("80000000000000").unwrap().tvalue(), "8");
    assert_eq!(Threshold::ALWAYS.tvalue(), "0");
    assert_eq!(
        Threshold::from_probability(0.5, 4),
        Some(Threshold(0x80_0000_0000_0000))
    );
    assert_eq!(Threshold::from_probability(0.0, 4), None);
    assert_eq!(Randomness::from_trace_id(&[0xff; 16]).0, (1 << 56) - 1);
}

fn span(trace: &[u8], name: &str) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: vec![1; 8],
        name: name.into(),
        ..Default::default()
    }
}

fn traces(spans: Vec<Span>) -> Vec<u8> {
    otlp::encode(&ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

/// A simple generator of trace ids (no `rand` in the guest).
fn trace_ids(n: usize) -> Vec<[u8; 16]> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            let mut t = [0u8; 16];
            for chunk in t.chunks_mut(8) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                chunk.copy_from_slice(&s.to_le_bytes());
            }
            t
        })
        .collect()
}

#[test]
fn requests_keep_about_the_percentage_and_whole_traces() {
    for json in [
        r#"{"sampling_percentage": 10, "hash_seed": 7}"#,
        r#"{"sampling_percentage": 10}"#,
    ] {
        let samplers = Samplers::new(&config(json));
        let ids = trace_ids(20_000);
        // Two spans per trace, in separate requests: the same decision for both.
        let mut kept = [0usize; 2];
        for (half, counter) in kept.iter_mut().enumerate() {
            let spans = ids.iter().map(|t| span(t, &format!("s{half}"))).collect();
            let mut tally = Tally::default();
            let out = sample_traces(&samplers, &traces(spans), &mut tally)
                .unwrap()
                .unwrap();
            let decoded = otlp::decode_traces(&out).unwrap();
            *counter = decoded.resource_spans[0].scope_spans[0].spans.len();
            assert_eq!(tally.kept as usize, *counter);
            assert_eq!((tally.kept + tally.dropped) as usize, ids.len());
        }
        assert_eq!(kept[0], kept[1], "{json}: spans of one trace decided alike");
        let share = kept[0] as f64 / ids.len() as f64;
        assert!((share - 0.10).abs() < 0.01, "{json}: kept {share}");
    }
}

#[test]
fn nothing_kept_returns_nothing() {
    let samplers = Samplers::new(&config(r#"{"sampling_percentage": 0}"#));
    let mut tally = Tally::default();
    let out = sample_traces(&samplers, &traces(vec![span(&[7; 16], "a")]), &mut tally).unwrap();
    assert_eq!((out, tally.dropped), (None, 1));
}

#[test]
fn logs_sample_by_trace_id_attribute_and_priority() {
    let record = |trace: &[u8], attrs| LogRecord {
        trace_id: trace.to_vec(),
        attributes: attrs,
        ..Default::default()
    };
    let request = |records| {
        otlp::encode(&ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: records,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    };
    let tid = id("5b8efff798038103d269b633813fc60c");
    // hash_seed over the trace id: bucket 3273 with seed 22.
    let s = Samplers::new(&config(
        r#"{"sampling_percentage": 19.99, "hash_seed": 22}"#,
    ));
    let mut tally = Tally::default();
    assert!(
        sample_logs(&s, &request(vec![record(&tid, vec![])]), &mut tally)
            .unwrap()
            .is_some()
    );
    let s = Samplers::new(&config(
        r#"{"sampling_percentage": 19.97, "hash_seed": 22}"#,
    ));
    assert!(
        sample_logs(&s, &request(vec![record(&tid, vec![])]), &mut tally)
            .unwrap()
            .is_none()
    );
    // By attribute, with a priority attribute that forces a keep.
    let s = Samplers::new(&config(
        r#"{"sampling_percentage": 0.01, "attribute_source": "record", "from_attribute": "user", "sampling_priority": "prio"}"#,
    ));
    let forced = record(
        &[],
        vec![
            key_value("user", otlp::string_value("x")),
            key_value("prio", int_value(1)),
        ],
    );
    let mut tally = Tally::default();
    let out = sample_logs(&s, &request(vec![forced, record(&[], vec![])]), &mut tally).unwrap();
    assert!(out.is_some());
    assert_eq!((tally.kept, tally.dropped), (1, 1));
}

#[test]
fn config_errors_name_the_key() {
    let err = |json: &str| Config::parse(json).unwrap_err();
    assert!(err(r#"{"sampling_percentage": -1}"#).contains("sampling_percentage"));
    assert!(
        err(r#"{"sampling_percentage": 10, "sampling_precision": 15}"#)
            .contains("sampling_precision")
    );
    assert!(err(r#"{"mode": "random"}"#).contains("unknown variant"));
    assert!(err(r#"{"percentage": 10}"#).contains("unknown field `percentage`"));
    assert!(err(r#"{"attribute_source": "record"}"#).contains("from_attribute"));
    assert_eq!(config("{}").mode(), Mode::Proportional);
    assert_eq!(config(r#"{"hash_seed": 3}"#).mode(), Mode::HashSeed);
}
