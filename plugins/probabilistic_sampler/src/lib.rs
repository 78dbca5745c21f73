//! The `probabilistic_sampler` processor: the OpenTelemetry Collector's
//! probabilistic sampler for traces and logs (`sampling_percentage`,
//! `hash_seed`, `mode: hash_seed | proportional | equalizing`,
//! `fail_closed`, `sampling_precision`; for logs also `attribute_source`,
//! `from_attribute`, `sampling_priority`). See [`config`].
//!
//! Each span is decided alone from its trace id, so all spans of a trace
//! get the same decision without any state. In `hash_seed` mode the
//! decision is the Go collector's, bit for bit ([`hashing`]); the other
//! modes follow OTEP 235 and record the threshold in `tracestate`
//! ([`threshold`]).

pub mod config;
pub mod hashing;
pub mod sampler;
#[cfg(test)]
mod tests;
pub mod threshold;

use std::sync::Mutex;

use weir_plugin_sdk::otlp::{self, AnyValue, KeyValue, any_value::Value};
use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signal, Signals,
};

pub use config::Config;
pub use sampler::{Priority, Sampler};

/// The samplers `init` built: one for traces, one for logs.
static SAMPLERS: Mutex<Option<Samplers>> = Mutex::new(None);

/// What `init` makes of the config.
pub struct Samplers {
    pub traces: Sampler,
    pub logs: Sampler,
    /// Logs: the attribute hashed for randomness (`from_attribute`).
    pub from_attribute: String,
    /// Logs: the attribute that forces a decision (`sampling_priority`).
    pub priority_attribute: String,
}

impl Samplers {
    pub fn new(config: &Config) -> Samplers {
        Samplers {
            traces: Sampler::new(config, false),
            logs: Sampler::new(config, true),
            from_attribute: config.from_attribute.clone(),
            priority_attribute: config.sampling_priority.clone(),
        }
    }
}

/// How many items a call kept and dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub kept: u64,
    pub dropped: u64,
}

/// Samples the spans of a trace request; `None` when nothing is left.
pub fn sample_traces(
    samplers: &Samplers,
    payload: &[u8],
    tally: &mut Tally,
) -> Result<Option<Vec<u8>>, String> {
    let mut request = otlp::decode_traces(payload).map_err(|e| e.0)?;
    for rs in &mut request.resource_spans {
        for ss in &mut rs.scope_spans {
            ss.spans.retain_mut(|span| {
                let priority = priority(&span.attributes, "sampling.priority");
                let decision =
                    samplers
                        .traces
                        .decide_span(&span.trace_id, &span.trace_state, priority);
                if decision.keep {
                    tally.kept += 1;
                    if let Some(ts) = decision.tracestate {
                        span.trace_state = ts;
                    }
                } else {
                    tally.dropped += 1;
                }
                decision.keep
            });
        }
        rs.scope_spans.retain(|ss| !ss.spans.is_empty());
    }
    request
        .resource_spans
        .retain(|rs| !rs.scope_spans.is_empty());
    Ok((!request.resource_spans.is_empty()).then(|| otlp::encode(&request)))
}

/// Samples the records of a logs request; `None` when nothing is left.
pub fn sample_logs(
    samplers: &Samplers,
    payload: &[u8],
    tally: &mut Tally,
) -> Result<Option<Vec<u8>>, String> {
    let mut request = otlp::decode_logs(payload).map_err(|e| e.0)?;
    for rl in &mut request.resource_logs {
        for sl in &mut rl.scope_logs {
            sl.log_records.retain(|record| {
                let priority = if samplers.priority_attribute.is_empty() {
                    Priority::Defer
                } else {
                    priority(&record.attributes, &samplers.priority_attribute)
                };
                let attribute = (!samplers.from_attribute.is_empty())
                    .then(|| find(&record.attributes, &samplers.from_attribute).map(value_bytes))
                    .flatten();
                let keep =
                    samplers
                        .logs
                        .decide_log(&record.trace_id, attribute.as_deref(), priority);
                if keep {
                    tally.kept += 1;
                } else {
                    tally.dropped += 1;
                }
                keep
            });
        }
        rl.scope_logs.retain(|sl| !sl.log_records.is_empty());
    }
    request.resource_logs.retain(|rl| !rl.scope_logs.is_empty());
    Ok((!request.resource_logs.is_empty()).then(|| otlp::encode(&request)))
}

fn find<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// The OpenTracing `sampling.priority` convention: 0 drops, more keeps.
fn priority(attributes: &[KeyValue], key: &str) -> Priority {
    let number = match find(attributes, key).and_then(|v| v.value.as_ref()) {
        Some(Value::IntValue(i)) => *i as f64,
        Some(Value::DoubleValue(d)) => *d,
        Some(Value::StringValue(s)) => match s.parse::<f64>() {
            Ok(d) => d,
            Err(_) => return Priority::Defer,
        },
        _ => return Priority::Defer,
    };
    if number == 0.0 {
        Priority::Drop
    } else if number > 0.0 {
        Priority::Keep
    } else {
        Priority::Defer
    }
}

/// The bytes an attribute value is hashed as: a string's or bytes' own,
/// other values' text.
fn value_bytes(value: &AnyValue) -> Vec<u8> {
    match &value.value {
        Some(Value::StringValue(s)) => s.as_bytes().to_vec(),
        Some(Value::BytesValue(b)) => b.clone(),
        Some(Value::IntValue(i)) => i.to_string().into_bytes(),
        Some(Value::DoubleValue(d)) => d.to_string().into_bytes(),
        Some(Value::BoolValue(b)) => b.to_string().into_bytes(),
        _ => Vec::new(),
    }
}

struct ProbabilisticSampler;

impl Guest for ProbabilisticSampler {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *SAMPLERS.lock().unwrap_or_else(|e| e.into_inner()) = Some(Samplers::new(&config));
        Ok(ProcessorInfo {
            signals: Signals::TRACES | Signals::LOGS,
            stateful: false,
        })
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let guard = SAMPLERS.lock().unwrap_or_else(|e| e.into_inner());
        let samplers = guard
            .as_ref()
            .ok_or_else(|| PluginError::Rejected("process called before init".to_owned()))?;
        let mut tally = Tally::default();
        let out = match batch.signal {
            Signal::Traces => sample_traces(samplers, &batch.payload, &mut tally),
            Signal::Logs => sample_logs(samplers, &batch.payload, &mut tally),
            Signal::Metrics => return Ok(vec![batch]),
        }
        .map_err(PluginError::Rejected)?;
        count(tally);
        Ok(out
            .map(|payload| Batch {
                signal: batch.signal,
                payload,
            })
            .into_iter()
            .collect())
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

#[cfg(target_arch = "wasm32")]
fn count(tally: Tally) {
    use weir_plugin_sdk::processor::host;
    if tally.kept > 0 {
        host::counter_add("items_sampled", tally.kept);
    }
    if tally.dropped > 0 {
        host::counter_add("items_not_sampled", tally.dropped);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn count(_tally: Tally) {}

weir_plugin_sdk::export_processor!(ProbabilisticSampler);
