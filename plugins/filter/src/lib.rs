//! The `filter` processor: the OpenTelemetry Collector's filter processor
//! in its OTTL form. An item matching any condition of its context is
//! dropped; a metric left without data points, and a scope or resource
//! left empty, go too. Conditions are checked at `init`.

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

struct FilterProcessor;

impl Guest for FilterProcessor {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        let mut signals = Signals::empty();
        for (rules, signal) in [
            (&config.traces, Signals::TRACES),
            (&config.metrics, Signals::METRICS),
            (&config.logs, Signals::LOGS),
        ] {
            if !rules.is_empty() {
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
        report(&outcome);
        Ok(outcome
            .payload
            .map(|payload| Batch {
                signal: batch.signal,
                payload,
            })
            .into_iter()
            .collect())
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

/// Counts what was dropped; logs once per batch what `ignore` passed over.
#[cfg(target_arch = "wasm32")]
fn report(outcome: &run::Outcome) {
    use weir_plugin_sdk::processor::host;
    if outcome.dropped > 0 {
        host::counter_add("dropped_items", outcome.dropped);
    }
    if let Some(first) = outcome.ignored.first() {
        host::log(
            host::Level::Warn,
            &format!(
                "{} condition error(s) ignored in this batch; first: {first}",
                outcome.ignored.len()
            ),
        );
        host::counter_add("condition_errors", outcome.ignored.len() as u64);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn report(_outcome: &run::Outcome) {}

weir_plugin_sdk::export_processor!(FilterProcessor);
