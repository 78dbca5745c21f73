//! Reading a config file: YAML → `${env:…}` expansion → typed, validated
//! [`Config`], collecting every error on the way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::env;
use super::error::{ConfigErrors, Errors};
use super::extensions::ExtensionConfig;
use super::filelog::FileLogConfig;
use super::hostmetrics::HostMetricsConfig;
use super::layers;
use super::model::*;
use super::plugins::plugins;
use super::receiver::OtlpReceiverConfig;
use super::tree::{Node, Value};
use crate::Signal;
use crate::plugin::{BUILTIN_EXPORTERS, BUILTIN_PROCESSORS};

/// The config `weir` runs with when given none: OTLP in on loopback, every
/// signal batched and printed by the `debug` exporter.
pub const DEFAULT_CONFIG: &str = include_str!("../../../config/default.yaml");

/// Loads and validates config text that came from `file`.
pub fn load_str(
    text: &str,
    file: &Path,
    environment: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    load_layers(text, file, None, environment, lookup)
}

/// Loads a base config with an environment's overlay (text and file)
/// deep-merged over it; errors name the file each key came from.
pub fn load_layers(
    text: &str,
    file: &Path,
    overlay: Option<(&str, &Path)>,
    environment: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    let mut root = parse_expanded(text, file, lookup)?;
    if let Some((overlay_text, overlay_file)) = overlay {
        let mut top = parse_expanded(overlay_text, overlay_file, lookup)?;
        if !matches!(top.value, Value::Map(_)) {
            return Err(ConfigErrors(vec![super::ConfigError {
                file: overlay_file.to_path_buf(),
                path: String::new(),
                line: Some(top.line),
                message: "an environment file must be a map of config sections".into(),
            }]));
        }
        layers::mark_overlay(&mut top);
        layers::merge(&mut root, top);
    }
    let lines = |path: &str| root.line_of(path);
    let from_overlay = |path: &str| root.is_from_overlay(path);
    let mut errors = Errors::new(file, &lines);
    if let Some((_, overlay_file)) = overlay {
        errors = errors.with_overlay(overlay_file, &from_overlay);
    }
    let overlay_file = overlay.map(|(_, f)| f.to_path_buf());
    let config = build(&root, file, overlay_file, environment, &mut errors);
    errors.into_result(config)
}

