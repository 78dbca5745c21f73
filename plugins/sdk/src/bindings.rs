//! The `wit-bindgen` calls, one per world, and nothing else.
//!
//! Each world is generated into its own module. `pub_export_macro` makes the
//! `export!` macro usable from plugin crates and moves the custom section that
//! describes the world's exports into that macro's expansion, so a plugin only
//! carries the world it exports.
#![allow(unsafe_code)]

/// Bindings for the `processor-plugin` world.
pub mod processor {
    wit_bindgen::generate!({
        world: "processor-plugin",
        path: "../../wit",
        pub_export_macro: true,
        default_bindings_module: "$crate::processor",
    });

    pub use exports::weir::plugin::processor::Guest;
    pub use weir::plugin::host;
    pub use weir::plugin::types::{Batch, Context, PluginError, ProcessorInfo, Signal, Signals};
}

/// Bindings for the `exporter-plugin` world.
pub mod exporter {
    wit_bindgen::generate!({
        world: "exporter-plugin",
        path: "../../wit",
        pub_export_macro: true,
        default_bindings_module: "$crate::exporter",
    });

    pub use exports::weir::plugin::exporter::Guest;
    pub use weir::plugin::host;
    pub use weir::plugin::types::{
        Batch, Context, Destination, ExporterInfo, Outgoing, PluginError, Signal, Signals,
    };
}

/// Bindings for the `connector-plugin` world.
pub mod connector {
    wit_bindgen::generate!({
        world: "connector-plugin",
        path: "../../wit",
        pub_export_macro: true,
        default_bindings_module: "$crate::connector",
    });

    pub use exports::weir::plugin::connector::{ConnectorInfo, Emitted, Guest};
    pub use weir::plugin::host;
    pub use weir::plugin::types::{Batch, Context, PluginError, Signal, Signals};
}
