//! `{{name}}`: a Weir processor. It sets one attribute on every span, from
//! its config:
//!
//! ```yaml
//! processors:
//!   {{crate_name}}:
//!     key: processed_by      # default
//!     value: {{name}}        # default
//! ```
//!
//! Change `process_traces` (and `init`'s signals) to do your own job; keep
//! the logic in plain functions so the tests below run natively.

use serde::Deserialize;
use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signal, Signals, host,
};
use weir_plugin_sdk::{attributes, otlp};

/// The processor's YAML block, as JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub key: String,
    pub value: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            key: "processed_by".into(),
            value: "{{name}}".into(),
        }
    }
}

pub fn parse_config(json: &str) -> Result<Config, String> {
    if json.trim().is_empty() || json.trim() == "null" {
        return Ok(Config::default());
    }
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// Sets the configured attribute on every span of an
/// `ExportTraceServiceRequest`; returns the new request bytes and how many
/// spans it touched.
pub fn process_traces(config: &Config, payload: &[u8]) -> Result<(Vec<u8>, u64), String> {
    let mut request = otlp::decode_traces(payload).map_err(|e| e.0)?;
    let mut spans = 0;
    for span in request
        .resource_spans
        .iter_mut()
        .flat_map(|rs| &mut rs.scope_spans)
        .flat_map(|ss| &mut ss.spans)
    {
        attributes::upsert(
            &mut span.attributes,
            &config.key,
            otlp::string_value(&config.value),
        );
        spans += 1;
    }
    Ok((otlp::encode(&request), spans))
}

/// One config per instance: the host calls `init` once before any batch.
static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();

struct Plugin;

impl Guest for Plugin {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = parse_config(&config_json).map_err(PluginError::InvalidConfig)?;
        let _ = CONFIG.set(config);
        Ok(ProcessorInfo {
            signals: Signals::TRACES,
            stateful: false,
        })
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let config = CONFIG.get().cloned().unwrap_or_default();
        let (payload, spans) =
            process_traces(&config, &batch.payload).map_err(PluginError::Rejected)?;
        // Shows in the collector's /metrics as
        // weir_plugin_counter_total{component, name="spans_processed"}.
        host::counter_add("spans_processed", spans);
        Ok(vec![Batch {
            signal: Signal::Traces,
            payload,
        }])
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

weir_plugin_sdk::export_processor!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;
    use otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn request(names: &[&str]) -> Vec<u8> {
        let spans = names
            .iter()
            .map(|name| Span {
                name: name.to_string(),
                ..Default::default()
            })
            .collect();
        otlp::encode(&otlp::ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    }

    #[test]
    fn every_span_gets_the_attribute() {
        let config = parse_config(r#"{"key": "team", "value": "checkout"}"#).unwrap();
        let (out, touched) = process_traces(&config, &request(&["a", "b"])).unwrap();
        assert_eq!(touched, 2);
        let out = otlp::decode_traces(&out).unwrap();
        for span in &out.resource_spans[0].scope_spans[0].spans {
            let value = attributes::get(&span.attributes, "team");
            assert_eq!(attributes::as_text(value), "checkout");
        }
    }

    #[test]
    fn defaults_and_unknown_keys() {
        assert_eq!(parse_config("{}").unwrap().key, "processed_by");
        assert!(parse_config(r#"{"colour": "red"}"#).is_err());
    }
}
