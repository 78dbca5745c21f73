//! Native tests: every policy type on hand-built traces, and the sampler's
//! holding, deciding, bounding and late-span behaviour on a fake clock.

use std::sync::Arc;

use weir_plugin_sdk::otlp::{
    self, AnyValue, ExportTraceServiceRequest, KeyValue,
    any_value::Value,
    int_value, key_value,
    resource::v1::Resource,
    string_value,
    trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status::StatusCode},
};

use crate::config::{Config, parse_duration};
use crate::policy::{Decision, Policy, fnv64a, probability_threshold};
use crate::sampler::TailSampler;
use crate::trace::{ResourceCtx, ScopeCtx, StoredSpan, Trace};

const SEC: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;

fn tid(n: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&n.to_be_bytes());
    id[8..].copy_from_slice(&(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)).to_be_bytes());
    id
}

fn span(trace: u64, start_ms: u64, end_ms: u64) -> Span {
    Span {
        trace_id: tid(trace).to_vec(),
        span_id: (trace * 1000 + start_ms).to_be_bytes().to_vec(),
        name: format!("t{trace}"),
        start_time_unix_nano: 1_700_000_000 * SEC + start_ms * MS,
        end_time_unix_nano: 1_700_000_000 * SEC + end_ms * MS,
        ..Default::default()
    }
}

fn with_attr(mut s: Span, key: &str, value: AnyValue) -> Span {
    s.attributes.push(key_value(key, value));
    s
}

fn with_status(mut s: Span, code: StatusCode) -> Span {
    s.status = Some(Status {
        code: code as i32,
        ..Default::default()
    });
    s
}

/// A trace as policies see it, made the way the sampler makes it: spans
/// stored as bytes, then viewed.
fn trace_of(spans: Vec<Span>, resource_attrs: Vec<KeyValue>) -> Trace {
    let resource = Arc::new(ResourceCtx {
        resource: Some(Resource {
            attributes: resource_attrs,
            ..Default::default()
        }),
        head: Vec::new(),
    });
    let scope = Arc::new(ScopeCtx::default());
    let id = crate::trace::trace_id(&spans[0].trace_id);
    let stored: Vec<StoredSpan> = spans
        .into_iter()
        .map(|span| StoredSpan {
            resource: resource.clone(),
            scope: scope.clone(),
            bytes: otlp::encode(&span),
        })
        .collect();
    Trace::view(id, &stored, true)
}

fn policy(json: &str) -> Policy {
    Policy::build(&serde_json::from_str(json).unwrap()).unwrap()
}

fn eval(json: &str, trace: &Trace) -> Decision {
    policy(json).evaluate(trace, 1)
}

