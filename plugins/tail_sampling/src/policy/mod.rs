//! Policies: each looks at a whole trace and says sample, don't, or (for
//! inverted matches and `drop`) veto. Built from `PolicyConfig` (see `build`), checked
//! at `init` so a bad policy is a config error naming it.

use std::collections::HashSet;

mod build;

use regex::Regex;
use weir_plugin_sdk::otlp::{KeyValue, any_value::Value};

use crate::trace::Trace;

/// What one policy says about a trace (the Go collector's `sampling.Decision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Sampled,
    NotSampled,
    /// An inverted match did not match: sample, unless something vetoes.
    InvertSampled,
    /// An inverted match matched: a veto.
    InvertNotSampled,
    /// A `drop` policy matched: a veto that wins over everything.
    Dropped,
}

/// A configured policy.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    rule: Rule,
}

#[derive(Debug)]
enum Rule {
    AlwaysSample,
    Latency {
        threshold_ms: i64,
        upper_ms: i64,
    },
    StatusCode(Vec<i32>),
    Probabilistic {
        salt: Vec<u8>,
        threshold: u64,
    },
    StringAttribute {
        key: String,
        matcher: Matcher,
        invert: bool,
    },
    NumericAttribute {
        key: String,
        min: i64,
        max: i64,
        invert: bool,
    },
    BooleanAttribute {
        key: String,
        value: bool,
        invert: bool,
    },
    SpanCount {
        min: u64,
        max: u64,
    },
    RateLimiting {
        per_second: u64,
        second: u64,
        spent: u64,
    },
    TraceState {
        key: String,
        values: HashSet<String>,
    },
    And(Vec<Policy>),
    Drop(Vec<Policy>),
    Composite {
        max_total: u64,
        second: u64,
        subs: Vec<CompositeSub>,
    },
}

#[derive(Debug)]
struct CompositeSub {
    policy: Policy,
    allocated: u64,
    spent: u64,
}

#[derive(Debug)]
enum Matcher {
    Exact(HashSet<String>),
    Regex(Vec<Regex>),
}

impl Matcher {
    fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Exact(values) => values.contains(s),
            Matcher::Regex(patterns) => patterns.iter().any(|r| r.is_match(s)),
        }
    }
}

impl Policy {
    /// Whether the policy (or a sub-policy) reads span or resource attributes.
    pub fn reads_attributes(&self) -> bool {
        match &self.rule {
            Rule::StringAttribute { .. }
            | Rule::NumericAttribute { .. }
            | Rule::BooleanAttribute { .. } => true,
            Rule::And(subs) | Rule::Drop(subs) => subs.iter().any(Policy::reads_attributes),
            Rule::Composite { subs, .. } => subs.iter().any(|s| s.policy.reads_attributes()),
            _ => false,
        }
    }

    /// Evaluates the policy on `trace` at `now_secs` (for per-second rates).
    pub fn evaluate(&mut self, trace: &Trace, now_secs: u64) -> Decision {
        use Decision::*;
        let yes = |b: bool| if b { Sampled } else { NotSampled };
        match &mut self.rule {
            Rule::AlwaysSample => Sampled,
            Rule::Latency {
                threshold_ms,
                upper_ms,
            } => yes(latency_matches(trace, *threshold_ms, *upper_ms)),
            Rule::StatusCode(codes) => yes(trace.spans.iter().any(|s| {
                let code = s.span.status.as_ref().map_or(0, |st| st.code);
                codes.contains(&code)
            })),
            Rule::Probabilistic { salt, threshold } => yes(fnv64a(salt, &trace.id) <= *threshold),
            Rule::StringAttribute {
                key,
                matcher,
                invert,
            } => {
                let found = any_attribute(
                    trace,
                    key,
                    |v| matches!(v, Value::StringValue(s) if matcher.matches(s)),
                );
                inverted(found, *invert)
            }
            Rule::NumericAttribute {
                key,
                min,
                max,
                invert,
            } => {
                let found = any_attribute(trace, key, |v| match v {
                    Value::IntValue(i) => (*min..=*max).contains(i),
                    Value::DoubleValue(d) => (*min as f64..=*max as f64).contains(d),
                    _ => false,
                });
                inverted(found, *invert)
            }
            Rule::BooleanAttribute { key, value, invert } => {
                let found = any_attribute(
                    trace,
                    key,
                    |v| matches!(v, Value::BoolValue(b) if b == value),
                );
                inverted(found, *invert)
            }
            Rule::SpanCount { min, max } => {
                let n = trace.spans.len() as u64;
                yes(n >= *min && (*max == 0 || n <= *max))
            }
            Rule::RateLimiting {
                per_second,
                second,
                spent,
            } => {
                if *second != now_secs {
                    *second = now_secs;
                    *spent = 0;
                }
                let if_sampled = *spent + trace.spans.len() as u64;
                if if_sampled < *per_second {
                    *spent = if_sampled;
                    Sampled
                } else {
                    NotSampled
                }
            }
            Rule::TraceState { key, values } => yes(trace.spans.iter().any(|s| {
                s.span.trace_state.split(',').any(|member| {
                    member
                        .trim()
                        .split_once('=')
                        .is_some_and(|(k, v)| k == key && values.contains(v))
                })
            })),
            Rule::And(subs) => {
                for sub in subs {
                    if matches!(sub.evaluate(trace, now_secs), NotSampled | InvertNotSampled) {
                        return NotSampled;
                    }
                }
                Sampled
            }
            Rule::Drop(subs) => {
                for sub in subs {
                    if matches!(sub.evaluate(trace, now_secs), NotSampled | InvertNotSampled) {
                        return NotSampled;
                    }
                }
                Dropped
            }
            Rule::Composite {
                max_total,
                second,
                subs,
            } => {
                if *second != now_secs {
                    *second = now_secs;
                    subs.iter_mut().for_each(|s| s.spent = 0);
                }
                for sub in subs.iter_mut() {
                    if matches!(
                        sub.policy.evaluate(trace, now_secs),
                        Sampled | InvertSampled
                    ) {
                        let if_sampled = sub.spent + trace.spans.len() as u64;
                        if if_sampled <= sub.allocated && if_sampled <= *max_total {
                            sub.spent = if_sampled;
                            return Sampled;
                        }
                        return NotSampled;
                    }
                }
                NotSampled
            }
        }
    }
}