/// Parses one file and expands its `${env:…}` references.
fn parse_expanded(
    text: &str,
    file: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Node, ConfigErrors> {
    let mut root = Node::parse(text).map_err(|e| {
        let no_lines = |_: &str| None;
        let mut errors = Errors::new(file, &no_lines);
        errors.add("", format!("invalid YAML: {e}"));
        ConfigErrors(errors.list)
    })?;
    match env::expand(&mut root, lookup) {
        Ok(unset) => {
            for name in unset {
                tracing::warn!(
                    variable = name,
                    "environment variable is not set; using an empty string"
                );
            }
            Ok(root)
        }
        Err((line, message)) => Err(ConfigErrors(vec![super::ConfigError {
            file: file.to_path_buf(),
            path: String::new(),
            line: Some(line),
            message,
        }])),
    }
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "receivers",
    "processors",
    "exporters",
    "connectors",
    "extensions",
    "plugins",
    "tenancy",
    "tenants",
    "service",
];

fn build(
    root: &Node,
    file: &Path,
    overlay_file: Option<PathBuf>,
    environment: &str,
    errors: &mut Errors,
) -> Config {
    let top = entries(root, "", errors);
    for (key, _) in top {
        if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
            errors.add(
                key.clone(),
                format!("unknown key; expected one of {}", TOP_LEVEL_KEYS.join(", ")),
            );
        }
    }
    let section = |name: &str| top.iter().find(|(k, _)| k == name).map(|(_, v)| v);

    let plugins = plugins(section("plugins"), errors);
    let receivers = components(
        section("receivers"),
        "receivers",
        errors,
        |id, node, path, errors| match id.kind.as_str() {
            "otlp" => typed::<OtlpReceiverConfig>(node, &path, errors).map(ReceiverConfig::Otlp),
            "hostmetrics" => {
                let config = typed::<HostMetricsConfig>(node, &path, errors)?;
                if !config.scrapers.any() {
                    errors.add(
                        format!("{path}.scrapers"),
                        "at least one scraper is required: cpu, memory, disk, network or load",
                    );
                    return None;
                }
                Some(ReceiverConfig::HostMetrics(config))
            }
            "filelog" => {
                let config = typed::<FileLogConfig>(node, &path, errors)?;
                filelog_checked(config, &path, errors).map(ReceiverConfig::FileLog)
            }
            other => {
                errors.add(
                    path,
                    format!(
                        "unknown receiver type `{other}`; expected otlp, hostmetrics or filelog"
                    ),
                );
                None
            }
        },
    );
    let parse_processor = |id: &ComponentId, node: &Node, path: String, errors: &mut Errors| {
        match id.kind.as_str() {
            "batch" => typed::<BatchConfig>(node, &path, errors).map(ProcessorConfig::Batch),
            "memory_limiter" => typed::<MemoryLimiterConfig>(node, &path, errors)
                .and_then(|c| memory_limiter_checked(c, &path, errors))
                .map(ProcessorConfig::MemoryLimiter),
            kind if plugins.contains_key(kind) => Some(ProcessorConfig::Plugin {
                plugin: kind.to_string(),
                config: plugin_config(node),
            }),
            other => {
                let mut known = vec!["batch", "memory_limiter"];
                known.extend(BUILTIN_PROCESSORS);
                errors.add(
                    path,
                    format!(
                        "unknown processor type `{other}`; expected {} or a type declared under `plugins:`",
                        known.join(", ")
                    ),
                );
                None
            }
        }
    };
    let parse_exporter = |id: &ComponentId, node: &Node, path: String, errors: &mut Errors| {
        if plugins.contains_key(&id.kind) {
            Some(ExporterConfig {
                plugin: id.kind.clone(),
                config: plugin_config(node),
            })
        } else {
            errors.add(
                path,
                format!(
                    "unknown exporter type `{}`; expected {} or a type declared under `plugins:`",
                    id.kind,
                    BUILTIN_EXPORTERS.join(", ")
                ),
            );
            None
        }
    };
    let processors = components(
        section("processors"),
        "processors",
        errors,
        &parse_processor,
    );
    let exporters = components(section("exporters"), "exporters", errors, &parse_exporter);
    // References are checked against what is declared, valid or not, so one
    // bad component is reported once, not again at every pipeline naming it.
    let declared = |name: &str| -> BTreeSet<ComponentId> {
        section(name)
            .map(|node| match &node.value {
                Value::Map(entries) => entries
                    .iter()
                    .filter_map(|(k, _)| ComponentId::parse(k).ok())
                    .collect(),
                _ => BTreeSet::new(),
            })
            .unwrap_or_default()
    };
    let connectors = super::connectors::section(section("connectors"), &plugins, errors);
    let extensions = super::load_tenancy::extensions(section("extensions"), errors);
    let service = service(
        section("service"),
        &declared("receivers"),
        &declared("processors"),
        &declared("exporters"),
        &declared("connectors"),
        &declared("extensions"),
        errors,
    );
    let tenancy = section("tenancy")
        .and_then(|node| typed::<super::TenancyConfig>(node, "tenancy", errors))
        .unwrap_or_default();
    let tenants = super::load_tenancy::tenants(
        section("tenants"),
        &super::load_tenancy::TenantParsers {
            // A tenant's pipelines name its own components or the top-level ones.
            pipelines: &|node, path, own_processors, own_exporters, errors| {
                pipelines_of(
                    node,
                    path,
                    &declared("receivers"),
                    &declared("processors")
                        .union(own_processors)
                        .cloned()
                        .collect(),
                    &declared("exporters")
                        .union(own_exporters)
                        .cloned()
                        .collect(),
                    &declared("connectors"),
                    errors,
                )
            },
            processors: &|node, path, errors| {
                components(Some(node), path, errors, &parse_processor)
            },
            exporters: &|node, path, errors| components(Some(node), path, errors, &parse_exporter),
        },
        errors,
    );
    let tenant_pipelines = tenants.values().any(|t| !t.pipelines.is_empty());
    if section("service").is_none() && !tenant_pipelines {
        errors.add("service", "missing: expected `service.pipelines`");
    } else if !tenant_pipelines
        && (service.saw_pipelines.is_none()
            || service.pipelines.is_empty() && errors.list.is_empty())
    {
        errors.add(
            "service.pipelines",
            "expected at least one pipeline (traces, metrics or logs)",
        );
    }
    let mut config = Config {
        file: file.to_path_buf(),
        environment: environment.to_string(),
        receivers,
        processors,
        exporters,
        connectors,
        plugins,
        pipelines: service.pipelines,
        telemetry: service.telemetry,
        extensions,
        service_extensions: service.extensions,
        shutdown_timeout: service.shutdown_timeout,
        tenancy,
        tenants,
        lines: super::model::Lines::new(root.clone(), overlay_file),
    };
    super::load_tenancy::check_auth_references(&config, errors);
    super::connectors::check(
        &config,
        &declared("receivers"),
        &declared("exporters"),
        errors,
    );
    check_storage(&mut config, errors);
    config
}

