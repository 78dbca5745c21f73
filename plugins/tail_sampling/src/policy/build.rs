//! Turning a [`PolicyConfig`] into a [`Policy`], checking what serde
//! cannot: the block for the type is there, values are in range, regexes
//! compile, `composite` names its sub-policies and is not nested.

use regex::Regex;
use weir_plugin_sdk::otlp::trace::v1::status::StatusCode;

use super::{CompositeSub, Matcher, Policy, Rule, probability_threshold};
use crate::config::PolicyConfig;

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
}
