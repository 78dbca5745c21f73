//! The `spanmetrics` connector's settings, as the Go connector names them:
//!
//! ```yaml
//! connectors:
//!   spanmetrics:
//!     histogram:
//!       unit: ms                      # or s
//!       disable: false
//!       explicit: {buckets: [2ms, 4ms, 6ms, 8ms, 10ms, 50ms, 100ms, 200ms, 400ms,
//!                            800ms, 1s, 1400ms, 2s, 5s, 10s, 15s]}   # the default
//!     dimensions: [{name: http.method, default: GET}, {name: http.status_code}]
//!     exclude_dimensions: []          # of service.name, span.name, span.kind, status.code
//!     namespace: traces.span.metrics  # metric names: <namespace>.calls, <namespace>.duration
//!     aggregation_temporality: AGGREGATION_TEMPORALITY_CUMULATIVE  # or ..._DELTA
//!     metrics_flush_interval: 15s
//!     metrics_expiration: 0           # drop series unseen this long; 0: never
//!     resource_metrics_key_attributes: []   # resource keys that tell resources apart
//!     resource_metrics_cache_size: 1000     # resources held; the least recent goes first
//!     dimensions_cache_size: 1000     # accepted; series keep their own attributes
//! ```

use serde::Deserialize;
use weir_plugin_sdk::duration::Duration;

/// The default explicit buckets, milliseconds (the Go connector's).
pub const DEFAULT_BUCKETS_MS: [f64; 16] = [
    2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0,
    10_000.0, 15_000.0,
];

/// The dimensions every series has, unless excluded.
pub const DEFAULT_DIMENSIONS: [&str; 4] = ["service.name", "span.name", "span.kind", "status.code"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub histogram: Histogram,
    pub dimensions: Vec<Dimension>,
    pub exclude_dimensions: Vec<String>,
    pub dimensions_cache_size: usize,
    pub resource_metrics_cache_size: usize,
    pub resource_metrics_key_attributes: Vec<String>,
    pub aggregation_temporality: String,
    pub namespace: String,
    pub metrics_flush_interval: Duration,
    pub metrics_expiration: Duration,
    pub exemplars: Switch,
    pub events: Switch,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            histogram: Histogram::default(),
            dimensions: Vec::new(),
            exclude_dimensions: Vec::new(),
            dimensions_cache_size: 1000,
            resource_metrics_cache_size: 1000,
            resource_metrics_key_attributes: Vec::new(),
            aggregation_temporality: CUMULATIVE.into(),
            namespace: "traces.span.metrics".into(),
            metrics_flush_interval: Duration(15_000_000_000),
            metrics_expiration: Duration(0),
            exemplars: Switch::default(),
            events: Switch::default(),
        }
    }
}

const CUMULATIVE: &str = "AGGREGATION_TEMPORALITY_CUMULATIVE";
const DELTA: &str = "AGGREGATION_TEMPORALITY_DELTA";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Histogram {
    pub disable: bool,
    pub unit: Unit,
    pub explicit: Option<Explicit>,
    /// Refused at check: exponential histograms are not supported yet.
    pub exponential: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Explicit {
    pub buckets: Option<Vec<Duration>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum Unit {
    #[default]
    #[serde(rename = "ms")]
    Milliseconds,
    #[serde(rename = "s")]
    Seconds,
}

impl Unit {
    /// The metric's unit (UCUM), as the Go connector writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
        }
    }

    /// Nanoseconds in one unit.
    pub fn nanos(self) -> f64 {
        match self {
            Unit::Milliseconds => 1e6,
            Unit::Seconds => 1e9,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub name: String,
    #[serde(default)]
    pub default: Option<String>,
}

/// `enabled: bool` blocks (`exemplars`, `events`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Switch {
    pub enabled: bool,
    /// `events.dimensions`; refused with `enabled`.
    pub dimensions: Vec<serde_json::Value>,
}

/// Cumulative (counts since the instance started) or delta (since the last flush).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    Cumulative,
    Delta,
}

