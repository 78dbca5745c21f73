//! The `otlp` exporter: OTLP over gRPC, to Tempo, Jaeger or another
//! collector. Each batch is one unary `Export` call; the host frames it,
//! sends it over HTTP/2 to `endpoint` (TLS unless `tls.insecure: true` or an
//! `http://` endpoint) and reads `grpc-status` from the trailers. The bytes
//! go out as they came in: this plugin never decodes them.
//!
//! Config: only the host's keys (endpoint, tls, headers, auth, compression,
//! timeout, retry_on_failure, sending_queue).

use serde::Deserialize;
use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signal, Signals,
};

/// The plugin has no keys of its own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {}

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

/// Checks the plugin's own keys (there are none).
pub fn parse(config_json: &str) -> Result<(), String> {
    weir_plugin_sdk::config::parse_exporter::<Config>(config_json)
        .map(drop)
        .map_err(|e| format!("{e}; the otlp exporter takes only endpoint, tls, headers, auth, compression, timeout, retry_on_failure and sending_queue"))
}

struct OtlpExporter;

impl Guest for OtlpExporter {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        parse(&config_json).map_err(PluginError::InvalidConfig)?;
        Ok(ExporterInfo {
            signals: Signals::all(),
            destination: Destination::Network,
        })
    }

    fn encode(_ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        Ok(vec![encode(batch.signal, batch.payload)])
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
    }
}
