//! The Weir plugin SDK: WIT bindings for the plugin worlds, OTLP request
//! types with decode/encode helpers, and attribute helpers.
//!
//! A processor implements [`processor::Guest`] and exports it with
//! [`export_processor!`]; an exporter implements [`exporter::Guest`] and
//! uses [`export_exporter!`]; a connector implements [`connector::Guest`]
//! and uses [`export_connector!`]. Keep the plugin's logic in plain functions over
//! the decoded types so that its unit tests run natively (host imports such
//! as `counter-add` only work inside the sandbox).

pub mod actions;
pub mod attributes;
mod bindings;
pub mod config;
pub mod duration;
pub mod headers;
pub mod otlp;
pub mod otlp_json;
pub mod prometheus;

pub use bindings::{connector, exporter, processor};
/// Editing requests on the wire format without decoding them: walk to each
/// item, copy what stays, rewrite only what changes (`wire::edit_items`).
pub use weir_wire as wire;

/// Exports a type implementing [`processor::Guest`] as this component's
/// `weir:plugin/processor` interface.
///
/// ```ignore
/// struct MyProcessor;
/// impl weir_plugin_sdk::processor::Guest for MyProcessor { /* init, process, tick, flush */ }
/// weir_plugin_sdk::export_processor!(MyProcessor);
/// ```
#[macro_export]
macro_rules! export_processor {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::processor::export!($ty with_types_in $crate::processor);
        // Natively (unit tests) nothing is exported: the export names contain
        // `:`, which native linkers refuse. Still check the impl exists.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$ty as $crate::processor::Guest>::init;
        };
    };
}

/// Exports a type implementing [`connector::Guest`] as this component's
/// `weir:plugin/connector` interface.
///
/// ```ignore
/// struct MyConnector;
/// impl weir_plugin_sdk::connector::Guest for MyConnector { /* init, consume, tick, flush */ }
/// weir_plugin_sdk::export_connector!(MyConnector);
/// ```
#[macro_export]
macro_rules! export_connector {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::connector::export!($ty with_types_in $crate::connector);
        // Natively (unit tests) nothing is exported: the export names contain
        // `:`, which native linkers refuse. Still check the impl exists.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$ty as $crate::connector::Guest>::init;
        };
    };
}

/// Exports a type implementing [`exporter::Guest`] as this component's
/// `weir:plugin/exporter` interface.
///
/// ```ignore
/// struct MyExporter;
/// impl weir_plugin_sdk::exporter::Guest for MyExporter { /* init, encode */ }
/// weir_plugin_sdk::export_exporter!(MyExporter);
/// ```
#[macro_export]
macro_rules! export_exporter {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::exporter::export!($ty with_types_in $crate::exporter);
        // Natively (unit tests) nothing is exported: the export names contain
        // `:`, which native linkers refuse. Still check the impl exists.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$ty as $crate::exporter::Guest>::init;
        };
    };
}
