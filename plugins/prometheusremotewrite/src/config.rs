//! The `prometheusremotewrite` exporter's own keys, in the Go exporter's
//! shape (the host reads `endpoint`, `tls`, `auth`, `headers`, `timeout`,
//! `retry_on_failure`, `sending_queue`):
//!
//! ```yaml
//! namespace: app                         # prefix of every metric name
//! external_labels: {cluster: eu-1}       # on every series (never overriding)
//! resource_to_telemetry_conversion: {enabled: false}   # resource attributes as labels
//! target_info: {enabled: true}           # one target_info series per resource
//! add_metric_suffixes: true              # unit and _total suffixes
//! send_metadata: false                   # MetricMetadata (type, help, unit)
//! max_batch_size_bytes: 3000000          # split larger requests
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// `{enabled: bool}` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enabled {
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

fn on() -> Enabled {
    Enabled { enabled: true }
}

fn off() -> Enabled {
    Enabled { enabled: false }
}

fn three_mb() -> usize {
    3_000_000
}

/// The accepted configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    #[serde(default = "off")]
    pub resource_to_telemetry_conversion: Enabled,
    #[serde(default = "on")]
    pub target_info: Enabled,
    #[serde(default = "yes")]
    pub add_metric_suffixes: bool,
    #[serde(default)]
    pub send_metadata: bool,
    #[serde(default = "three_mb")]
    pub max_batch_size_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every key has a default")
    }
}

impl Config {
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let config: Config = weir_plugin_sdk::config::parse_exporter(config_json)?;
        weir_plugin_sdk::prometheus::check_label_names(
            "external_labels",
            config.external_labels.keys(),
        )?;
        if config.max_batch_size_bytes < 1024 {
            return Err("max_batch_size_bytes: expected at least 1024".into());
        }
        Ok(config)
    }

    /// How the shared conversion names and labels the series.
    pub fn options(&self) -> weir_plugin_sdk::prometheus::Options {
        weir_plugin_sdk::prometheus::Options {
            namespace: self.namespace.clone(),
            const_labels: self.external_labels.clone(),
            resource_to_telemetry: self.resource_to_telemetry_conversion.enabled,
            target_info: self.target_info.enabled,
            add_metric_suffixes: self.add_metric_suffixes,
            metadata: self.send_metadata,
        }
    }
}
