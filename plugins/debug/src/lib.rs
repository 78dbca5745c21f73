//! The `debug` exporter: the OpenTelemetry Collector's debug exporter,
//! writing a text rendering of each batch to the collector's stdout.
//!
//! Config: `verbosity: basic | normal | detailed` (default `basic`);
//! `sampling_initial`, `sampling_thereafter` and `use_internal_logger` are
//! accepted and ignored. Anything else is an `invalid-config`.

pub mod config;
mod detailed;
mod format;
#[cfg(test)]
mod tests;
mod text;

use std::sync::Mutex;
use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signals,
};

pub use config::Verbosity;
pub use text::render;

static VERBOSITY: Mutex<Option<Verbosity>> = Mutex::new(None);

struct DebugExporter;

impl Guest for DebugExporter {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        let verbosity = config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *VERBOSITY.lock().unwrap_or_else(|e| e.into_inner()) = Some(verbosity);
        Ok(ExporterInfo {
            signals: Signals::all(),
            destination: Destination::Stdout,
        })
    }

    fn encode(_ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        let verbosity = VERBOSITY
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ok_or_else(|| PluginError::Rejected("encode called before init".to_owned()))?;
        let body =
            render(verbosity, batch.signal, &batch.payload).map_err(PluginError::Rejected)?;
        Ok(vec![Outgoing {
            path: String::new(),
            headers: Vec::new(),
            body: body.into_bytes(),
        }])
    }
}

weir_plugin_sdk::export_exporter!(DebugExporter);