/// A `filelog` receiver's `storage` names an enabled `file_storage` extension.
fn check_storage(config: &mut Config, errors: &mut Errors) {
    let enabled: BTreeMap<ComponentId, ExtensionConfig> = config
        .enabled_extensions()
        .map(|(id, e)| (id.clone(), e.clone()))
        .collect();
    for (id, receiver) in &mut config.receivers {
        let ReceiverConfig::FileLog(filelog) = receiver else {
            continue;
        };
        let Some(storage) = &filelog.storage else {
            continue;
        };
        let found = ComponentId::parse(storage)
            .ok()
            .and_then(|sid| enabled.get(&sid));
        if let Some(ExtensionConfig::FileStorage(dir)) = found {
            filelog.file_storage = Some(dir.clone());
        } else {
            errors.add(
                format!("receivers.{id}.storage"),
                format!("`{storage}` is not a file_storage extension listed in service.extensions"),
            );
        }
    }
}

/// The entries of a map node (an absent or null node has none).
pub(super) fn entries<'n>(node: &'n Node, path: &str, errors: &mut Errors) -> &'n [(String, Node)] {
    match &node.value {
        Value::Map(entries) => entries,
        Value::Null => &[],
        _ => {
            errors.add(path, "expected a map of keys to values");
            &[]
        }
    }
}

/// Deserializes a node into a typed struct, recording the precise key path
/// of the first problem (unknown key, wrong type, missing field).
pub(super) fn typed<T: DeserializeOwned>(
    node: &Node,
    path: &str,
    errors: &mut Errors,
) -> Option<T> {
    let json = match node.to_json() {
        serde_json::Value::Null => serde_json::json!({}),
        other => other,
    };
    match serde_path_to_error::deserialize::<_, T>(json) {
        Ok(value) => Some(value),
        Err(err) => {
            let inner = err.path().to_string();
            let full = if inner == "." || inner.is_empty() {
                path.to_string()
            } else {
                format!("{path}.{inner}")
            };
            errors.add(full, err.into_inner().to_string());
            None
        }
    }
}

fn plugin_config(node: &Node) -> serde_json::Value {
    match node.to_json() {
        serde_json::Value::Null => serde_json::json!({}),
        other => other,
    }
}

/// The ids of a section's keys (valid or not as components), for checking
/// references against what is declared.
pub(super) fn declared_ids(node: &Node) -> BTreeSet<ComponentId> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .filter_map(|(k, _)| ComponentId::parse(k).ok())
            .collect(),
        _ => BTreeSet::new(),
    }
}

