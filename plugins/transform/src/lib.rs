//! The `transform` processor: the OpenTelemetry Collector's transform
//! processor, speaking OTTL (see the `weir-ottl` crate). Statements are
//! checked at `init`; `process` decodes the batch, runs each group on
//! every item of its context and re-encodes it.

pub mod config;
pub mod run;
#[cfg(test)]
mod tests;

use weir_ottl::processor::Kept;
use weir_plugin_sdk::processor::{Batch, Context, Guest, PluginError, ProcessorInfo};

pub use config::Config;
pub use run::process_payload;

static CONFIG: Kept<Config> = Kept::new();

struct TransformProcessor;

impl Guest for TransformProcessor {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        Ok(CONFIG.init(config))
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        CONFIG.process(batch, |config, batch| {
            let outcome = process_payload(config, batch.signal, &batch.payload)
                .map_err(PluginError::Rejected)?;
            if let Some(first) = outcome.ignored.first() {
                report_ignored(first, outcome.ignored.len());
            }
            Ok(vec![Batch {
                signal: batch.signal,
                payload: outcome.payload,
            }])
        })
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
