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
//! Config: `{}`; any other key is an `invalid-config`, except the stateful
//! mode for the host's tests of stateful plugins:
//!
//! - `{stateful: true}`: says `stateful` at `init`, holds every batch it is
//!   given (adding 1 to `held` per batch) and returns them on the next
//!   `tick` (adding 1 to `ticks` per call) and on `flush` (`flushed`);
//! - `{stateful: true, release_on_tick: false}`: holds until `flush`.
//!
//! A marker in a held batch fires when the batch arrives, so a trap loses
//! everything held (the host counts the lost state).

mod behaviour;

use std::sync::Mutex;

use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signals, host,
};

pub use behaviour::{Chaos, ChaosConfig, parse_config};

/// The config `init` accepted and, when stateful, the batches held.
static STATE: Mutex<(ChaosConfig, Vec<Batch>)> = Mutex::new((
    ChaosConfig {
        stateful: false,
        release_on_tick: false,
    },
    Vec::new(),
));

struct ChaosProcessor;

impl Guest for ChaosProcessor {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = parse_config(&config_json).map_err(PluginError::InvalidConfig)?;
        STATE.lock().unwrap_or_else(|e| e.into_inner()).0 = config;
        Ok(ProcessorInfo {
            signals: Signals::all(),
            stateful: config.stateful,
        })
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        if let Some(chaos) = Chaos::find(&batch.payload) {
            chaos.unleash();
        }
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if state.0.stateful {
            host::counter_add("held", 1);
            state.1.push(batch);
            return Ok(Vec::new());
        }
        host::counter_add("passed", 1);
        Ok(vec![batch])
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        host::counter_add("ticks", 1);
        if state.0.release_on_tick {
            return Ok(std::mem::take(&mut state.1));
        }
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        let held = std::mem::take(&mut state.1);
        host::counter_add("flushed", held.len() as u64);
        Ok(held)
    }
}

weir_plugin_sdk::export_processor!(ChaosProcessor);