pub(super) fn components<T>(
    section: Option<&Node>,
    name: &str,
    errors: &mut Errors,
    mut each: impl FnMut(&ComponentId, &Node, String, &mut Errors) -> Option<T>,
) -> BTreeMap<ComponentId, T> {
    let mut out = BTreeMap::new();
    let Some(section) = section else { return out };
    for (key, node) in entries(section, name, errors) {
        let path = format!("{name}.{key}");
        match ComponentId::parse(key) {
            Ok(id) => {
                if let Some(value) = each(&id, node, path, errors) {
                    out.insert(id, value);
                }
            }
            Err(message) => errors.add(path, message),
        }
    }
    out
}

fn filelog_checked(c: FileLogConfig, path: &str, errors: &mut Errors) -> Option<FileLogConfig> {
    let before = errors.list.len();
    if c.include.is_empty() {
        errors.add(
            format!("{path}.include"),
            "at least one glob pattern is required",
        );
    }
    for (key, patterns) in [("include", &c.include), ("exclude", &c.exclude)] {
        for (i, pattern) in patterns.iter().enumerate() {
            if let Err(e) = glob::Pattern::new(pattern) {
                errors.add(
                    format!("{path}.{key}[{i}]"),
                    format!("invalid glob `{pattern}`: {e}"),
                );
            }
        }
    }
    if let Some(m) = &c.multiline {
        match (&m.line_start_pattern, &m.line_end_pattern) {
            (Some(p), None) | (None, Some(p)) => {
                if let Err(e) = regex::Regex::new(p) {
                    errors.add(format!("{path}.multiline"), format!("invalid pattern: {e}"));
                }
            }
            _ => errors.add(
                format!("{path}.multiline"),
                "expected exactly one of line_start_pattern or line_end_pattern",
            ),
        }
    }
    (errors.list.len() == before).then_some(c)
}

fn memory_limiter_checked(
    mut c: MemoryLimiterConfig,
    path: &str,
    errors: &mut Errors,
) -> Option<MemoryLimiterConfig> {
    if c.limit_mib.is_none() && c.limit_percentage.is_none() {
        errors.add(path, "expected `limit_mib` or `limit_percentage`");
        return None;
    }
    if let (Some(limit), Some(spike)) = (c.limit_mib, c.spike_limit_mib)
        && spike >= limit
    {
        errors.add(
            format!("{path}.spike_limit_mib"),
            format!("must be less than limit_mib ({spike} >= {limit})"),
        );
        return None;
    }
    if c.limit_percentage.is_some_and(|p| p == 0 || p > 100) {
        errors.add(
            format!("{path}.limit_percentage"),
            "expected a percentage from 1 to 100",
        );
        return None;
    }
    c.check_interval = c.check_interval.or(Some(std::time::Duration::from_secs(1)));
    Some(c)
}

type Pipelines = BTreeMap<PipelineId, PipelineConfig>;

/// What `service:` holds.
#[derive(Default)]
struct ServiceSection {
    pipelines: Pipelines,
    telemetry: TelemetryConfig,
    extensions: Vec<ComponentId>,
    shutdown_timeout: std::time::Duration,
    /// Whether `service.pipelines` was there at all.
    saw_pipelines: Option<()>,
}

/// `service.shutdown_timeout` when not given.
pub const DEFAULT_SHUTDOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn service(
    section: Option<&Node>,
    receivers: &BTreeSet<ComponentId>,
    processors: &BTreeSet<ComponentId>,
    exporters: &BTreeSet<ComponentId>,
    connectors: &BTreeSet<ComponentId>,
    extensions: &BTreeSet<ComponentId>,
    errors: &mut Errors,
) -> ServiceSection {
    let mut out = ServiceSection {
        shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        ..ServiceSection::default()
    };
    let Some(section) = section else {
        return out;
    };
    for (key, node) in entries(section, "service", errors) {
        match key.as_str() {
            "pipelines" => {
                out.saw_pipelines = Some(());
                out.pipelines = pipelines_of(
                    node,
                    "service.pipelines",
                    receivers,
                    processors,
                    exporters,
                    connectors,
                    errors,
                );
            }
            "telemetry" => out.telemetry = telemetry_config(node, errors),
            "shutdown_timeout" => {
                let text = node.to_json();
                match text.as_str().map(super::units::parse_duration) {
                    Some(Ok(d)) => out.shutdown_timeout = d,
                    Some(Err(e)) => errors.add("service.shutdown_timeout", e),
                    None => errors.add(
                        "service.shutdown_timeout",
                        "expected a duration such as `30s`",
                    ),
                }
            }
            "extensions" => {
                out.extensions = super::load_tenancy::service_extensions(node, extensions, errors);
            }
            other => errors.add(
                format!("service.{other}"),
                "unknown key; expected pipelines, extensions, telemetry or shutdown_timeout",
            ),
        }
    }
    out
}