fn request(spans: Vec<Span>) -> Vec<u8> {
    otlp::encode(&ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![key_value("service.name", string_value("svc"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn spans_of(payloads: &[Vec<u8>]) -> Vec<Span> {
    payloads
        .iter()
        .flat_map(|p| otlp::decode_traces(p).unwrap().resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .collect()
}

#[test]
fn always_latency_status_and_span_count() {
    let t = trace_of(
        vec![
            span(1, 0, 100),
            with_status(span(1, 50, 700), StatusCode::Error),
        ],
        vec![],
    );
    use Decision::*;
    assert_eq!(eval(r#"{"name":"a","type":"always_sample"}"#, &t), Sampled);
    assert_eq!(
        eval(
            r#"{"name":"l","type":"latency","latency":{"threshold_ms":700}}"#,
            &t
        ),
        Sampled
    );
    assert_eq!(
        eval(
            r#"{"name":"l","type":"latency","latency":{"threshold_ms":701}}"#,
            &t
        ),
        NotSampled
    );
    assert_eq!(
        eval(
            r#"{"name":"l","type":"latency","latency":{"threshold_ms":500,"upper_threshold_ms":600}}"#,
            &t
        ),
        NotSampled
    );
    assert_eq!(
        eval(
            r#"{"name":"l","type":"latency","latency":{"threshold_ms":500,"upper_threshold_ms":800}}"#,
            &t
        ),
        Sampled
    );
    assert_eq!(
        eval(
            r#"{"name":"s","type":"status_code","status_code":{"status_codes":["ERROR"]}}"#,
            &t
        ),
        Sampled
    );
    assert_eq!(
        eval(
            r#"{"name":"s","type":"status_code","status_code":{"status_codes":["OK"]}}"#,
            &t
        ),
        NotSampled
    );
    assert_eq!(
        eval(
            r#"{"name":"s","type":"status_code","status_code":{"status_codes":["UNSET"]}}"#,
            &t
        ),
        Sampled
    );
    assert_eq!(
        eval(
            r#"{"name":"c","type":"span_count","span_count":{"min_spans":2}}"#,
            &t
        ),
        Sampled
    );
    assert_eq!(
        eval(
            r#"{"name":"c","type":"span_count","span_count":{"min_spans":3}}"#,
            &t
        ),
        NotSampled
    );
    assert_eq!(
        eval(
            r#"{"name":"c","type":"span_count","span_count":{"min_spans":1,"max_spans":1}}"#,
            &t
        ),
        NotSampled
    );
}

#[test]
fn attribute_policies_look_at_spans_and_resources() {
    use Decision::*;
    let t = trace_of(
        vec![with_attr(
            with_attr(span(1, 0, 1), "http.route", string_value("/api/v1/users")),
            "http.status",
            int_value(503),
        )],
        vec![
            key_value("deployment", string_value("prod")),
            key_value(
                "canary",
                AnyValue {
                    value: Some(Value::BoolValue(true)),
                },
            ),
        ],
    );
    let s = |extra: &str| {
        format!(r#"{{"name":"s","type":"string_attribute","string_attribute":{{{extra}}}}}"#)
    };
    assert_eq!(
        eval(&s(r#""key":"deployment","values":["prod"]"#), &t),
        Sampled
    );
    assert_eq!(
        eval(&s(r#""key":"http.route","values":["/api"]"#), &t),
        NotSampled
    );
    assert_eq!(
        eval(
            &s(r#""key":"http.route","values":["^/api/v\\d+/"],"enabled_regex_matching":true"#),
            &t
        ),
        Sampled
    );
    assert_eq!(
        eval(
            &s(r#""key":"http.route","values":["/health"],"invert_match":true"#),
            &t
        ),
        InvertSampled
    );
    assert_eq!(
        eval(
            &s(r#""key":"deployment","values":["prod"],"invert_match":true"#),
            &t
        ),
        InvertNotSampled
    );
    let n = |extra: &str| {
        format!(r#"{{"name":"n","type":"numeric_attribute","numeric_attribute":{{{extra}}}}}"#)
    };
    assert_eq!(
        eval(
            &n(r#""key":"http.status","min_value":500,"max_value":599"#),
            &t
        ),
        Sampled
    );
    assert_eq!(
        eval(
            &n(r#""key":"http.status","min_value":400,"max_value":499"#),
            &t
        ),
        NotSampled
    );
    assert_eq!(
        eval(
            &n(r#""key":"http.status","min_value":500,"invert_match":true"#),
            &t
        ),
        InvertNotSampled
    );
    let b = |extra: &str| {
        format!(r#"{{"name":"b","type":"boolean_attribute","boolean_attribute":{{{extra}}}}}"#)
    };
    assert_eq!(eval(&b(r#""key":"canary","value":true"#), &t), Sampled);
    assert_eq!(eval(&b(r#""key":"canary","value":false"#), &t), NotSampled);
}

#[test]
fn trace_state_and_probabilistic() {
    use Decision::*;
    let mut s = span(1, 0, 1);
    s.trace_state = "ot=th:8,vendor=gold".into();
    let t = trace_of(vec![s], vec![]);
    assert_eq!(
        eval(
            r#"{"name":"t","type":"trace_state","trace_state":{"key":"vendor","values":["gold","silver"]}}"#,
            &t
        ),
        Sampled
    );
    assert_eq!(
        eval(
            r#"{"name":"t","type":"trace_state","trace_state":{"key":"vendor","values":["bronze"]}}"#,
            &t
        ),
        NotSampled
    );
    // The Go policy: FNV-1a 64 of salt + trace id, compared with MaxUint64 * ratio.
    assert_eq!(fnv64a(b"", b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv64a(b"a", b""), 0xaf63_dc4c_8601_ec8c); // the published FNV-1a 64 vector for "a"
    assert_eq!(probability_threshold(1.0), u64::MAX);
    // (2^64-1) * 0.5 = 2^63 - 0.5 fits a 64-bit mantissa exactly; Uint64() truncates.
    assert_eq!(probability_threshold(0.5), (1 << 63) - 1);
    assert_eq!(probability_threshold(0.0), 0);
    let mut kept = 0;
    let mut p =
        policy(r#"{"name":"p","type":"probabilistic","probabilistic":{"sampling_percentage":10}}"#);
    for n in 0..20_000 {
        if p.evaluate(&trace_of(vec![span(n, 0, 1)], vec![]), 1) == Sampled {
            kept += 1;
        }
    }
    assert!((1800..=2200).contains(&kept), "kept {kept} of 20000 at 10%");
}

#[test]
fn and_drop_composite_and_rate_limiting() {
    use Decision::*;
    let err = trace_of(
        vec![with_status(span(1, 0, 900), StatusCode::Error)],
        vec![],
    );
    let ok = trace_of(vec![span(2, 0, 10)], vec![]);
    let and = r#"{"name":"x","type":"and","and":{"and_sub_policy":[
        {"name":"e","type":"status_code","status_code":{"status_codes":["ERROR"]}},
        {"name":"l","type":"latency","latency":{"threshold_ms":500}}]}}"#;
    assert_eq!(eval(and, &err), Sampled);
    assert_eq!(eval(and, &ok), NotSampled);
    let drop = r#"{"name":"d","type":"drop","drop":{"drop_sub_policy":[
        {"name":"e","type":"status_code","status_code":{"status_codes":["ERROR"]}}]}}"#;
    assert_eq!(eval(drop, &err), Dropped);
    assert_eq!(eval(drop, &ok), NotSampled);

    let mut rate =
        policy(r#"{"name":"r","type":"rate_limiting","rate_limiting":{"spans_per_second":3}}"#);
    let one = trace_of(vec![span(3, 0, 1)], vec![]);
    // Go's check is strict: spent + spans < limit.
    assert_eq!(
        [
            rate.evaluate(&one, 10),
            rate.evaluate(&one, 10),
            rate.evaluate(&one, 10)
        ],
        [Sampled, Sampled, NotSampled]
    );
    assert_eq!(
        rate.evaluate(&one, 11),
        Sampled,
        "a new second resets the budget"
    );

    let mut composite = policy(
        r#"{"name":"c","type":"composite","composite":{"max_total_spans_per_second":4,"policy_order":["errors","rest"],
        "composite_sub_policy":[{"name":"errors","type":"status_code","status_code":{"status_codes":["ERROR"]}},
                                {"name":"rest","type":"always_sample"}],
        "rate_allocation":[{"policy":"errors","percent":50},{"policy":"rest","percent":50}]}}"#,
    );
    let decisions: Vec<_> = (0..3).map(|_| composite.evaluate(&err, 5)).collect();
    assert_eq!(
        decisions,
        [Sampled, Sampled, NotSampled],
        "errors get 2 spans/s"
    );
    let decisions: Vec<_> = (0..3).map(|_| composite.evaluate(&ok, 5)).collect();
    assert_eq!(
        decisions,
        [Sampled, Sampled, NotSampled],
        "the rest get the other 2"
    );
    assert_eq!(composite.evaluate(&err, 6), Sampled);
}

#[test]
fn bad_policies_are_config_errors() {
    let build = |json: &str| Policy::build(&serde_json::from_str(json).unwrap()).unwrap_err();
    assert!(
        build(r#"{"name":"x","type":"latency"}"#)
            .contains("policy `x`: type `latency` needs a `latency` block")
    );
    assert!(build(r#"{"name":"x","type":"nope"}"#).contains("unknown type `nope`"));
    assert!(
        build(r#"{"name":"x","type":"status_code","status_code":{"status_codes":["BAD"]}}"#)
            .contains("unknown `BAD`")
    );
    assert!(build(r#"{"name":"x","type":"string_attribute","string_attribute":{"key":"k","values":["("],"enabled_regex_matching":true}}"#).contains("string_attribute.values"));
    assert!(build(r#"{"name":"x","type":"and","and":{"and_sub_policy":[{"name":"c","type":"composite","composite":{"max_total_spans_per_second":1,"policy_order":[],"composite_sub_policy":[]}}]}}"#).contains("cannot be nested"));
    let err = Config::parse(r#"{"decision_wait":"ten"}"#).unwrap_err();
    assert!(err.contains("not a duration"), "{err}");
    let err = Config::parse(r#"{"policys":[]}"#).unwrap_err();
    assert!(err.contains("unknown field `policys`"), "{err}");
    assert!(TailSampler::new(&Config::default()).is_err(), "no policies");
    assert_eq!(parse_duration("1m30s"), Ok(90 * SEC));
    assert_eq!(parse_duration("250ms"), Ok(250 * MS));
}

fn production() -> TailSampler {
    let config = Config::parse(
        r#"{"decision_wait":"5s","num_traces":100000,"policies":[
        {"name":"errors","type":"status_code","status_code":{"status_codes":["ERROR"]}},
        {"name":"slow","type":"latency","latency":{"threshold_ms":1000}},
        {"name":"rest","type":"probabilistic","probabilistic":{"sampling_percentage":10}}]}"#,
    )
    .unwrap();
    TailSampler::new(&config).unwrap()
}

#[test]
fn spans_over_several_batches_are_decided_together() {
    let mut s = production();
    let t0 = 1_000 * SEC;
    // Trace 7: a fast OK span first, its error span 3 s later in another batch.
    assert!(
        s.process(&request(vec![span(7, 0, 10), span(8, 0, 10)]), t0)
            .unwrap()
            .is_empty()
    );
    assert!(s.tick(t0 + 3 * SEC).is_empty(), "nothing due yet");
    assert!(
        s.process(
            &request(vec![with_status(span(7, 20, 30), StatusCode::Error)]),
            t0 + 3 * SEC
        )
        .unwrap()
        .is_empty()
    );
    let out = spans_of(&s.tick(t0 + 5 * SEC));
    let of_7: Vec<_> = out.iter().filter(|sp| sp.name == "t7").collect();
    assert_eq!(of_7.len(), 2, "both spans of the error trace, together");
    // A late span of trace 7 follows the decision at once.
    let late = s
        .process(&request(vec![span(7, 40, 50)]), t0 + 6 * SEC)
        .unwrap();
    assert_eq!(spans_of(&late), [span(7, 40, 50)], "the span as it came");
    let stats = s.take_stats();
    assert_eq!(stats.late_spans_sampled, 1);
    assert_eq!(stats.traces_sampled + stats.traces_not_sampled, 2);
    // The resource came back with the spans.
    let rs = &otlp::decode_traces(&late[0]).unwrap().resource_spans[0];
    assert_eq!(
        rs.resource.as_ref().unwrap().attributes[0].key,
        "service.name"
    );
}

#[test]
fn full_table_decides_the_oldest_early_and_counts_it() {
    let config = Config::parse(
        r#"{"decision_wait":"30s","num_traces":3,"policies":[{"name":"a","type":"always_sample"}]}"#,
    )
    .unwrap();
    let mut s = TailSampler::new(&config).unwrap();
    for n in 0..3 {
        assert!(
            s.process(&request(vec![span(n, 0, 1)]), n * SEC)
                .unwrap()
                .is_empty()
        );
    }
    let out = s
        .process(&request(vec![span(3, 0, 1), span(4, 0, 1)]), 3 * SEC)
        .unwrap();
    let names: Vec<_> = spans_of(&out).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["t0", "t1"], "the two oldest, decided early");
    assert_eq!(s.take_stats().traces_decided_early, 2);
    assert_eq!(s.held_traces(), 3);
    let flushed = spans_of(&s.flush(4 * SEC));
    assert_eq!(flushed.len(), 3);
    assert_eq!(s.held_traces(), 0);
    assert_eq!(s.take_stats().traces_flushed, 3);
}

/// The production policy set on a generated workload: every error and slow
/// trace kept, the rest near 10%, no trace split.
#[test]
fn production_policies_on_a_workload() {
    let mut s = production();
    let t0 = 2_000 * SEC;
    let total = 20_000u64;
    let (mut errors, mut slow) = (
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
    );
    let mut released = Vec::new();
    for batch in 0..(total / 500) {
        let mut spans = Vec::new();
        for n in batch * 500..(batch + 1) * 500 {
            let is_error = n % 37 == 0;
            let is_slow = n % 53 == 0;
            let end = if is_slow { 1500 } else { 40 };
            spans.push(span(n, 0, 20));
            let last = span(n, 10, end);
            spans.push(if is_error {
                errors.insert(n);
                with_status(last, StatusCode::Error)
            } else {
                last
            });
            if is_slow {
                slow.insert(n);
            }
        }
        released.extend(s.process(&request(spans), t0 + batch * MS).unwrap());
    }
    released.extend(s.tick(t0 + 10 * SEC));
    let mut per_trace = std::collections::HashMap::<String, usize>::new();
    for sp in spans_of(&released) {
        *per_trace.entry(sp.name).or_default() += 1;
    }
    assert!(
        per_trace.values().all(|&n| n == 2),
        "a kept trace has all its spans"
    );
    for n in errors.iter().chain(&slow) {
        assert!(
            per_trace.contains_key(&format!("t{n}")),
            "trace {n} must be kept"
        );
    }
    let rest_total = (0..total)
        .filter(|n| !errors.contains(n) && !slow.contains(n))
        .count();
    let rest_kept = per_trace.keys().filter(|k| {
        let n: u64 = k[1..].parse().unwrap();
        !errors.contains(&n) && !slow.contains(&n)
    });
    let share = rest_kept.count() as f64 / rest_total as f64;
    assert!((share - 0.10).abs() <= 0.015, "the rest kept at {share}");
}

/// Span attributes are decoded only when a policy (even nested) reads them.
#[test]
fn nested_attribute_policies_see_span_attributes_through_the_sampler() {
    let config = Config::parse(
        r#"{"decision_wait":"1s","policies":[{"name":"x","type":"and","and":{"and_sub_policy":[
        {"name":"route","type":"string_attribute","string_attribute":{"key":"http.route","values":["/pay"]}},
        {"name":"any","type":"always_sample"}]}}]}"#,
    )
    .unwrap();
    let mut s = TailSampler::new(&config).unwrap();
    let pay = with_attr(span(1, 0, 1), "http.route", string_value("/pay"));
    let other = with_attr(span(2, 0, 1), "http.route", string_value("/home"));
    assert!(
        s.process(&request(vec![pay.clone(), other]), 0)
            .unwrap()
            .is_empty()
    );
    assert_eq!(spans_of(&s.tick(2 * SEC)), [pay]);
}
