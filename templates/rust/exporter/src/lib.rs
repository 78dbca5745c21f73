//! `{{name}}`: a Weir exporter. It encodes each span as one line of text,
//! `<trace id> <span name>`, and the host appends the lines to the file the
//! exporter's `path` names:
//!
//! ```yaml
//! exporters:
//!   {{crate_name}}:
//!     path: spans.txt        # read by the host, not by the plugin
//!     prefix: ""             # put before every line (default none)
//! ```
//!
//! An exporter only encodes: the host does the I/O where the operator's
//! config says (`Destination::File`, `Stdout`, or `Network` with the
//! config's endpoint, TLS and retries). Keep the logic in plain functions so
//! the tests below run natively.

use serde::Deserialize;
use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signal, Signals,
};
use weir_plugin_sdk::otlp;

/// The exporter's YAML block, as JSON. `path` belongs to the host.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub path: Option<String>,
    pub prefix: String,
}

pub fn parse_config(json: &str) -> Result<Config, String> {
    if json.trim().is_empty() || json.trim() == "null" {
        return Ok(Config::default());
    }
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// One line per span of an `ExportTraceServiceRequest`.
pub fn encode_traces(config: &Config, payload: &[u8]) -> Result<String, String> {
    let request = otlp::decode_traces(payload).map_err(|e| e.0)?;
    let mut out = String::new();
    for span in request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
    {
        let trace_id: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("{}{trace_id} {}\n", config.prefix, span.name));
    }
    Ok(out)
}

static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();

struct Plugin;

impl Guest for Plugin {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        let config = parse_config(&config_json).map_err(PluginError::InvalidConfig)?;
        let _ = CONFIG.set(config);
        Ok(ExporterInfo {
            signals: Signals::TRACES,
            destination: Destination::File,
        })
    }

    fn encode(_ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        if batch.signal != Signal::Traces {
            return Ok(Vec::new());
        }
        let config = CONFIG.get().cloned().unwrap_or_default();
        let body = encode_traces(&config, &batch.payload).map_err(PluginError::Rejected)?;
        Ok(vec![Outgoing {
            path: String::new(),
            headers: Vec::new(),
            body: body.into_bytes(),
        }])
    }
}

weir_plugin_sdk::export_exporter!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;
    use otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};

    #[test]
    fn one_line_per_span() {
        let request = otlp::ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "checkout".into(),
                        trace_id: vec![0xab; 16],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let config = parse_config(r#"{"path": "x.txt", "prefix": "> "}"#).unwrap();
        let text = encode_traces(&config, &otlp::encode(&request)).unwrap();
        assert_eq!(text, format!("> {} checkout\n", "ab".repeat(16)));
    }
}
