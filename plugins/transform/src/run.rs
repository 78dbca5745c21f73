//! Running the configured groups over one decoded request.

use crate::config::{Config, Group};
use weir_ottl::{ErrorMode, Item, RunError, eval, walk};
use weir_plugin_sdk::otlp;
use weir_plugin_sdk::processor::Signal;

/// What came of a batch: the new payload, and the errors `ignore` mode
/// passed over (to log).
#[derive(Debug, Default)]
pub struct Outcome {
    pub payload: Vec<u8>,
    pub ignored: Vec<String>,
}

/// Runs one group on one item. A failing statement under `propagate`
/// stops everything; otherwise the next statement runs.
fn run_group(
    group: &Group,
    item: &mut Item<'_>,
    ignored: &mut Vec<String>,
) -> Result<bool, RunError> {
    let mut failed = |text: &str, e: RunError| -> Result<(), RunError> {
        let e = RunError(format!("statement `{text}`: {e}"));
        match group.error_mode {
            ErrorMode::Propagate => Err(e),
            ErrorMode::Ignore => {
                ignored.push(e.0);
                Ok(())
            }
            ErrorMode::Silent => Ok(()),
        }
    };
    if !group.conditions.is_empty() {
        let mut any = false;
        for condition in &group.conditions {
            match eval::test(condition, item) {
                Ok(true) => {
                    any = true;
                    break;
                }
                Ok(false) => {}
                Err(e) => failed("conditions", e)?,
            }
        }
        if !any {
            return Ok(true);
        }
    }
    for statement in &group.statements {
        if let Err(e) = eval::run(statement, item) {
            failed(&statement.text, e)?;
        }
    }
    Ok(true)
}

/// Decodes `payload` as `signal`'s request, runs the groups for it in
/// order, re-encodes it.
pub fn process_payload(config: &Config, signal: Signal, payload: &[u8]) -> Result<Outcome, String> {
    let mut ignored = Vec::new();
    let encoded = match signal {
        Signal::Traces => {
            let mut request = otlp::decode_traces(payload).map_err(|e| e.0)?;
            for group in &config.traces {
                walk::traces(&mut request, group.context, &mut |item: &mut Item<'_>| {
                    run_group(group, item, &mut ignored)
                })
                .map_err(|e| e.0)?;
            }
            otlp::encode(&request)
        }
        Signal::Metrics => {
            let mut request = otlp::decode_metrics(payload).map_err(|e| e.0)?;
            for group in &config.metrics {
                walk::metrics(&mut request, group.context, &mut |item: &mut Item<'_>| {
                    run_group(group, item, &mut ignored)
                })
                .map_err(|e| e.0)?;
            }
            otlp::encode(&request)
        }
        Signal::Logs => {
            let mut request = otlp::decode_logs(payload).map_err(|e| e.0)?;
            for group in &config.logs {
                walk::logs(&mut request, group.context, &mut |item: &mut Item<'_>| {
                    run_group(group, item, &mut ignored)
                })
                .map_err(|e| e.0)?;
            }
            otlp::encode(&request)
        }
    };
    Ok(Outcome {
        payload: encoded,
        ignored,
    })
}
