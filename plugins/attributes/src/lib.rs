//! The `attributes` processor: the OpenTelemetry Collector's attributes
//! processor (`insert`, `update`, `upsert`, `delete` with `value`,
//! `from_attribute` or `from_context`) on span, log record and metric data
//! point attributes. See [`config`] for the accepted configuration.
//!
//! `process` decodes the batch, applies the actions ([`signals`], which knows
//! nothing of the wire format) and encodes it again.

mod actions;
pub mod config;
pub mod signals;
#[cfg(test)]
mod tests;

use std::sync::Mutex;
use weir_plugin_sdk::otlp;
use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signal, Signals,
};

pub use config::Config;

/// The configuration `init` accepted; the host calls `init` once per instance.
static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

/// Decodes `payload` as `signal`'s request, applies `config`, re-encodes it.
pub fn process_payload(
    config: &Config,
    ctx: &Context,
    signal: Signal,
    payload: &[u8],
) -> Result<Vec<u8>, String> {
    let actions = &config.actions;
    Ok(match signal {
        Signal::Traces => {
            let mut request = otlp::decode_traces(payload).map_err(|e| e.0)?;
            signals::traces(actions, ctx, &mut request);
            otlp::encode(&request)
        }
        Signal::Metrics => {
            let mut request = otlp::decode_metrics(payload).map_err(|e| e.0)?;
            signals::metrics(actions, ctx, &mut request);
            otlp::encode(&request)
        }
        Signal::Logs => {
            let mut request = otlp::decode_logs(payload).map_err(|e| e.0)?;
            signals::logs(actions, ctx, &mut request);
            otlp::encode(&request)
        }
    })
}

struct AttributesProcessor;

impl Guest for AttributesProcessor {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *CONFIG.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        Ok(ProcessorInfo {
            signals: Signals::all(),
            stateful: false,
        })
    }

    fn process(ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let guard = CONFIG.lock().unwrap_or_else(|e| e.into_inner());
        let config = guard
            .as_ref()
            .ok_or_else(|| PluginError::Rejected("process called before init".to_owned()))?;
        let payload = process_payload(config, &ctx, batch.signal, &batch.payload)
            .map_err(PluginError::Rejected)?;
        Ok(vec![Batch {
            signal: batch.signal,
            payload,
        }])
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

weir_plugin_sdk::export_processor!(AttributesProcessor);
