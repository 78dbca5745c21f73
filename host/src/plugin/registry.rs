//! Where a processor or exporter `type` finds its component: a built-in
//! plugin embedded in the binary, or a `.wasm` named under `plugins:`.

use std::path::PathBuf;

/// Processor types served by built-in plugins.
pub const BUILTIN_PROCESSORS: &[&str] = &["attributes", "transform", "filter"];
/// Exporter types served by built-in plugins.
pub const BUILTIN_EXPORTERS: &[&str] = &["debug", "file"];

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
        "transform" => Some(include_bytes!(env!("WEIR_PLUGIN_TRANSFORM"))),
        "filter" => Some(include_bytes!(env!("WEIR_PLUGIN_FILTER"))),
        "debug" => Some(include_bytes!(env!("WEIR_PLUGIN_DEBUG"))),
        "file" => Some(include_bytes!(env!("WEIR_PLUGIN_FILE"))),
        _ => None,
    }
}
