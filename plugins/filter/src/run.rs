//! Dropping the items that match, then the scopes and resources left empty.

use crate::config::{Config, Rule};
use weir_ottl::{ErrorMode, Item, RunError, eval, walk};
use weir_plugin_sdk::otlp;
use weir_plugin_sdk::processor::Signal;

/// What came of a batch: the payload left (`None` when nothing is left),
/// how many items were dropped, and the errors `ignore` mode passed over.
#[derive(Debug, Default)]
pub struct Outcome {
    pub payload: Option<Vec<u8>>,
    pub dropped: u64,
    pub ignored: Vec<String>,
}

/// Whether `item` is kept: it is dropped when any condition holds. A
/// failing condition counts as not holding, unless the mode propagates.
fn keep(
    rule: &Rule,
    mode: ErrorMode,
    item: &mut Item<'_>,
    outcome: &mut Outcome,
) -> Result<bool, RunError> {
    for (text, condition) in &rule.conditions {
        match eval::test(condition, item) {
            Ok(true) => {
                outcome.dropped += 1;
                return Ok(false);
            }
            Ok(false) => {}
            Err(e) => {
                let e = RunError(format!("condition `{text}`: {e}"));
                match mode {
                    ErrorMode::Propagate => return Err(e),
                    ErrorMode::Ignore => outcome.ignored.push(e.0),
                    ErrorMode::Silent => {}
                }
            }
        }
    }
    Ok(true)
}

/// Decodes `payload`, drops what matches, re-encodes what is left.
pub fn process_payload(config: &Config, signal: Signal, payload: &[u8]) -> Result<Outcome, String> {
    let mut outcome = Outcome::default();
    let mode = config.error_mode;
    let (encoded, empty) = match signal {
        Signal::Traces => {
            let mut request = otlp::decode_traces(payload).map_err(|e| e.0)?;
            for rule in &config.traces {
                walk::traces(&mut request, rule.context, &mut |item: &mut Item<'_>| {
                    keep(rule, mode, item, &mut outcome)
                })
                .map_err(|e| e.0)?;
            }
            walk::prune_traces(&mut request);
            (otlp::encode(&request), request.resource_spans.is_empty())
        }
        Signal::Metrics => {
            let mut request = otlp::decode_metrics(payload).map_err(|e| e.0)?;
            for rule in &config.metrics {
                walk::metrics(&mut request, rule.context, &mut |item: &mut Item<'_>| {
                    keep(rule, mode, item, &mut outcome)
                })
                .map_err(|e| e.0)?;
            }
            walk::prune_metrics(&mut request);
            (otlp::encode(&request), request.resource_metrics.is_empty())
        }
        Signal::Logs => {
            let mut request = otlp::decode_logs(payload).map_err(|e| e.0)?;
            for rule in &config.logs {
                walk::logs(&mut request, rule.context, &mut |item: &mut Item<'_>| {
                    keep(rule, mode, item, &mut outcome)
                })
                .map_err(|e| e.0)?;
            }
            walk::prune_logs(&mut request);
            (otlp::encode(&request), request.resource_logs.is_empty())
        }
    };
    outcome.payload = (!empty).then_some(encoded);
    Ok(outcome)
}
