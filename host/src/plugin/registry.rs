//! Where a processor or exporter `type` finds its component: a built-in
//! plugin embedded in the binary, or a `.wasm` named under `plugins:`.

use std::path::PathBuf;
use std::time::Duration;

use super::limits::PluginLimits;

/// Processor types served by built-in plugins.
pub const BUILTIN_PROCESSORS: &[&str] = &[
    "attributes",
    "resource",
    "resourcedetection",
    "transform",
    "filter",
    "probabilistic_sampler",
    "tail_sampling",
];
/// Exporter types served by built-in plugins.
pub const BUILTIN_EXPORTERS: &[&str] = &[
    "debug",
    "file",
    "otlp",
    "otlphttp",
    "loki",
    "prometheusremotewrite",
    "prometheus",
];

/// Connector types served by built-in plugins.
pub const BUILTIN_CONNECTORS: &[&str] = &["spanmetrics"];

/// The limits a built-in runs under unless `plugins.<type>.limits` says
/// otherwise. A tail sampler's memory is the traces it holds, so it gets
/// room for `num_traces` (50,000 by default) and time to flush them; the
/// `prometheus` exporter keeps delta totals, so it runs one instance.
pub fn builtin_limits(name: &str) -> PluginLimits {
    match name {
        "tail_sampling" => PluginLimits {
            memory_mib: 1024,
            timeout: Duration::from_secs(10),
            ..PluginLimits::default()
        },
        // One instance: it keeps the running totals of delta series.
        "prometheus" => PluginLimits {
            max_instances: 1,
            ..PluginLimits::default()
        },
        _ => PluginLimits::default(),
    }
}

/// Where a plugin's component comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PluginSource {
    /// Embedded in the binary.
    Builtin(&'static str),
    /// A component file named in config.
    File(PathBuf),
}

/// The embedded component of a built-in plugin.
pub fn builtin_bytes(name: &str) -> Option<&'static [u8]> {
    match name {
        "attributes" => Some(include_bytes!(env!("WEIR_PLUGIN_ATTRIBUTES"))),
        "resource" => Some(include_bytes!(env!("WEIR_PLUGIN_RESOURCE"))),
        // The host detects and configures the `resource` plugin with the
        // result (see `config::resourcedetection`).
        "resourcedetection" => Some(include_bytes!(env!("WEIR_PLUGIN_RESOURCE"))),
        "probabilistic_sampler" => Some(include_bytes!(env!("WEIR_PLUGIN_PROBABILISTIC_SAMPLER"))),
        "tail_sampling" => Some(include_bytes!(env!("WEIR_PLUGIN_TAIL_SAMPLING"))),
        "transform" => Some(include_bytes!(env!("WEIR_PLUGIN_TRANSFORM"))),
        "filter" => Some(include_bytes!(env!("WEIR_PLUGIN_FILTER"))),
        "debug" => Some(include_bytes!(env!("WEIR_PLUGIN_DEBUG"))),
        "file" => Some(include_bytes!(env!("WEIR_PLUGIN_FILE"))),
        "otlp" => Some(include_bytes!(env!("WEIR_PLUGIN_OTLP"))),
        "otlphttp" => Some(include_bytes!(env!("WEIR_PLUGIN_OTLPHTTP"))),
        "loki" => Some(include_bytes!(env!("WEIR_PLUGIN_LOKI"))),
        "prometheusremotewrite" => Some(include_bytes!(env!("WEIR_PLUGIN_PROMETHEUSREMOTEWRITE"))),
        "prometheus" => Some(include_bytes!(env!("WEIR_PLUGIN_PROMETHEUS"))),
        "spanmetrics" => Some(include_bytes!(env!("WEIR_PLUGIN_SPANMETRICS"))),
        _ => None,
    }
}
