//! The `spanmetrics` connector: the OpenTelemetry Collector's span metrics
//! connector as a Weir connector plugin. It is the exporter of a traces
//! pipeline and the receiver of metrics pipelines: every span adds one call
//! and one duration observation to its series (resource × `service.name`,
//! `span.name`, `span.kind`, `status.code` and the configured dimensions),
//! and every `metrics_flush_interval` the series go out as
//! `traces.span.metrics.calls` (a monotonic sum) and
//! `traces.span.metrics.duration` (an explicit-bucket histogram, `ms`), which
//! a Prometheus exporter names `traces_span_metrics_calls_total` and
//! `traces_span_metrics_duration_milliseconds_bucket`. See [`config`].
//!
//! The host keeps one instance per connector and tenant (its counts are its
//! state), ticks it on the flush interval and flushes it on shutdown and
//! reload, so the last counts reach the metrics pipelines.

pub mod aggregate;
pub mod config;
#[cfg(test)]
mod tests;

use std::sync::Mutex;

use weir_plugin_sdk::connector::{
    Batch, ConnectorInfo, Context, Emitted, Guest, PluginError, Signal, Signals, host,
};
use weir_plugin_sdk::otlp;

pub use aggregate::SpanMetrics;
pub use config::Config;

/// The aggregator `init` built.
static STATE: Mutex<Option<SpanMetrics>> = Mutex::new(None);

fn with_state<R>(f: impl FnOnce(&mut SpanMetrics) -> R) -> Result<R, PluginError> {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let state = guard
        .as_mut()
        .ok_or_else(|| PluginError::Rejected("called before init".to_owned()))?;
    Ok(f(state))
}

/// The metrics due at `now`, as batches for every receiving metrics pipeline.
fn emit(state: &mut SpanMetrics, now: u64) -> Vec<Emitted> {
    state
        .build(now)
        .map(|request| Emitted {
            batch: Batch {
                signal: Signal::Metrics,
                payload: otlp::encode(&request),
            },
            pipeline: None,
        })
        .into_iter()
        .collect()
}

struct SpanMetricsConnector;

impl Guest for SpanMetricsConnector {
    fn init(config_json: String) -> Result<ConnectorInfo, PluginError> {
        let settings = Config::parse(&config_json)
            .and_then(|c| c.settings())
            .map_err(PluginError::InvalidConfig)?;
        let state = SpanMetrics::new(settings, host::now_unix_nanos());
        let tick_interval_ms = state.flush_interval_ms();
        *STATE.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
        Ok(ConnectorInfo {
            consumes: Signals::TRACES,
            emits: Signals::METRICS,
            tick_interval_ms,
        })
    }

    fn consume(_ctx: Context, batch: Batch) -> Result<Vec<Emitted>, PluginError> {
        if batch.signal != Signal::Traces {
            return Ok(Vec::new());
        }
        let request = otlp::decode_traces(&batch.payload)
            .map_err(|e| PluginError::Rejected(e.to_string()))?;
        let now = host::now_unix_nanos();
        let skipped = with_state(|state| {
            let before = state.skipped_spans;
            state.add(&request, now);
            state.skipped_spans - before
        })?;
        if skipped > 0 {
            host::counter_add("spans_without_service_name", skipped);
        }
        Ok(Vec::new())
    }

    fn tick(now_unix_nanos: u64) -> Result<Vec<Emitted>, PluginError> {
        with_state(|state| emit(state, now_unix_nanos))
    }

    fn flush() -> Result<Vec<Emitted>, PluginError> {
        let now = host::now_unix_nanos();
        with_state(|state| emit(state, now))
    }
}

weir_plugin_sdk::export_connector!(SpanMetricsConnector);
