//! The filter processor's configuration, in the OpenTelemetry Collector's
//! OTTL form:
//!
//! ```yaml
//! error_mode: ignore            # ignore | silent | propagate (default)
//! traces:
//!   span:                       # a span matching any condition is dropped
//!     - attributes["http.route"] == "/health"
//!   spanevent:
//!     - name == "debug"
//! metrics:
//!   metric:
//!     - name == "unused" and type == METRIC_DATA_TYPE_HISTOGRAM
//!   datapoint:
//!     - attributes["env"] == "dev"
//! logs:
//!   log_record:
//!     - severity_number < SEVERITY_NUMBER_WARN
//! ```
//!
//! Conditions are parsed and checked here: a bad one is a config error
//! naming where it is, its text and the column.

use serde_json::{Map, Value};
use weir_ottl::{Condition, Context, ErrorMode, StatementError};

/// The conditions of one context; an item matching any is dropped.
#[derive(Debug, Clone)]
pub struct Rule {
    pub context: Context,
    pub conditions: Vec<(String, Condition)>,
}

/// The checked configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub error_mode: ErrorMode,
    /// Span rules, then span event rules (the Go order).
    pub traces: Vec<Rule>,
    /// Metric rules, then data point rules.
    pub metrics: Vec<Rule>,
    pub logs: Vec<Rule>,
}

/// Each signal's key and its contexts, in the order they run.
const SIGNALS: &[(&str, &[(&str, Context)])] = &[
    (
        "traces",
        &[("span", Context::Span), ("spanevent", Context::SpanEvent)],
    ),
    (
        "metrics",
        &[
            ("metric", Context::Metric),
            ("datapoint", Context::DataPoint),
        ],
    ),
    ("logs", &[("log_record", Context::Log)]),
];

impl weir_ottl::processor::PerSignal for Config {
    fn configured(&self, signal: weir_plugin_sdk::processor::Signal) -> bool {
        use weir_plugin_sdk::processor::Signal;
        !match signal {
            Signal::Traces => self.traces.is_empty(),
            Signal::Metrics => self.metrics.is_empty(),
            Signal::Logs => self.logs.is_empty(),
        }
    }
}

impl Config {
    /// Parses and checks the component's config block (as JSON).
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let root: Value = serde_json::from_str(config_json)
            .map_err(|e| format!("config is not valid JSON: {e}"))?;
        let root = match root {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => return Err("expected a map with traces, metrics or logs".into()),
        };
        let mut config = Config::default();
        for (key, value) in &root {
            match key.as_str() {
                "error_mode" => {
                    config.error_mode =
                        ErrorMode::parse(value).map_err(|e| format!("error_mode: {e}"))?
                }
                "traces" => config.traces = rules(value, "traces", SIGNALS[0].1)?,
                "metrics" => config.metrics = rules(value, "metrics", SIGNALS[1].1)?,
                "logs" => config.logs = rules(value, "logs", SIGNALS[2].1)?,
                "spans" | "logs_record" => {
                    return Err(format!(
                        "{key}: the pre-OTTL filter form (include/exclude) is not supported; use traces.span, metrics.metric, metrics.datapoint or logs.log_record conditions"
                    ));
                }
                other => {
                    return Err(format!(
                        "{other}: unknown key; expected error_mode, traces, metrics or logs"
                    ));
                }
            }
        }
        if config.traces.is_empty() && config.metrics.is_empty() && config.logs.is_empty() {
            return Err("no conditions: set traces, metrics or logs".into());
        }
        Ok(config)
    }
}

fn rules(value: &Value, signal: &str, contexts: &[(&str, Context)]) -> Result<Vec<Rule>, String> {
    let map = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Object(map) => map,
        _ => return Err(format!("{signal}: expected a map of context to conditions")),
    };
    let names = contexts
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(key) = map.keys().find(|k| !contexts.iter().any(|(n, _)| n == k)) {
        return Err(format!("{signal}.{key}: unknown key; expected {names}"));
    }
    let mut out = Vec::new();
    for (name, context) in contexts {
        let at = format!("{signal}.{name}");
        let texts = match map.get(*name) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(items)) => items,
            Some(_) => return Err(format!("{at}: expected a list of conditions")),
        };
        let conditions = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let text = text
                    .as_str()
                    .ok_or_else(|| format!("{at}[{i}]: expected a string"))?;
                weir_ottl::condition(text, *context)
                    .map(|c| (text.to_owned(), c))
                    .map_err(|error| {
                        StatementError {
                            location: format!("{at}[{i}]"),
                            statement: text.to_owned(),
                            error,
                        }
                        .to_string()
                    })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if !conditions.is_empty() {
            out.push(Rule {
                context: *context,
                conditions,
            });
        }
    }
    Ok(out)
}
