//! Policies: each looks at a whole trace and says sample, don't, or (for
//! inverted matches and `drop`) veto. Built from [`PolicyConfig`], checked
//! at `init` so a bad policy is a config error naming it.

use std::collections::HashSet;

use regex::Regex;
use weir_plugin_sdk::otlp::{KeyValue, any_value::Value, trace::v1::status::StatusCode};

use crate::config::PolicyConfig;
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

/// Where a nested policy sits, for what it may contain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    Sub,
}

impl Policy {
    /// Builds a top-level policy; errors name the policy and the key.
    pub fn build(config: &PolicyConfig) -> Result<Policy, String> {
        Self::build_at(config, Level::Top)
    }

    fn build_at(c: &PolicyConfig, level: Level) -> Result<Policy, String> {
        let name = &c.name;
        let err = |msg: String| format!("policy `{name}`: {msg}");
        let need = |present: bool, key: &str| {
            if present {
                Ok(())
            } else {
                Err(err(format!("type `{}` needs a `{key}` block", c.kind)))
            }
        };
        let subs = |list: &[PolicyConfig]| -> Result<Vec<Policy>, String> {
            if list.is_empty() {
                return Err(err("needs at least one sub-policy".into()));
            }
            list.iter()
                .map(|p| Self::build_at(p, Level::Sub).map_err(&err))
                .collect()
        };
        let rule = match c.kind.as_str() {
            "always_sample" => Rule::AlwaysSample,
            "latency" => {
                need(c.latency.is_some(), "latency")?;
                let l = c.latency.as_ref().expect("checked");
                if l.upper_threshold_ms != 0 && l.upper_threshold_ms < l.threshold_ms {
                    return Err(err(
                        "latency.upper_threshold_ms is below threshold_ms".into()
                    ));
                }
                Rule::Latency {
                    threshold_ms: l.threshold_ms,
                    upper_ms: l.upper_threshold_ms,
                }
            }
            "status_code" => {
                need(c.status_code.is_some(), "status_code")?;
                let codes = &c.status_code.as_ref().expect("checked").status_codes;
                if codes.is_empty() {
                    return Err(err("status_code.status_codes is empty".into()));
                }
                let codes = codes
                    .iter()
                    .map(|s| match s.as_str() {
                        "OK" => Ok(StatusCode::Ok as i32),
                        "ERROR" => Ok(StatusCode::Error as i32),
                        "UNSET" => Ok(StatusCode::Unset as i32),
                        other => Err(err(format!("status_code.status_codes: unknown `{other}` (expected OK, ERROR or UNSET)"))),
                    })
                    .collect::<Result<_, _>>()?;
                Rule::StatusCode(codes)
            }
            "probabilistic" => {
                need(c.probabilistic.is_some(), "probabilistic")?;
                let p = c.probabilistic.as_ref().expect("checked");
                if !(0.0..=100.0).contains(&p.sampling_percentage) {
                    return Err(err("probabilistic.sampling_percentage must be 0-100".into()));
                }
                let salt = if p.hash_salt.is_empty() {
                    "default-hash-seed"
                } else {
                    &p.hash_salt
                };
                Rule::Probabilistic {
                    salt: salt.as_bytes().to_vec(),
                    threshold: probability_threshold(p.sampling_percentage / 100.0),
                }
            }
            "string_attribute" => {
                need(c.string_attribute.is_some(), "string_attribute")?;
                let s = c.string_attribute.as_ref().expect("checked");
                if s.key.is_empty() || s.values.is_empty() {
                    return Err(err("string_attribute needs a key and values".into()));
                }
                let matcher = if s.enabled_regex_matching {
                    Matcher::Regex(
                        s.values
                            .iter()
                            .map(|v| {
                                Regex::new(v).map_err(|e| {
                                    err(format!("string_attribute.values: `{v}`: {e}"))
                                })
                            })
                            .collect::<Result<_, _>>()?,
                    )
                } else {
                    Matcher::Exact(s.values.iter().cloned().collect())
                };
                Rule::StringAttribute {
                    key: s.key.clone(),
                    matcher,
                    invert: s.invert_match,
                }
            }
            "numeric_attribute" => {
                need(c.numeric_attribute.is_some(), "numeric_attribute")?;
                let n = c.numeric_attribute.as_ref().expect("checked");
                if n.min_value.is_none() && n.max_value.is_none() {
                    return Err(err("numeric_attribute needs min_value or max_value".into()));
                }
                let (min, max) = (
                    n.min_value.unwrap_or(i64::MIN),
                    n.max_value.unwrap_or(i64::MAX),
                );
                if min > max {
                    return Err(err("numeric_attribute.min_value is above max_value".into()));
                }
                Rule::NumericAttribute {
                    key: n.key.clone(),
                    min,
                    max,
                    invert: n.invert_match,
                }
            }
            "boolean_attribute" => {
                need(c.boolean_attribute.is_some(), "boolean_attribute")?;
                let b = c.boolean_attribute.as_ref().expect("checked");
                Rule::BooleanAttribute {
                    key: b.key.clone(),
                    value: b.value,
                    invert: b.invert_match,
                }
            }
            "span_count" => {
                need(c.span_count.is_some(), "span_count")?;
                let s = c.span_count.as_ref().expect("checked");
                if s.max_spans != 0 && s.max_spans < s.min_spans {
                    return Err(err("span_count.max_spans is below min_spans".into()));
                }
                Rule::SpanCount {
                    min: s.min_spans,
                    max: s.max_spans,
                }
            }
            "rate_limiting" => {
                need(c.rate_limiting.is_some(), "rate_limiting")?;
                Rule::RateLimiting {
                    per_second: c.rate_limiting.as_ref().expect("checked").spans_per_second,
                    second: 0,
                    spent: 0,
                }
            }
            "trace_state" => {
                need(c.trace_state.is_some(), "trace_state")?;
                let t = c.trace_state.as_ref().expect("checked");
                if t.key.is_empty() || t.values.is_empty() {
                    return Err(err("trace_state needs a key and values".into()));
                }
                Rule::TraceState {
                    key: t.key.clone(),
                    values: t.values.iter().cloned().collect(),
                }
            }
            "and" => {
                need(c.and.is_some(), "and")?;
                Rule::And(subs(&c.and.as_ref().expect("checked").and_sub_policy)?)
            }
            "drop" => {
                need(c.drop.is_some(), "drop")?;
                Rule::Drop(subs(&c.drop.as_ref().expect("checked").drop_sub_policy)?)
            }
            "composite" if level == Level::Top => {
                need(c.composite.is_some(), "composite")?;
                let comp = c.composite.as_ref().expect("checked");
                let built = subs(&comp.composite_sub_policy)?;
                let total = comp.max_total_spans_per_second;
                let default_share = total / built.len() as u64;
                let mut by_name: Vec<Option<Policy>> = built.into_iter().map(Some).collect();
                let mut ordered = Vec::new();
                for wanted in &comp.policy_order {
                    let index = by_name
                        .iter()
                        .position(|p| p.as_ref().is_some_and(|p| &p.name == wanted))
                        .ok_or_else(|| err(format!("composite.policy_order names `{wanted}`, which is not a composite_sub_policy")))?;
                    let policy = by_name[index].take().expect("found above");
                    let allocated = comp
                        .rate_allocation
                        .iter()
                        .find(|r| &r.policy == wanted)
                        .map_or(0, |r| {
                            if r.percent > 0 {
                                total * r.percent / 100
                            } else {
                                default_share
                            }
                        });
                    ordered.push(CompositeSub {
                        policy,
                        allocated,
                        spent: 0,
                    });
                }
                Rule::Composite {
                    max_total: total,
                    second: 0,
                    subs: ordered,
                }
            }
            "composite" => return Err(err("a composite cannot be nested".into())),
            other => {
                return Err(err(format!(
                    "unknown type `{other}` (expected always_sample, latency, status_code, probabilistic, string_attribute, numeric_attribute, boolean_attribute, span_count, rate_limiting, trace_state, and, composite or drop)"
                )));
            }
        };
        Ok(Policy {
            name: name.clone(),
            rule,
        })
    }

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
