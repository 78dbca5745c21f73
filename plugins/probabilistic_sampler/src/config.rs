//! The processor's configuration: the Go collector's
//! `probabilistic_sampler` keys.

use serde::Deserialize;

use crate::threshold::MIN_SAMPLING_PROBABILITY;

/// How the keep/drop decision is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The original FNV hash of seed + trace id (14 bits of precision).
    HashSeed,
    /// Consistent sampling: multiply the arriving probability (`th`) by the
    /// configured one.
    Proportional,
    /// Consistent sampling: bring every item to the configured probability
    /// (items that arrive sampled more rarely pass as they are).
    Equalizing,
}

/// Where a log record's randomness comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum AttributeSource {
    /// The log record's trace id (default).
    #[default]
    #[serde(rename = "traceID")]
    TraceId,
    /// The record attribute named by `from_attribute`.
    #[serde(rename = "record")]
    Record,
}

/// `processors: probabilistic_sampler`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Percentage of traces (or log records) kept, 0-100 (more is 100).
    pub sampling_percentage: f32,
    /// Seed of the hash in `hash_seed` mode. Setting it selects that mode
    /// unless `mode` says otherwise.
    pub hash_seed: u32,
    /// `hash_seed`, `proportional` (default) or `equalizing`.
    pub mode: Option<Mode>,
    /// Drop items whose randomness is missing or inconsistent (default true).
    pub fail_closed: bool,
    /// Hex digits of the threshold written to `tracestate` (1-14, default 4).
    pub sampling_precision: u32,
    /// Logs: `traceID` (default) or `record`.
    pub attribute_source: AttributeSource,
    /// Logs: the record attribute hashed when `attribute_source: record`.
    pub from_attribute: String,
    /// Logs: a record attribute that forces the decision (0 drops, >0 keeps).
    pub sampling_priority: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sampling_percentage: 0.0,
            hash_seed: 0,
            mode: None,
            fail_closed: true,
            sampling_precision: 4,
            attribute_source: AttributeSource::TraceId,
            from_attribute: String::new(),
            sampling_priority: String::new(),
        }
    }
}

impl Config {
    /// Parses and checks the YAML block (as JSON); errors name the key.
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let value: serde_json::Value = serde_json::from_str(config_json)
            .map_err(|e| format!("config is not valid JSON: {e}"))?;
        let config: Config = if value.is_null() {
            Config::default()
        } else {
            serde_json::from_value(value).map_err(|e| e.to_string())?
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let pct = self.sampling_percentage;
        if !pct.is_finite() {
            return Err(format!("sampling_percentage: expected a number, got {pct}"));
        }
        if pct < 0.0 {
            return Err(format!("sampling_percentage: {pct} is negative"));
        }
        if self.mode() != Mode::HashSeed
            && pct != 0.0
            && f64::from(pct) / 100.0 < MIN_SAMPLING_PROBABILITY
        {
            return Err(format!(
                "sampling_percentage: {pct} is too small (at least {} in this mode)",
                MIN_SAMPLING_PROBABILITY * 100.0
            ));
        }
        if !(1..=14).contains(&self.sampling_precision) {
            return Err(format!(
                "sampling_precision: expected 1 to 14, got {}",
                self.sampling_precision
            ));
        }
        if self.attribute_source == AttributeSource::Record && self.from_attribute.is_empty() {
            return Err("from_attribute: required when attribute_source is `record`".into());
        }
        Ok(())
    }

    /// The mode in force: `mode`, or `hash_seed` when a seed is set (or logs
    /// are sampled by attribute), else `proportional` (the Go rule).
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(
            if self.hash_seed != 0 || self.attribute_source == AttributeSource::Record {
                Mode::HashSeed
            } else {
                Mode::Proportional
            },
        )
    }
}
