//! The `file` exporter: the OpenTelemetry Collector's file exporter. The host
//! opens and appends to the file named by `path`; this plugin only encodes
//! each batch as one record:
//!
//! - `format: json` (default): one line of OTLP/JSON followed by `\n`;
//! - `format: proto`: the protobuf request prefixed by its length as a
//!   4-byte big-endian integer (as Go's `exportMessageAsBuffer` writes it).

pub mod config;
pub use weir_plugin_sdk::otlp_json;
#[cfg(test)]
mod tests;

use std::sync::Mutex;
use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signal, Signals,
};

pub use config::{Config, Format};

static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

/// Encodes one batch as the bytes to append to the file.
pub fn encode_record(format: Format, signal: Signal, payload: &[u8]) -> Result<Vec<u8>, String> {
    match format {
        Format::Json => {
            let mut line = otlp_json::to_json(signal, payload)?;
            line.push('\n');
            Ok(line.into_bytes())
        }
        Format::Proto => {
            // Check it decodes, so a corrupt batch is rejected rather than written.
            match signal {
                Signal::Traces => weir_plugin_sdk::otlp::decode_traces(payload).map(drop),
                Signal::Metrics => weir_plugin_sdk::otlp::decode_metrics(payload).map(drop),
                Signal::Logs => weir_plugin_sdk::otlp::decode_logs(payload).map(drop),
            }
            .map_err(|e| e.0)?;
            let len = u32::try_from(payload.len()).map_err(|_| {
                format!(
                    "batch of {} bytes is too large for a 4-byte length prefix",
                    payload.len()
                )
            })?;
            let mut record = Vec::with_capacity(4 + payload.len());
            record.extend_from_slice(&len.to_be_bytes());
            record.extend_from_slice(payload);
            Ok(record)
        }
    }
}

struct FileExporter;

impl Guest for FileExporter {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *CONFIG.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        Ok(ExporterInfo {
            signals: Signals::all(),
            destination: Destination::File,
        })
    }

    fn encode(_ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        let format = CONFIG
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.format)
            .ok_or_else(|| PluginError::Rejected("encode called before init".to_owned()))?;
        let body =
            encode_record(format, batch.signal, &batch.payload).map_err(PluginError::Rejected)?;
        Ok(vec![Outgoing {
            path: String::new(),
            headers: Vec::new(),
            body,
        }])
    }
}

weir_plugin_sdk::export_exporter!(FileExporter);
