//! The `attributes` processor: the OpenTelemetry Collector's attributes
//! processor (`insert`, `update`, `upsert`, `delete` with `value`,
//! `from_attribute` or `from_context`) on span, log record and metric data
//! point attributes. See [`config`] for the accepted configuration.
//!
//! `process` applies the actions on the wire format ([`wire_apply`]): only
//! the items an action changes are rewritten, nothing is decoded whole.
//! [`process_payload`] does the same by decoding ([`signals`]); the tests
//! hold the two to the same results.

mod actions;
pub mod config;
pub mod signals;
#[cfg(test)]
mod tests;
pub mod wire_apply;

use std::sync::Mutex;
use weir_plugin_sdk::otlp;
use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signal, Signals,
};

pub use config::Config;

/// The actions `init` accepted; the host calls `init` once per instance.
static ACTIONS: Mutex<Option<wire_apply::WireActions>> = Mutex::new(None);

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
        *ACTIONS.lock().unwrap_or_else(|e| e.into_inner()) = Some(wire_apply::WireActions::new(&config));
        Ok(ProcessorInfo {
            signals: Signals::all(),
            stateful: false,
        })
    }

    fn process(ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let guard = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
        let actions = guard
            .as_ref()
            .ok_or_else(|| PluginError::Rejected("process called before init".to_owned()))?;
        match actions.apply(&ctx, batch.signal, &batch.payload).map_err(PluginError::Rejected)? {
            Some(payload) => Ok(vec![Batch { signal: batch.signal, payload }]),
            None => Ok(vec![batch]),
        }
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

weir_plugin_sdk::export_processor!(AttributesProcessor);
