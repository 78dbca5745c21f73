//! The validated configuration the service is built from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::extensions::ExtensionConfig;
use super::receiver::OtlpReceiverConfig;
use super::tenancy::{TenancyConfig, TenantConfig};
use crate::Signal;
use crate::plugin::{Grants, PluginLimits, PluginSource};

/// A component id: `type` or `type/name`, as in `attributes/add_client_tag`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId {
    pub kind: String,
    pub name: Option<String>,
}

impl ComponentId {
    /// Parses `type[/name]`; the type is a word of letters, digits and `_`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (kind, name) = match text.split_once('/') {
            Some((kind, name)) => (kind, Some(name)),
            None => (text, None),
        };
        let kind_ok = kind.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !kind_ok {
            return Err(format!(
                "`{text}` is not a component id: expected `type` or `type/name`, the type made of letters, digits and `_`"
            ));
        }
        if let Some(name) = name
            && (name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '.'))
        {
            return Err(format!(
                "`{text}`: the name after `/` must be non-empty, without spaces or dots"
            ));
        }
        Ok(ComponentId {
            kind: kind.to_string(),
            name: name.map(str::to_string),
        })
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{}/{name}", self.kind),
            None => f.write_str(&self.kind),
        }
    }
}

/// A pipeline id: `traces`, `metrics/tagged`, ...
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PipelineId {
    pub signal: Signal,
    pub name: Option<String>,
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{}/{name}", self.signal),
            None => f.write_str(self.signal.as_str()),
        }
    }
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (or `<default>` for the embedded config).
    pub file: PathBuf,
    /// The environment name from `--env`, passed to plugins.
    pub environment: String,
    pub receivers: BTreeMap<ComponentId, ReceiverConfig>,
    pub processors: BTreeMap<ComponentId, ProcessorConfig>,
    pub exporters: BTreeMap<ComponentId, ExporterConfig>,
    /// `connectors:`: plugins that are the exporter of some pipelines and
    /// the receiver of others (`spanmetrics`).
    pub connectors: BTreeMap<ComponentId, ConnectorConfig>,
    /// Plugin types by name: built-ins, and those declared under `plugins:`.
    pub plugins: BTreeMap<String, PluginSpec>,
    pub pipelines: BTreeMap<PipelineId, PipelineConfig>,
    pub telemetry: TelemetryConfig,
    /// `extensions:` (authenticators), by id.
    pub extensions: BTreeMap<ComponentId, ExtensionConfig>,
    /// `service.extensions`: the extensions turned on.
    pub service_extensions: Vec<ComponentId>,
    /// `service.shutdown_timeout` (Weir's own key, default 30s): how long
    /// SIGTERM/SIGINT waits for batches to flush and sending queues to
    /// drain; a persistent queue keeps what is left for the next start.
    pub shutdown_timeout: std::time::Duration,
    /// `tenancy:`: how a request's tenant is found.
    pub tenancy: TenancyConfig,
    /// `tenants:`: per tenant, its own pipelines and budgets.
    pub tenants: BTreeMap<String, TenantConfig>,
    /// Where each key sits in the file, so that errors found later (a
    /// plugin refusing its settings) can name the line.
    pub lines: Lines,
}

/// The line of each key path in the config, and the environment's overlay
/// file when one was merged over it (the keys that came from it are there).
#[derive(Debug, Clone, Default)]
pub struct Lines(Option<std::sync::Arc<(super::tree::Node, Option<PathBuf>)>>);

impl Lines {
    pub(super) fn new(root: super::tree::Node, overlay: Option<PathBuf>) -> Lines {
        Lines(Some(std::sync::Arc::new((root, overlay))))
    }

    /// The file the key at `path` came from: the overlay's, or `base`.
    pub fn file_of(&self, path: &str, base: &std::path::Path) -> PathBuf {
        match self.0.as_deref() {
            Some((root, Some(overlay))) if root.is_from_overlay(path) => overlay.clone(),
            _ => base.to_path_buf(),
        }
    }

    /// The line of the key at a dotted path such as
    /// `processors.transform.metric_statements[0].statements[1]` (or of
    /// the deepest key on the way that exists).
    pub fn line_of(&self, path: &str) -> Option<usize> {
        self.0.as_ref().and_then(|lines| lines.0.line_of(path))
    }
}

impl Config {
    /// The processor `id` as the pipelines of `tenant` (`None`: the
    /// service's) see it: the tenant's own definition, else the top-level
    /// one; with the key path it is defined at.
    pub fn processor_in(
        &self,
        tenant: Option<&str>,
        id: &ComponentId,
    ) -> Option<(&ProcessorConfig, String)> {
        let own = tenant.and_then(|t| self.tenants.get(t).map(|c| (t, c)));
        if let Some((t, c)) = own
            && let Some(p) = c.processors.get(id)
        {
            return Some((p, format!("tenants.{t}.processors.{id}")));
        }
        self.processors
            .get(id)
            .map(|p| (p, format!("processors.{id}")))
    }