/// The checked settings the aggregator runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub calls_name: String,
    pub duration_name: String,
    pub unit: Unit,
    /// Bucket upper bounds in `unit`; `None` when the histogram is disabled.
    pub bounds: Option<Vec<f64>>,
    /// The default dimensions kept, in order.
    pub defaults: Vec<&'static str>,
    pub dimensions: Vec<Dimension>,
    pub temporality: Temporality,
    pub flush_interval_ms: u64,
    pub expiration_nanos: u64,
    pub resource_key_attributes: Vec<String>,
    pub resource_cache_size: usize,
}

impl Config {
    /// Parses the YAML block (as JSON); errors name the key.
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let value: serde_json::Value = serde_json::from_str(config_json)
            .map_err(|e| format!("config is not valid JSON: {e}"))?;
        if value.is_null() {
            return Ok(Config::default());
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            if path == "." {
                inner
            } else {
                format!("{path}: {inner}")
            }
        })
    }

    /// Checks the values and resolves the defaults.
    pub fn settings(&self) -> Result<Settings, String> {
        if self.histogram.exponential.is_some() {
            return Err(
                "histogram.exponential: exponential histograms are not supported; use `explicit`"
                    .into(),
            );
        }
        if self.exemplars.enabled {
            return Err("exemplars.enabled: exemplars are not supported".into());
        }
        if self.events.enabled {
            return Err("events.enabled: the events metric is not supported".into());
        }
        if self.dimensions_cache_size == 0 {
            return Err("dimensions_cache_size: must be a positive number".into());
        }
        if self.resource_metrics_cache_size == 0 {
            return Err("resource_metrics_cache_size: must be a positive number".into());
        }
        if self.metrics_flush_interval.millis() == 0 {
            return Err("metrics_flush_interval: must be at least 1ms".into());
        }
        let temporality = match self.aggregation_temporality.as_str() {
            CUMULATIVE => Temporality::Cumulative,
            DELTA => Temporality::Delta,
            other => {
                return Err(format!(
                    "aggregation_temporality: `{other}`: expected {CUMULATIVE} or {DELTA}"
                ));
            }
        };
        for (i, name) in self.exclude_dimensions.iter().enumerate() {
            if !DEFAULT_DIMENSIONS.contains(&name.as_str()) {
                return Err(format!(
                    "exclude_dimensions[{i}]: `{name}` is not a default dimension; expected one of {}",
                    DEFAULT_DIMENSIONS.join(", ")
                ));
            }
        }
        let defaults: Vec<&'static str> = DEFAULT_DIMENSIONS
            .into_iter()
            .filter(|d| !self.exclude_dimensions.iter().any(|e| e == d))
            .collect();
        for (i, d) in self.dimensions.iter().enumerate() {
            if d.name.is_empty() {
                return Err(format!("dimensions[{i}].name: must not be empty"));
            }
            if defaults.contains(&d.name.as_str())
                || self.dimensions[..i].iter().any(|o| o.name == d.name)
            {
                return Err(format!(
                    "dimensions[{i}].name: duplicate dimension `{}`",
                    d.name
                ));
            }
        }
        let unit = self.histogram.unit;
        let bounds = if self.histogram.disable {
            None
        } else {
            let bounds: Vec<f64> = match self
                .histogram
                .explicit
                .as_ref()
                .and_then(|e| e.buckets.as_ref())
            {
                Some(buckets) => buckets
                    .iter()
                    .map(|b| b.nanos() as f64 / unit.nanos())
                    .collect(),
                None => DEFAULT_BUCKETS_MS
                    .iter()
                    .map(|ms| ms * 1e6 / unit.nanos())
                    .collect(),
            };
            if let Some(i) = bounds.windows(2).position(|w| w[0] >= w[1]) {
                return Err(format!(
                    "histogram.explicit.buckets[{}]: buckets must be in increasing order",
                    i + 1
                ));
            }
            Some(bounds)
        };
        let name = |n: &str| {
            if self.namespace.is_empty() {
                n.to_string()
            } else {
                format!("{}.{n}", self.namespace)
            }
        };
        Ok(Settings {
            calls_name: name("calls"),
            duration_name: name("duration"),
            unit,
            bounds,
            defaults,
            dimensions: self.dimensions.clone(),
            temporality,
            flush_interval_ms: self.metrics_flush_interval.millis(),
            expiration_nanos: self.metrics_expiration.nanos(),
            resource_key_attributes: self.resource_metrics_key_attributes.clone(),
            resource_cache_size: self.resource_metrics_cache_size,
        })
    }
}
