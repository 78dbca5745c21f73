//! The `transform` processor: the OpenTelemetry Collector's transform
//! processor, speaking OTTL (see the `weir-ottl` crate). Statements are
//! checked at `init`; `process` decodes the batch, runs each group on
//! every item of its context and re-encodes it.

pub mod config;
pub mod run;
#[cfg(test)]
mod tests;

use std::sync::Mutex;
use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signal, Signals,
};

pub use config::Config;
pub use run::process_payload;

/// The config `init` accepted; the host calls `init` once per instance.
static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

struct TransformProcessor;

impl Guest for TransformProcessor {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        let mut signals = Signals::empty();
        for (groups, signal) in [
            (&config.traces, Signals::TRACES),
            (&config.metrics, Signals::METRICS),
            (&config.logs, Signals::LOGS),
        ] {
            if !groups.is_empty() {
                signals |= signal;
            }
        }
        *CONFIG.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        Ok(ProcessorInfo {
            signals,
            stateful: false,
        })
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let guard = CONFIG.lock().unwrap_or_else(|e| e.into_inner());
        let config = guard
            .as_ref()
            .ok_or_else(|| PluginError::Rejected("process called before init".to_owned()))?;
        // Nothing configured for this signal: pass it on without decoding.
        let configured = match batch.signal {
            Signal::Traces => !config.traces.is_empty(),
            Signal::Metrics => !config.metrics.is_empty(),
            Signal::Logs => !config.logs.is_empty(),
        };
        if !configured {
            return Ok(vec![batch]);
        }
        let outcome =
            process_payload(config, batch.signal, &batch.payload).map_err(PluginError::Rejected)?;
        if let Some(first) = outcome.ignored.first() {
            report_ignored(first, outcome.ignored.len());
        }
        Ok(vec![Batch {
            signal: batch.signal,
            payload: outcome.payload,
        }])
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

/// One log line per batch (not per item) and a counter, under `error_mode: ignore`.
#[cfg(target_arch = "wasm32")]
fn report_ignored(first: &str, count: usize) {
    use weir_plugin_sdk::processor::host;
    host::log(
        host::Level::Warn,
        &format!("{count} statement error(s) ignored in this batch; first: {first}"),
    );
    host::counter_add("statement_errors", count as u64);
}

#[cfg(not(target_arch = "wasm32"))]
fn report_ignored(_first: &str, _count: usize) {}

weir_plugin_sdk::export_processor!(TransformProcessor);