    /// The exporter `id` as the pipelines of `tenant` see it (see
    /// [`Config::processor_in`]).
    pub fn exporter_in(
        &self,
        tenant: Option<&str>,
        id: &ComponentId,
    ) -> Option<(&ExporterConfig, String)> {
        let own = tenant.and_then(|t| self.tenants.get(t).map(|c| (t, c)));
        if let Some((t, c)) = own
            && let Some(e) = c.exporters.get(id)
        {
            return Some((e, format!("tenants.{t}.exporters.{id}")));
        }
        self.exporters
            .get(id)
            .map(|e| (e, format!("exporters.{id}")))
    }

    /// The extensions `service.extensions` turns on, with their settings.
    pub fn enabled_extensions(&self) -> impl Iterator<Item = (&ComponentId, &ExtensionConfig)> {
        self.service_extensions
            .iter()
            .filter_map(|id| self.extensions.get(id).map(|e| (id, e)))
    }
}

/// A receiver's settings, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum ReceiverConfig {
    Otlp(OtlpReceiverConfig),
    /// Native: scrapes the host's CPU, memory, disk, network and load.
    HostMetrics(super::hostmetrics::HostMetricsConfig),
    /// Native: tails files as log records.
    FileLog(super::filelog::FileLogConfig),
}

/// A processor's settings, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessorConfig {
    /// The host's batcher.
    Batch(BatchConfig),
    /// The host's memory gate.
    MemoryLimiter(MemoryLimiterConfig),
    /// A processor served by a plugin; `config` is its YAML block as JSON.
    Plugin {
        plugin: String,
        config: serde_json::Value,
    },
}

/// An exporter: a plugin (the encoder) and its YAML block, which also holds
/// the host-owned delivery keys (`path` for file destinations).
#[derive(Debug, Clone, PartialEq)]
pub struct ExporterConfig {
    pub plugin: String,
    pub config: serde_json::Value,
}

/// A connector: a plugin (`connector-plugin` world) and its YAML block.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorConfig {
    pub plugin: String,
    pub config: serde_json::Value,
}

/// A connector named in a pipeline's `receivers` or `exporters`, and its
/// index in that list (for error paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorUse {
    pub id: ComponentId,
    pub index: usize,
}

/// Where a plugin type's component comes from, its limits, what it is
/// granted beyond the host API, and the digest it is pinned to.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    pub source: PluginSource,
    pub limits: PluginLimits,
    pub grants: Grants,
    /// Lower-case hex SHA-256 the component's bytes must have.
    pub sha256: Option<String>,
}

/// One entry of `service.pipelines`.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// Receivers (not connectors) it takes data from.
    pub receivers: Vec<ComponentId>,
    pub processors: Vec<ComponentId>,
    /// Exporters (not connectors) it sends data to.
    pub exporters: Vec<ComponentId>,
    pub error_mode: ErrorMode,
    /// Connectors listed under `receivers`: what they emit enters here.
    pub from_connectors: Vec<ConnectorUse>,
    /// Connectors listed under `exporters`: they consume what leaves here.
    pub to_connectors: Vec<ConnectorUse>,
}

/// What a pipeline does with a batch whose processor call failed (trap,
/// timeout, memory cap, or the plugin rejected it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ErrorMode {
    /// Pass the batch on unchanged and log the failure (default).
    #[default]
    Ignore,
    /// Pass the batch on unchanged without logging.
    Silent,
    /// Stop the batch: refused to the client (`INVALID_ARGUMENT` / 400)
    /// when it fails before batching, dropped and counted after it.
    Propagate,
}

/// `processors: batch`: the Go collector's batch processor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// Items that trigger sending a batch before `timeout`; 0 sends only on timeout. Default 8192.
    pub send_batch_size: usize,
    /// Most items in one batch; larger batches are split. 0 = no limit (default).
    pub send_batch_max_size: usize,
    /// Longest a partial batch waits before it is sent. Default `200ms`.
    #[serde(deserialize_with = "super::units::duration")]
    pub timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            send_batch_size: 8192,
            send_batch_max_size: 0,
            timeout: Duration::from_millis(200),
        }
    }
}

/// `processors: memory_limiter`. Weir accounts the exact bytes pipelines
/// hold; a request that would take them past `limit - spike_limit` is
/// refused with `RESOURCE_EXHAUSTED` / 429 and a retry hint.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryLimiterConfig {
    /// Accepted for compatibility: accounting is exact, there is nothing to poll.
    #[serde(deserialize_with = "super::units::opt_duration")]
    pub check_interval: Option<Duration>,
    /// Hard limit, MiB.
    pub limit_mib: Option<u64>,
    /// Headroom kept below the limit, MiB. Default 20% of the limit.
    pub spike_limit_mib: Option<u64>,
    /// Limit as a percentage of the machine's (or cgroup's) memory.
    pub limit_percentage: Option<u64>,
    /// Headroom as a percentage of the machine's memory.
    pub spike_limit_percentage: Option<u64>,
}

/// `service.telemetry`: where the collector reports about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryConfig {
    /// `metrics.address`: where `/metrics` is served; `None` when `metrics.level: none`.
    pub metrics_address: Option<String>,
    /// `logs.level`: `debug`, `info` (default), `warn`, `error`.
    pub log_level: String,
    /// `logs.encoding`: `console` (default) or `json`.
    pub log_json: bool,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            metrics_address: Some("127.0.0.1:8888".into()),
            log_level: "info".into(),
            log_json: false,
        }
    }
}
