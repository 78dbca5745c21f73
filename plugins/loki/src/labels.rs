//! Which labels a log record's stream gets: `exporter="OTLP"`, `job` and
//! `instance` from the resource (as the Go exporter does), the config's
//! static, resource and attribute labels, and the `loki.*.labels` hints.
//! Attributes turned into labels (and the hints) leave the line.

use std::collections::{BTreeMap, BTreeSet};

use weir_plugin_sdk::attributes::{as_text, get};
use weir_plugin_sdk::otlp::KeyValue;

use crate::config::Labels;

pub const RESOURCE_HINT: &str = "loki.resource.labels";
pub const ATTRIBUTE_HINT: &str = "loki.attribute.labels";

/// A label name Loki accepts: invalid characters become `_`.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The attribute keys listed by a hint value (`"a, b"`).
fn hinted(attrs: &[KeyValue], hint: &str) -> Vec<String> {
    get(attrs, hint)
        .map(|v| {
            as_text(Some(v))
                .split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The labels of one resource, and which resource attributes became labels.
pub fn resource_labels(
    config: &Labels,
    resource: &[KeyValue],
) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let mut labels = BTreeMap::new();
    let mut used = BTreeSet::from([RESOURCE_HINT.to_owned(), ATTRIBUTE_HINT.to_owned()]);
    labels.insert("exporter".to_owned(), "OTLP".to_owned());
    let text = |k: &str| get(resource, k).map(|v| as_text(Some(v)));
    if let Some(name) = text("service.name") {
        let job = match text("service.namespace") {
            Some(ns) => format!("{ns}/{name}"),
            None => name,
        };
        labels.insert("job".to_owned(), job);
    }
    if let Some(instance) = text("service.instance.id") {
        labels.insert("instance".to_owned(), instance);
    }
    for (k, v) in &config.fixed {
        labels.insert(k.clone(), v.clone());
    }
    let from_config = config.resource.iter().map(|(a, l)| (a.clone(), l.clone()));
    let from_hint = hinted(resource, RESOURCE_HINT)
        .into_iter()
        .map(|a| (a.clone(), sanitize(&a)));
    for (attr, label) in from_config.chain(from_hint) {
        if let Some(value) = text(&attr) {
            labels.insert(label, value);
            used.insert(attr);
        }
    }
    (labels, used)
}

/// Adds a record's labels to its resource's; returns the record attributes
/// that became labels.
pub fn record_labels(
    config: &Labels,
    resource: &[KeyValue],
    attrs: &[KeyValue],
    labels: &mut BTreeMap<String, String>,
) -> BTreeSet<String> {
    let mut used = BTreeSet::from([ATTRIBUTE_HINT.to_owned()]);
    let mut wanted: Vec<(String, String)> = config
        .attributes
        .iter()
        .map(|(a, l)| (a.clone(), l.clone()))
        .collect();
    for attr in hinted(resource, ATTRIBUTE_HINT)
        .into_iter()
        .chain(hinted(attrs, ATTRIBUTE_HINT))
    {
        let label = sanitize(&attr);
        wanted.push((attr, label));
    }
    for (attr, label) in wanted {
        if let Some(value) = get(attrs, &attr) {
            labels.insert(label, as_text(Some(value)));
            used.insert(attr);
        }
    }
    used
}

/// Prometheus-style label text: `{a="x", b="y"}`, sorted, values escaped.
pub fn label_text(labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            let escaped = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}
