//! The `otlphttp` exporter: OTLP over HTTP, the way to Tempo, Jaeger,
//! Loki's and Mimir's native OTLP endpoints or another collector. The host
//! sends each request to `endpoint` + `/v1/traces` (`/v1/metrics`,
//! `/v1/logs`) with the exporter's TLS, auth, compression and retries.
//!
//! Config (besides the host's keys): `encoding: proto | json` (default
//! `proto`), and `headers_setter` (headers from the batch's tenant or
//! metadata, see `weir_plugin_sdk::headers`). Protobuf batches go out as
//! they are, never decoded.

use std::sync::Mutex;

use serde::Deserialize;
use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signal, Signals,
};
use weir_plugin_sdk::headers::{self, HeaderSetter};
use weir_plugin_sdk::otlp_json;

/// How requests are encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    #[default]
    Proto,
    Json,
}

/// The plugin's own keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub encoding: Encoding,
    /// Headers set per batch from its context (e.g. the tenant).
    #[serde(default)]
    pub headers_setter: Vec<HeaderSetter>,
}

impl Config {
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let config: Config = weir_plugin_sdk::config::parse_exporter(config_json)?;
        headers::check(&config.headers_setter)?;
        Ok(config)
    }
}

static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

/// The request for one batch.
pub fn encode(config: &Config, signal: Signal, payload: Vec<u8>) -> Result<Outgoing, String> {
    let path = match signal {
        Signal::Traces => "/v1/traces",
        Signal::Metrics => "/v1/metrics",
        Signal::Logs => "/v1/logs",
    };
    let (content_type, body) = match config.encoding {
        // The host validated the bytes at the receiver: send them as they are.
        Encoding::Proto => ("application/x-protobuf", payload),
        Encoding::Json => (
            "application/json",
            otlp_json::to_json(signal, &payload)?.into_bytes(),
        ),
    };
    Ok(Outgoing {
        path: path.to_owned(),
        headers: vec![("content-type".to_owned(), content_type.to_owned())],
        body,
    })
}

struct OtlpHttpExporter;

impl Guest for OtlpHttpExporter {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *CONFIG.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        Ok(ExporterInfo {
            signals: Signals::all(),
            destination: Destination::Network,
        })
    }

    fn encode(ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        let config = CONFIG
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| PluginError::Rejected("encode called before init".to_owned()))?;
        let mut out =
            encode(&config, batch.signal, batch.payload).map_err(PluginError::Rejected)?;
        out.headers
            .extend(headers::resolve(&config.headers_setter, &ctx));
        Ok(vec![out])
    }
}

weir_plugin_sdk::export_exporter!(OtlpHttpExporter);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin_sdk::otlp::{self, Message};

    fn request() -> Vec<u8> {
        let span = otlp::trace::v1::Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: "checkout".into(),
            ..Default::default()
        };
        otlp::ExportTraceServiceRequest {
            resource_spans: vec![otlp::trace::v1::ResourceSpans {
                scope_spans: vec![otlp::trace::v1::ScopeSpans {
                    spans: vec![span],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn ignores_the_host_keys_and_refuses_unknown_ones() {
        let c = Config::parse(
            r#"{"endpoint": "https://tempo:4318", "tls": {"ca_file": "ca.crt"}, "encoding": "json"}"#,
        )
        .unwrap();
        assert_eq!(c.encoding, Encoding::Json);
        assert_eq!(Config::parse("null").unwrap(), Config::default());
        let err = Config::parse(r#"{"traces_endpoint": "http://x"}"#).unwrap_err();
        assert!(err.contains("unknown field `traces_endpoint`"), "{err}");
        let c = Config::parse(
            r#"{"endpoint": "x", "headers_setter": [{"key": "X-Scope-OrgID", "from_context": "tenant"}]}"#,
        )
        .unwrap();
        assert_eq!(c.headers_setter[0].from_context.as_deref(), Some("tenant"));
        let err = Config::parse(r#"{"headers_setter": [{"key": "X-Scope-OrgID"}]}"#).unwrap_err();
        assert!(err.starts_with("headers_setter[0]:"), "{err}");
    }

    #[test]
    fn proto_goes_out_unchanged_json_is_otlp_json() {
        let payload = request();
        let out = encode(&Config::default(), Signal::Traces, payload.clone()).unwrap();
        assert_eq!(out.path, "/v1/traces");
        assert_eq!(out.body, payload);
        assert_eq!(out.headers[0].1, "application/x-protobuf");
        let json = Config {
            encoding: Encoding::Json,
            ..Config::default()
        };
        let out = encode(&json, Signal::Traces, payload).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(
            value["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"],
            "checkout"
        );
        assert_eq!(out.headers[0].1, "application/json");
        assert!(encode(&json, Signal::Logs, vec![0xff, 0xff]).is_err());
    }
}
