//! **A test plugin.** `hostile` attacks the sandbox it runs in, one way per
//! configured `mode`, for the host's hostile-plugin suite; never put it in a
//! real pipeline. Config: `{mode: ..., path: ..., var: ...}`.
//!
//! Each attempt to reach outside reports what happened through counters
//! (`escaped` when it got through, `denied` when the sandbox refused) and
//! passes the batch on:
//!
//! - `socket`: creates a TCP socket and connects to 127.0.0.1:`port`;
//! - `file`: reads the file `path` (default `/etc/hostname`);
//! - `env`: reads the environment variable `var` (default `HOME`);
//! - `clock`: reads the wall clock (escaped when it is past 2001).
//!
//! The rest are contained by the host's limits:
//!
//! - `spin`: loops forever; `alloc`: allocates and touches 1 GiB;
//! - `trap`: executes `unreachable`; `panic`: panics;
//! - `amplify`: returns 100 copies of its input.
//!
//! Built with the `http` feature it also imports `wasi:http/outgoing-handler`
//! (mode `http` sends a request), which Weir refuses at load.

mod attack;

use serde::Deserialize;
use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signals, host,
};

pub use attack::Outcome;

/// The plugin's config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub mode: String,
    pub path: Option<String>,
    pub var: Option<String>,
    pub port: Option<u16>,
}

static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();

struct Hostile;

impl Guest for Hostile {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config: Config = serde_json::from_str(&config_json)
            .map_err(|e| PluginError::InvalidConfig(e.to_string()))?;
        let _ = CONFIG.set(config);
        Ok(ProcessorInfo {
            signals: Signals::all(),
            stateful: false,
        })
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let config = CONFIG.get().cloned().unwrap_or_default();
        let outcome = match config.mode.as_str() {
            "socket" => attack::socket(config.port.unwrap_or(9)),
            "file" => attack::file(config.path.as_deref().unwrap_or("/etc/hostname")),
            "env" => attack::env(config.var.as_deref().unwrap_or("HOME")),
            "clock" => attack::clock(),
            #[cfg(feature = "http")]
            "http" => attack::http(),
            "spin" => attack::spin(),
            "alloc" => attack::alloc(),
            "trap" => attack::trap(),
            "panic" => panic!("hostile plugin panics on purpose"),
            "amplify" => return Ok(vec![batch; 100]),
            other => return Err(PluginError::Rejected(format!("unknown mode {other}"))),
        };
        match outcome {
            Outcome::Escaped(what) => {
                host::counter_add("escaped", 1);
                host::log(host::Level::Warn, &format!("escaped: {what}"));
            }
            Outcome::Denied(why) => {
                host::counter_add("denied", 1);
                host::log(host::Level::Info, &format!("denied: {why}"));
            }
        }
        Ok(vec![batch])
    }

    fn tick(_now: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

weir_plugin_sdk::export_processor!(Hostile);
