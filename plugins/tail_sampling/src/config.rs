//! The processor's configuration: the Go collector's `tail_sampling` keys.
//! Each policy is `{name, type, <type>: {...}}`; [`crate::policy`] turns
//! them into evaluators and checks what serde cannot.

use serde::Deserialize;

/// `processors: tail_sampling`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// How long after a trace's first span it is decided (`30s` default).
    pub decision_wait: Duration,
    /// Most traces held undecided at once (default 50000); past it, the
    /// oldest is decided early (counted as `traces_decided_early`).
    pub num_traces: usize,
    /// Expected new traces per second: sizes the trace table up front.
    pub expected_new_traces_per_sec: usize,
    /// How many decisions to remember, so spans arriving after their trace
    /// was decided follow the decision.
    pub decision_cache: DecisionCacheConfig,
    /// The policies; a trace is kept when one samples it and no `drop`
    /// (or inverted match) vetoes it.
    pub policies: Vec<PolicyConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            decision_wait: Duration(30_000_000_000),
            num_traces: 50_000,
            expected_new_traces_per_sec: 0,
            decision_cache: DecisionCacheConfig::default(),
            policies: Vec::new(),
        }
    }
}

/// `decision_cache`: remembered decisions (0 = `num_traces`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionCacheConfig {
    pub sampled_cache_size: usize,
    pub non_sampled_cache_size: usize,
}

/// One policy (or sub-policy) as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub latency: Option<LatencyConfig>,
    pub status_code: Option<StatusCodeConfig>,
    pub probabilistic: Option<ProbabilisticConfig>,
    pub string_attribute: Option<StringAttributeConfig>,
    pub numeric_attribute: Option<NumericAttributeConfig>,
    pub boolean_attribute: Option<BooleanAttributeConfig>,
    pub span_count: Option<SpanCountConfig>,
    pub rate_limiting: Option<RateLimitingConfig>,
    pub trace_state: Option<TraceStateConfig>,
    pub and: Option<AndConfig>,
    pub composite: Option<CompositeConfig>,
    pub drop: Option<DropConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyConfig {
    pub threshold_ms: i64,
    #[serde(default)]
    pub upper_threshold_ms: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusCodeConfig {
    pub status_codes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbabilisticConfig {
    #[serde(default)]
    pub hash_salt: String,
    pub sampling_percentage: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StringAttributeConfig {
    pub key: String,
    pub values: Vec<String>,
    #[serde(default)]
    pub enabled_regex_matching: bool,
    /// Accepted for compatibility; regex results are not cached.
    #[serde(default)]
    pub cache_max_size: usize,
    #[serde(default)]
    pub invert_match: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericAttributeConfig {
    pub key: String,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    #[serde(default)]
    pub invert_match: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BooleanAttributeConfig {
    pub key: String,
    pub value: bool,
    #[serde(default)]
    pub invert_match: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanCountConfig {
    pub min_spans: u64,
    #[serde(default)]
    pub max_spans: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitingConfig {
    pub spans_per_second: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceStateConfig {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AndConfig {
    pub and_sub_policy: Vec<PolicyConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropConfig {
    pub drop_sub_policy: Vec<PolicyConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeConfig {
    pub max_total_spans_per_second: u64,
    pub policy_order: Vec<String>,
    pub composite_sub_policy: Vec<PolicyConfig>,
    #[serde(default)]
    pub rate_allocation: Vec<RateAllocation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateAllocation {
    pub policy: String,
    pub percent: u64,
}

/// Go-style durations (`500ms`, `30s`, `1m30s`) or a number of seconds, as
/// every plugin's config reads them.
pub use weir_plugin_sdk::duration::{Duration, parse as parse_duration};