/// The outcome of all top-level policies: a drop or an inverted match that
/// matched vetoes; otherwise any sample keeps the trace.
pub fn combine(decisions: impl IntoIterator<Item = Decision>) -> bool {
    let (mut sampled, mut veto) = (false, false);
    for d in decisions {
        match d {
            Decision::Dropped | Decision::InvertNotSampled => veto = true,
            Decision::Sampled | Decision::InvertSampled => sampled = true,
            Decision::NotSampled => {}
        }
    }
    sampled && !veto
}

fn inverted(found: bool, invert: bool) -> Decision {
    match (found, invert) {
        (true, false) => Decision::Sampled,
        (false, false) => Decision::NotSampled,
        (true, true) => Decision::InvertNotSampled,
        (false, true) => Decision::InvertSampled,
    }
}

/// Whether a resource or span attribute `key` of the trace satisfies `test`.
fn any_attribute(trace: &Trace, key: &str, test: impl Fn(&Value) -> bool) -> bool {
    let check = |attrs: &[KeyValue]| {
        attrs.iter().any(|kv| {
            kv.key == key
                && kv
                    .value
                    .as_ref()
                    .and_then(|v| v.value.as_ref())
                    .is_some_and(&test)
        })
    };
    trace.spans.iter().any(|s| {
        check(&s.span.attributes)
            || s.resource
                .resource
                .as_ref()
                .is_some_and(|r| check(&r.attributes))
    })
}

/// The Go policy's running check: the span extent so far (earliest start to
/// latest end, in ms) reaches the threshold (or, with an upper bound, lies
/// in `(threshold, upper]`) at some span.
fn latency_matches(trace: &Trace, threshold_ms: i64, upper_ms: i64) -> bool {
    let (mut min, mut max) = (0u64, 0u64);
    trace.spans.iter().any(|s| {
        if min == 0 || s.span.start_time_unix_nano < min {
            min = s.span.start_time_unix_nano;
        }
        if max == 0 || s.span.end_time_unix_nano > max {
            max = s.span.end_time_unix_nano;
        }
        let ms = (max as i64 - min as i64) / 1_000_000;
        if upper_ms == 0 {
            ms >= threshold_ms
        } else {
            threshold_ms < ms && ms <= upper_ms
        }
    })
}

/// FNV-1a 64 of the salt then the trace id (the Go policy's hash).
pub fn fnv64a(salt: &[u8], id: &[u8]) -> u64 {
    salt.iter()
        .chain(id)
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// `MaxUint64 * ratio` as Go's `big.Float` computes it (64-bit mantissa,
/// round to nearest even) and truncates to an integer.
pub fn probability_threshold(ratio: f64) -> u64 {
    if ratio <= 0.0 {
        return 0;
    }
    if ratio >= 1.0 {
        return u64::MAX;
    }
    let bits = ratio.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let (mantissa, mut e) = if exp == 0 {
        (bits & ((1 << 52) - 1), -1074)
    } else {
        ((bits & ((1 << 52) - 1)) | (1 << 52), exp - 1075)
    };
    let mut p = u128::from(u64::MAX) * u128::from(mantissa);
    let width = 128 - p.leading_zeros() as i32;
    if width > 64 {
        let drop = width - 64;
        let rem = p & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        p >>= drop;
        if rem > half || (rem == half && p & 1 == 1) {
            p += 1;
        }
        e += drop;
    }
    if e >= 0 {
        u64::try_from(p << e).unwrap_or(u64::MAX)
    } else {
        u64::try_from(p >> (-e)).unwrap_or(u64::MAX)
    }
}
