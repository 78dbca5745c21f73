//! The transform processor's configuration, in the OpenTelemetry
//! Collector's shape:
//!
//! ```yaml
//! error_mode: ignore              # ignore | silent | propagate (default)
//! metric_statements:
//!   - context: datapoint          # resource, scope, metric, datapoint
//!     conditions:                 # optional; the group runs where any holds
//!       - metric.name == "http.requests"
//!     statements:
//!       - set(datapoint.attributes["client_id"], resource.attributes["service.name"])
//! trace_statements:               # the flat form: context from the paths
//!   - set(span.attributes["x"], "y") where span.name == "GET /"
//! log_statements: []
//! ```
//!
//! Every statement is parsed and checked here, so a bad one is a config
//! error naming where it is, its text and the column.

use serde_json::{Map, Value};
use weir_ottl::{Condition, Context, ErrorMode, Statement, StatementError};

/// Statements of one group, run in order on each item of its context.
#[derive(Debug, Clone)]
pub struct Group {
    pub context: Context,
    /// The group runs on an item only if one of these holds (all, if empty).
    pub conditions: Vec<Condition>,
    pub statements: Vec<Statement>,
    pub error_mode: ErrorMode,
}

/// The checked configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub traces: Vec<Group>,
    pub metrics: Vec<Group>,
    pub logs: Vec<Group>,
}

const TRACE_CONTEXTS: &[Context] = &[
    Context::Resource,
    Context::Scope,
    Context::Span,
    Context::SpanEvent,
];
const METRIC_CONTEXTS: &[Context] = &[
    Context::Resource,
    Context::Scope,
    Context::Metric,
    Context::DataPoint,
];
const LOG_CONTEXTS: &[Context] = &[Context::Resource, Context::Scope, Context::Log];
const KEYS: &[&str] = &[
    "error_mode",
    "trace_statements",
    "metric_statements",
    "log_statements",
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
            _ => {
                return Err(
                    "expected a map with trace_statements, metric_statements or log_statements"
                        .into(),
                );
            }
        };
        if let Some(key) = root.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("{key}: unknown key; expected {}", KEYS.join(", ")));
        }
        let error_mode = match root.get("error_mode") {
            None | Some(Value::Null) => ErrorMode::default(),
            Some(v) => ErrorMode::parse(v).map_err(|e| format!("error_mode: {e}"))?,
        };
        let config = Config {
            traces: groups(&root, "trace_statements", TRACE_CONTEXTS, error_mode)?,
            metrics: groups(&root, "metric_statements", METRIC_CONTEXTS, error_mode)?,
            logs: groups(&root, "log_statements", LOG_CONTEXTS, error_mode)?,
        };
        if config.traces.is_empty() && config.metrics.is_empty() && config.logs.is_empty() {
            return Err(
                "no statements: set trace_statements, metric_statements or log_statements".into(),
            );
        }
        Ok(config)
    }
}

fn statement_error(location: String, text: &str, error: weir_ottl::Error) -> String {
    StatementError {
        location,
        statement: text.to_owned(),
        error,
    }
    .to_string()
}

/// Parses one `*_statements` list: groups, or plain strings whose context
/// is inferred from their paths (each string becomes its own group).
fn groups(
    root: &Map<String, Value>,
    key: &str,
    allowed: &[Context],
    mode: ErrorMode,
) -> Result<Vec<Group>, String> {
    let items = match root.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(format!(
                "{key}: expected a list of statement groups or statements"
            ));
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        match item {
            Value::String(text) => {
                let statement = weir_ottl::statement_inferred(text, allowed)
                    .map_err(|e| statement_error(at.clone(), text, e))?;
                out.push(Group {
                    context: statement.context,
                    conditions: Vec::new(),
                    statements: vec![statement],
                    error_mode: mode,
                });
            }
            Value::Object(map) => out.push(group(map, &at, allowed, mode)?),
            _ => {
                return Err(format!(
                    "{at}: expected a statement or a map with context and statements"
                ));
            }
        }
    }
    Ok(out)
}

fn strings<'a>(map: &'a Map<String, Value>, key: &str, at: &str) -> Result<Vec<&'a str>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .ok_or_else(|| format!("{at}.{key}[{i}]: expected a string"))
            })
            .collect(),
        Some(_) => Err(format!("{at}.{key}: expected a list of strings")),
    }
}

fn group(
    map: &Map<String, Value>,
    at: &str,
    allowed: &[Context],
    mode: ErrorMode,
) -> Result<Group, String> {
    const GROUP_KEYS: &[&str] = &["context", "statements", "conditions", "error_mode"];
    if let Some(key) = map.keys().find(|k| !GROUP_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "{at}.{key}: unknown key; expected {}",
            GROUP_KEYS.join(", ")
        ));
    }
    let names = || {
        allowed
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let texts = strings(map, "statements", at)?;
    let context = match map.get("context") {
        Some(Value::String(name)) => Context::from_name(name)
            .filter(|c| allowed.contains(c))
            .ok_or_else(|| {
                format!(
                    "{at}.context: invalid context `{name}`; expected {}",
                    names()
                )
            })?,
        Some(other) if !other.is_null() => {
            return Err(format!("{at}.context: expected one of {}", names()));
        }
        // No context: the deepest one the statements' paths name.
        _ => {
            let mut deepest: Option<Context> = None;
            for (i, text) in texts.iter().enumerate() {
                let ctx = weir_ottl::statement_inferred(text, allowed)
                    .map_err(|e| statement_error(format!("{at}.statements[{i}]"), text, e))?
                    .context;
                if deepest.is_none_or(|d| ctx.depth() > d.depth()) {
                    deepest = Some(ctx);
                }
            }
            deepest.ok_or_else(|| format!("{at}: missing `context` ({})", names()))?
        }
    };
    let error_mode = match map.get("error_mode") {
        None | Some(Value::Null) => mode,
        Some(v) => ErrorMode::parse(v).map_err(|e| format!("{at}.error_mode: {e}"))?,
    };
    if texts.is_empty() {
        return Err(format!(
            "{at}.statements: at least one statement is required"
        ));
    }
    let statements = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            weir_ottl::statement(text, context)
                .map_err(|e| statement_error(format!("{at}.statements[{i}]"), text, e))
        })
        .collect::<Result<_, _>>()?;
    let conditions = strings(map, "conditions", at)?
        .iter()
        .enumerate()
        .map(|(i, text)| {
            weir_ottl::condition(text, context)
                .map_err(|e| statement_error(format!("{at}.conditions[{i}]"), text, e))
        })
        .collect::<Result<_, _>>()?;
    Ok(Group {
        context,
        conditions,
        statements,
        error_mode,
    })
}
