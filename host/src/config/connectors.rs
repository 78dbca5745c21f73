//! `connectors:`: components that are the exporter of some pipelines and
//! the receiver of others, as in the OpenTelemetry Collector. A connector
//! is a plugin of the `connector-plugin` world; which signals it consumes
//! and emits is known once it is configured, so that part is checked when
//! the pipelines are prepared (`pipeline/topology.rs`). Here: the types,
//! ids that would be ambiguous, both sides being used, and no cycles.

use std::collections::{BTreeMap, BTreeSet};

use super::error::Errors;
use super::load::components;
use super::model::{ComponentId, Config, ConnectorConfig, PipelineConfig, PipelineId, PluginSpec};
use super::tree::Node;
use crate::plugin::BUILTIN_CONNECTORS;

/// Reads the `connectors:` section: each entry's type must be a plugin.
pub(super) fn section(
    node: Option<&Node>,
    plugins: &BTreeMap<String, PluginSpec>,
    errors: &mut Errors,
) -> BTreeMap<ComponentId, ConnectorConfig> {
    components(node, "connectors", errors, |id, node, path, errors| {
        if plugins.contains_key(&id.kind) {
            let config = match node.to_json() {
                serde_json::Value::Null => serde_json::json!({}),
                other => other,
            };
            Some(ConnectorConfig {
                plugin: id.kind.clone(),
                config,
            })
        } else {
            errors.add(
                path,
                format!(
                    "unknown connector type `{}`; expected {} or a type declared under `plugins:`",
                    id.kind,
                    BUILTIN_CONNECTORS.join(", ")
                ),
            );
            None
        }
    })
}

/// Checks how pipelines use connectors, scope by scope (`service.pipelines`
/// and each tenant's): an id is not also a receiver's or an exporter's, a
/// connector used on one side is used on the other, and no pipeline feeds
/// itself through connectors.
pub(super) fn check(
    config: &Config,
    receivers: &BTreeSet<ComponentId>,
    exporters: &BTreeSet<ComponentId>,
    errors: &mut Errors,
) {
    for id in config.connectors.keys() {
        for (kind, declared) in [("receivers", receivers), ("exporters", exporters)] {
            if declared.contains(id) {
                errors.add(
                    format!("connectors.{id}"),
                    format!(
                        "`{id}` is also defined under `{kind}:`, so a pipeline naming it is ambiguous; rename one (e.g. `{}/connector`)",
                        id.kind
                    ),
                );
            }
        }
    }
    let mut scopes = vec![("service.pipelines".to_string(), &config.pipelines)];
    for (name, tenant) in &config.tenants {
        scopes.push((format!("tenants.{name}.pipelines"), &tenant.pipelines));
    }
    // An ambiguous or refused connector is reported once, above.
    let mut defined = config.connectors.clone();
    defined.retain(|id, _| !receivers.contains(id) && !exporters.contains(id));
    for (at, pipelines) in scopes {
        both_sides(&at, pipelines, &defined, errors);
        no_cycles(&at, pipelines, errors);
    }
}

/// A connector listed under some pipeline's `exporters` must be under
/// another's `receivers`, and the other way round.
/// Connectors whose own definition was refused are not reported again.
fn both_sides(
    at: &str,
    pipelines: &BTreeMap<PipelineId, PipelineConfig>,
    defined: &BTreeMap<ComponentId, ConnectorConfig>,
    errors: &mut Errors,
) {
    let mut exporting: BTreeMap<&ComponentId, String> = BTreeMap::new();
    let mut receiving: BTreeMap<&ComponentId, String> = BTreeMap::new();
    for (id, p) in pipelines {
        for c in &p.to_connectors {
            exporting
                .entry(&c.id)
                .or_insert_with(|| format!("{at}.{id}.exporters[{}]", c.index));
        }
        for c in &p.from_connectors {
            receiving
                .entry(&c.id)
                .or_insert_with(|| format!("{at}.{id}.receivers[{}]", c.index));
        }
    }
    exporting.retain(|id, _| defined.contains_key(*id));
    receiving.retain(|id, _| defined.contains_key(*id));
    for (id, path) in &exporting {
        if !receiving.contains_key(id) {
            errors.add(
                path.clone(),
                format!(
                    "connector `{id}` is used as an exporter but no pipeline lists it under `receivers`; a connector must be used on both sides"
                ),
            );
        }
    }
    for (id, path) in &receiving {
        if !exporting.contains_key(id) {
            errors.add(
                path.clone(),
                format!(
                    "connector `{id}` is used as a receiver but no pipeline lists it under `exporters`; a connector must be used on both sides"
                ),
            );
        }
    }
}

/// Pipelines joined by connectors must not loop back (data would circle).
fn no_cycles(at: &str, pipelines: &BTreeMap<PipelineId, PipelineConfig>, errors: &mut Errors) {
    let next = |from: &PipelineConfig| -> Vec<&PipelineId> {
        pipelines
            .iter()
            .filter(|(_, to)| {
                to.from_connectors
                    .iter()
                    .any(|c| from.to_connectors.iter().any(|o| o.id == c.id))
            })
            .map(|(id, _)| id)
            .collect()
    };
    // Depth-first from each pipeline; a pipeline met again on the current
    // path closes a cycle.
    let mut done: BTreeSet<&PipelineId> = BTreeSet::new();
    for start in pipelines.keys() {
        let mut path: Vec<&PipelineId> = Vec::new();
        let mut stack: Vec<(&PipelineId, usize)> = vec![(start, 0)];
        while let Some((node, child)) = stack.pop() {
            if child == 0 {
                if let Some(pos) = path.iter().position(|p| *p == node) {
                    let names: Vec<String> = path[pos..]
                        .iter()
                        .chain(std::iter::once(&node))
                        .map(|p| p.to_string())
                        .collect();
                    errors.add(
                        format!("{at}.{node}"),
                        format!(
                            "pipelines form a cycle through connectors: {}",
                            names.join(" → ")
                        ),
                    );
                    return;
                }
                if done.contains(node) {
                    continue;
                }
                path.push(node);
            }
            let targets = next(&pipelines[node]);
            if let Some(target) = targets.get(child) {
                stack.push((node, child + 1));
                stack.push((target, 0));
            } else {
                path.pop();
                done.insert(node);
            }
        }
    }
}
