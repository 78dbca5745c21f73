//! The `otlp` exporter: OTLP over gRPC, to Tempo, Jaeger or another
//! collector. Each batch is one unary `Export` call; the host frames it,
//! sends it over HTTP/2 to `endpoint` (TLS unless `tls.insecure: true` or an
//! `http://` endpoint) and reads `grpc-status` from the trailers. The bytes
//! go out as they came in: this plugin never decodes them.
//!
//! Config: the host's keys (endpoint, tls, headers, auth, compression,
//! timeout, retry_on_failure, sending_queue) and `headers_setter`: gRPC
//! metadata from the batch's tenant or request metadata (see
//! `weir_plugin_sdk::headers`).

use std::sync::Mutex;

use serde::Deserialize;
use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signal, Signals,
};
use weir_plugin_sdk::headers::{self, HeaderSetter};

/// The plugin's own keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Metadata set per batch from its context (e.g. the tenant).
    #[serde(default)]
    pub headers_setter: Vec<HeaderSetter>,
}

static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

/// The gRPC method of a signal's export service.
pub fn method(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    }
}

/// The unary call for one batch.
pub fn encode(signal: Signal, payload: Vec<u8>) -> Outgoing {
    Outgoing {
        path: method(signal).to_owned(),
        headers: vec![("content-type".to_owned(), "application/grpc".to_owned())],
        body: payload,
    }
}

/// Reads the plugin's own keys.
pub fn parse(config_json: &str) -> Result<Config, String> {
    let config: Config = weir_plugin_sdk::config::parse_exporter(config_json)
        .map_err(|e| format!("{e}; the otlp exporter takes only endpoint, tls, headers, headers_setter, auth, compression, timeout, retry_on_failure and sending_queue"))?;
    headers::check(&config.headers_setter)?;
    Ok(config)
}

struct OtlpExporter;

impl Guest for OtlpExporter {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        let config = parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *CONFIG.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        Ok(ExporterInfo {
            signals: Signals::all(),
            destination: Destination::Network,
        })
    }

    fn encode(ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        let setters = CONFIG
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| headers::resolve(&c.headers_setter, &ctx))
            .unwrap_or_default();
        let mut out = encode(batch.signal, batch.payload);
        out.headers.extend(setters);
        Ok(vec![out])
    }
}

weir_plugin_sdk::export_exporter!(OtlpExporter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_unary_call_per_batch() {
        let out = encode(Signal::Metrics, vec![1, 2, 3]);
        assert_eq!(
            out.path,
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
        );
        assert_eq!(out.body, vec![1, 2, 3]);
        assert_eq!(
            out.headers,
            vec![("content-type".into(), "application/grpc".into())]
        );
    }

    #[test]
    fn takes_only_host_keys() {
        parse(r#"{"endpoint": "tempo:4317", "tls": {"insecure": true}}"#).unwrap();
        let err = parse(r#"{"endpoint": "x", "balancer_name": "round_robin"}"#).unwrap_err();
        assert!(err.contains("unknown field `balancer_name`"), "{err}");
        let c = parse(r#"{"endpoint": "x", "headers_setter": [{"key": "X-Scope-OrgID", "from_context": "tenant"}]}"#)
            .unwrap();
        assert_eq!(c.headers_setter.len(), 1);
        let err = parse(r#"{"headers_setter": [{"key": "a b", "value": "c"}]}"#).unwrap_err();
        assert!(err.starts_with("headers_setter[0].key:"), "{err}");
    }
}