/// A map of pipeline ids to pipelines (`service.pipelines`, or a tenant's).
fn pipelines_of(
    node: &Node,
    at: &str,
    receivers: &BTreeSet<ComponentId>,
    processors: &BTreeSet<ComponentId>,
    exporters: &BTreeSet<ComponentId>,
    connectors: &BTreeSet<ComponentId>,
    errors: &mut Errors,
) -> Pipelines {
    let mut pipelines = BTreeMap::new();
    for (id, node) in entries(node, at, errors) {
        let path = format!("{at}.{id}");
        let Some(pipeline_id) = pipeline_id(id, &path, errors) else {
            continue;
        };
        if let Some(p) = pipeline(
            node, &path, receivers, processors, exporters, connectors, errors,
        ) {
            pipelines.insert(pipeline_id, p);
        }
    }
    pipelines
}

fn pipeline_id(id: &str, path: &str, errors: &mut Errors) -> Option<PipelineId> {
    let (signal, name) = match id.split_once('/') {
        Some((s, n)) => (s, Some(n.to_string())),
        None => (id, None),
    };
    let signal = match signal {
        "traces" => Signal::Traces,
        "metrics" => Signal::Metrics,
        "logs" => Signal::Logs,
        other => {
            errors.add(
                path,
                format!(
                    "unknown signal `{other}`; a pipeline id is traces, metrics or logs[/name]"
                ),
            );
            return None;
        }
    };
    if name.as_deref() == Some("") {
        errors.add(path, "the name after `/` must not be empty");
        return None;
    }
    Some(PipelineId { signal, name })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    #[serde(default)]
    receivers: Vec<String>,
    #[serde(default)]
    processors: Vec<String>,
    #[serde(default)]
    exporters: Vec<String>,
    #[serde(default)]
    error_mode: ErrorMode,
}

