//! The `filter` processor: the OpenTelemetry Collector's filter processor
//! in its OTTL form. An item matching any condition of its context is
//! dropped; a metric left without data points, and a scope or resource
//! left empty, go too. Conditions are checked at `init`.

pub mod config;
pub mod run;
#[cfg(test)]
mod tests;

use weir_ottl::processor::Kept;
use weir_plugin_sdk::processor::{Batch, Context, Guest, PluginError, ProcessorInfo};

pub use config::Config;
pub use run::process_payload;

static CONFIG: Kept<Config> = Kept::new();

struct FilterProcessor;

impl Guest for FilterProcessor {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        Ok(CONFIG.init(config))
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        CONFIG.process(batch, |config, batch| {
            let outcome = process_payload(config, batch.signal, &batch.payload)
                .map_err(PluginError::Rejected)?;
            report(&outcome);
            Ok(outcome
                .payload
                .map(|payload| Batch {
                    signal: batch.signal,
                    payload,
                })
                .into_iter()
                .collect())
        })
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
