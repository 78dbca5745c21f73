//! The `tail_sampling` processor: the OpenTelemetry Collector's tail
//! sampler. Spans are held per trace until `decision_wait` after the
//! trace's first span, then the whole trace is kept or dropped by the
//! policies (`always_sample`, `latency`, `status_code`, `probabilistic`,
//! `string_attribute`, `numeric_attribute`, `boolean_attribute`,
//! `span_count`, `rate_limiting`, `trace_state`, `and`, `composite`,
//! `drop`). See [`config`].
//!
//! It is stateful: the host keeps one instance per pipeline and tenant,
//! calls `tick` on a timer to release decided traces and `flush` before the
//! instance goes (shutdown, reload), which decides every held trace at once.

pub mod config;
pub mod policy;
pub mod sampler;
#[cfg(test)]
mod tests;
pub mod trace;

use std::sync::Mutex;

use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signal, Signals,
};

pub use config::Config;
pub use sampler::{Stats, TailSampler};

/// The sampler `init` built.
static SAMPLER: Mutex<Option<TailSampler>> = Mutex::new(None);

impl Config {
    /// Parses the YAML block (as JSON); errors name the key.
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let value: serde_json::Value = serde_json::from_str(config_json)
            .map_err(|e| format!("config is not valid JSON: {e}"))?;
        if value.is_null() {
            return Ok(Config::default());
        }
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
}

fn with_sampler<R>(
    f: impl FnOnce(&mut TailSampler) -> Result<R, String>,
) -> Result<R, PluginError> {
    let mut guard = SAMPLER.lock().unwrap_or_else(|e| e.into_inner());
    let sampler = guard
        .as_mut()
        .ok_or_else(|| PluginError::Rejected("called before init".to_owned()))?;
    let out = f(sampler).map_err(PluginError::Rejected);
    report(sampler.take_stats(), sampler.held_traces());
    out
}

fn batches(payloads: Vec<Vec<u8>>) -> Vec<Batch> {
    payloads
        .into_iter()
        .map(|payload| Batch {
            signal: Signal::Traces,
            payload,
        })
        .collect()
}

struct TailSampling;

impl Guest for TailSampling {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        let sampler = TailSampler::new(&config).map_err(PluginError::InvalidConfig)?;
        *SAMPLER.lock().unwrap_or_else(|e| e.into_inner()) = Some(sampler);
        Ok(ProcessorInfo {
            signals: Signals::TRACES,
            stateful: true,
        })
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let now = now();
        with_sampler(|s| s.process(&batch.payload, now)).map(batches)
    }

    fn tick(now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        with_sampler(|s| Ok(s.tick(now_unix_nanos))).map(batches)
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        let now = now();
        with_sampler(|s| Ok(s.flush(now))).map(batches)
    }
}

#[cfg(target_arch = "wasm32")]
fn now() -> u64 {
    weir_plugin_sdk::processor::host::now_unix_nanos()
}

#[cfg(target_arch = "wasm32")]
fn report(stats: Stats, _held: usize) {
    use weir_plugin_sdk::processor::host::counter_add;
    let counts = [
        ("traces_sampled", stats.traces_sampled),
        ("traces_not_sampled", stats.traces_not_sampled),
        ("traces_decided_early", stats.traces_decided_early),
        ("traces_flushed", stats.traces_flushed),
        ("spans_sampled", stats.spans_sampled),
        ("spans_not_sampled", stats.spans_not_sampled),
        ("late_spans_sampled", stats.late_spans_sampled),
        ("late_spans_not_sampled", stats.late_spans_not_sampled),
    ];
    for (name, value) in counts {
        if value > 0 {
            counter_add(name, value);
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(not(target_arch = "wasm32"))]
fn report(_stats: Stats, _held: usize) {}

weir_plugin_sdk::export_processor!(TailSampling);
