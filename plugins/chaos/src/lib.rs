//! **A test plugin.** `chaos` exists to exercise the host's failure handling;
//! never put it in a real pipeline.
//!
//! It passes every batch through unchanged and adds 1 to the `passed`
//! counter, unless the payload bytes contain a marker:
//!
//! - `weir-chaos:trap`: panics, so the call traps;
//! - `weir-chaos:loop`: spins forever (until the host's epoch deadline);
//! - `weir-chaos:alloc`: allocates and touches memory without bound (until
//!   the host's memory cap).
//!
//! Config: `{}` (any key is an `invalid-config`).

mod behaviour;

use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signals, host,
};

pub use behaviour::{Chaos, parse_config};

struct ChaosProcessor;

impl Guest for ChaosProcessor {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        parse_config(&config_json).map_err(PluginError::InvalidConfig)?;
        Ok(ProcessorInfo {
            signals: Signals::all(),
            stateful: false,
        })
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        match Chaos::find(&batch.payload) {
            Some(chaos) => chaos.unleash(),
            None => {
                host::counter_add("passed", 1);
                Ok(vec![batch])
            }
        }
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

weir_plugin_sdk::export_processor!(ChaosProcessor);