fn pipeline(
    node: &Node,
    path: &str,
    receivers: &BTreeSet<ComponentId>,
    processors: &BTreeSet<ComponentId>,
    exporters: &BTreeSet<ComponentId>,
    connectors: &BTreeSet<ComponentId>,
    errors: &mut Errors,
) -> Option<PipelineConfig> {
    let raw = typed::<RawPipeline>(node, path, errors)?;
    let before = errors.list.len();
    // A connector may stand among the receivers and the exporters; it is
    // kept apart (with its index) from the components of that kind.
    let mut connected = Vec::new();
    let mut resolve = |list: &[String], kind: &str, defined: &dyn Fn(&ComponentId) -> bool| {
        let mut ids = Vec::new();
        let mut via = Vec::new();
        if list.is_empty() && kind != "processors" {
            errors.add(
                format!("{path}.{kind}"),
                format!("expected at least one of the {kind} defined above"),
            );
        }
        for (i, text) in list.iter().enumerate() {
            let at = format!("{path}.{kind}[{i}]");
            match ComponentId::parse(text) {
                Ok(id) if kind != "processors" && connectors.contains(&id) => {
                    if via.iter().any(|c: &ConnectorUse| c.id == id) {
                        errors.add(at, format!("`{id}` is listed twice"));
                    } else {
                        via.push(ConnectorUse { id, index: i });
                    }
                }
                Ok(id) if defined(&id) => {
                    if ids.contains(&id) {
                        errors.add(at, format!("`{id}` is listed twice"));
                    } else {
                        ids.push(id);
                    }
                }
                Ok(id) if path.starts_with("tenants.") => errors.add(
                    at,
                    format!("`{id}` is not defined under `{kind}:` nor the tenant's own `{kind}:`"),
                ),
                Ok(id) => errors.add(at, format!("`{id}` is not defined under `{kind}:`")),
                Err(message) => errors.add(at, message),
            }
        }
        connected.push(via);
        ids
    };
    let receivers = resolve(&raw.receivers, "receivers", &|id| receivers.contains(id));
    let processor_ids = resolve(&raw.processors, "processors", &|id| processors.contains(id));
    let exporters = resolve(&raw.exporters, "exporters", &|id| exporters.contains(id));
    let to_connectors = connected.pop().unwrap_or_default();
    connected.pop();
    let from_connectors = connected.pop().unwrap_or_default();
    let batches = processor_ids.iter().filter(|id| id.kind == "batch").count();
    if batches > 1 {
        errors.add(
            format!("{path}.processors"),
            "at most one batch processor per pipeline",
        );
    }
    (errors.list.len() == before).then_some(PipelineConfig {
        receivers,
        processors: processor_ids,
        exporters,
        error_mode: raw.error_mode,
        from_connectors,
        to_connectors,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTelemetry {
    #[serde(default)]
    metrics: RawTelemetryMetrics,
    #[serde(default)]
    logs: RawTelemetryLogs,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTelemetryMetrics {
    address: Option<String>,
    level: Option<String>,
    /// The Go collector's newer shape: `readers: [{pull: {exporter:
    /// {prometheus: {host, port}}}}]`.
    readers: Option<Vec<RawReader>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReader {
    pull: RawPullReader,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPullReader {
    exporter: RawPullExporter,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPullExporter {
    prometheus: RawPrometheusReader,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrometheusReader {
    #[serde(default = "loopback")]
    host: String,
    #[serde(default = "telemetry_port")]
    port: u16,
}

fn loopback() -> String {
    "127.0.0.1".into()
}

fn telemetry_port() -> u16 {
    8888
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTelemetryLogs {
    level: Option<String>,
    encoding: Option<String>,
}

fn telemetry_config(node: &Node, errors: &mut Errors) -> TelemetryConfig {
    let mut out = TelemetryConfig::default();
    let Some(raw) = typed::<RawTelemetry>(node, "service.telemetry", errors) else {
        return out;
    };
    if let Some(address) = raw.metrics.address {
        out.metrics_address = Some(address);
    }
    match raw.metrics.readers.as_deref() {
        None => {}
        Some([reader]) => {
            let prometheus = &reader.pull.exporter.prometheus;
            let host = match prometheus.host.as_str() {
                // `host: ""` in the Go collector means every interface.
                "" => "0.0.0.0",
                host => host,
            };
            out.metrics_address = Some(if host.contains(':') {
                format!("[{host}]:{}", prometheus.port)
            } else {
                format!("{host}:{}", prometheus.port)
            });
        }
        Some(_) => errors.add(
            "service.telemetry.metrics.readers",
            "expected one pull reader (the admin endpoint serves one /metrics)".to_string(),
        ),
    }
    match raw.metrics.level.as_deref() {
        None | Some("basic" | "normal" | "detailed") => {}
        Some("none") => out.metrics_address = None,
        Some(other) => errors.add(
            "service.telemetry.metrics.level",
            format!("unknown level `{other}`; expected none, basic, normal or detailed"),
        ),
    }
    match raw.logs.level.as_deref() {
        None => {}
        Some(level @ ("debug" | "info" | "warn" | "error")) => out.log_level = level.into(),
        Some(other) => errors.add(
            "service.telemetry.logs.level",
            format!("unknown level `{other}`; expected debug, info, warn or error"),
        ),
    }
    match raw.logs.encoding.as_deref() {
        None | Some("console") => {}
        Some("json") => out.log_json = true,
        Some(other) => errors.add(
            "service.telemetry.logs.encoding",
            format!("unknown encoding `{other}`; expected console or json"),
        ),
    }
    out
}
