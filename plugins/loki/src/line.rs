//! The text of a Loki log line, in the Go Loki exporter's `json` or
//! `logfmt` form, without the attributes that became labels.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use weir_plugin_sdk::attributes::{as_json, as_text};
use weir_plugin_sdk::otlp::KeyValue;
use weir_plugin_sdk::otlp::common::v1::InstrumentationScope;
use weir_plugin_sdk::otlp::logs::v1::LogRecord;

use crate::config::LineFormat;

/// What a line is made of.
pub struct LineParts<'a> {
    pub record: &'a LogRecord,
    pub resource: &'a [KeyValue],
    pub scope: Option<&'a InstrumentationScope>,
    /// Record attributes that became labels.
    pub used_attrs: &'a BTreeSet<String>,
    /// Resource attributes that became labels.
    pub used_resource: &'a BTreeSet<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn kept<'a>(
    attrs: &'a [KeyValue],
    used: &'a BTreeSet<String>,
) -> impl Iterator<Item = &'a KeyValue> {
    attrs.iter().filter(move |kv| !used.contains(&kv.key))
}

/// Writes the line.
pub fn render(format: LineFormat, p: &LineParts) -> String {
    match format {
        LineFormat::Json => json(p),
        LineFormat::Logfmt => logfmt(p),
    }
}

fn json(p: &LineParts) -> String {
    let r = p.record;
    let mut line = Map::new();
    line.insert("body".into(), as_json(r.body.as_ref()));
    if !r.trace_id.is_empty() {
        line.insert("traceid".into(), hex(&r.trace_id).into());
    }
    if !r.span_id.is_empty() {
        line.insert("spanid".into(), hex(&r.span_id).into());
    }
    if !r.severity_text.is_empty() {
        line.insert("severity".into(), r.severity_text.clone().into());
    }
    if r.flags != 0 {
        line.insert("flags".into(), r.flags.into());
    }
    let attrs: Map<String, Value> = kept(&r.attributes, p.used_attrs)
        .map(|kv| (kv.key.clone(), as_json(kv.value.as_ref())))
        .collect();
    if !attrs.is_empty() {
        line.insert("attributes".into(), Value::Object(attrs));
    }
    let resources: Map<String, Value> = kept(p.resource, p.used_resource)
        .map(|kv| (kv.key.clone(), as_json(kv.value.as_ref())))
        .collect();
    if !resources.is_empty() {
        line.insert("resources".into(), Value::Object(resources));
    }
    if let Some(scope) = p.scope.filter(|s| !s.name.is_empty()) {
        let mut s = Map::new();
        s.insert("name".into(), scope.name.clone().into());
        if !scope.version.is_empty() {
            s.insert("version".into(), scope.version.clone().into());
        }
        line.insert("instrumentation_scope".into(), Value::Object(s));
    }
    Value::Object(line).to_string()
}

/// A logfmt value: bare when it is one plain word, quoted otherwise.
fn logfmt_value(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '=')
    {
        v.to_owned()
    } else {
        Value::from(v).to_string()
    }
}

fn logfmt(p: &LineParts) -> String {
    let r = p.record;
    let mut pairs: Vec<(String, String)> = Vec::new();
    // A kvlist body spreads into its keys, as the Go exporter does.
    match r.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(weir_plugin_sdk::otlp::any_value::Value::KvlistValue(kv)) => {
            for item in &kv.values {
                pairs.push((item.key.clone(), as_text(item.value.as_ref())));
            }
        }
        _ => pairs.push(("body".into(), as_text(r.body.as_ref()))),
    }
    if !r.trace_id.is_empty() {
        pairs.push(("traceID".into(), hex(&r.trace_id)));
    }
    if !r.span_id.is_empty() {
        pairs.push(("spanID".into(), hex(&r.span_id)));
    }
    if !r.severity_text.is_empty() {
        pairs.push(("severity".into(), r.severity_text.clone()));
    }
    for kv in kept(&r.attributes, p.used_attrs) {
        pairs.push((format!("attribute_{}", kv.key), as_text(kv.value.as_ref())));
    }
    for kv in kept(p.resource, p.used_resource) {
        pairs.push((format!("resource_{}", kv.key), as_text(kv.value.as_ref())));
    }
    if let Some(scope) = p.scope.filter(|s| !s.name.is_empty()) {
        pairs.push(("instrumentation_scope_name".into(), scope.name.clone()));
        if !scope.version.is_empty() {
            pairs.push((
                "instrumentation_scope_version".into(),
                scope.version.clone(),
            ));
        }
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", logfmt_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}
