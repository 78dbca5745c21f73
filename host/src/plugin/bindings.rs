//! The `bindgen!` calls for the plugin contract in `wit/`, and nothing else.

mod processor_world {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "processor-plugin",
    });
}

mod exporter_world {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "exporter-plugin",
        with: {
            "weir:plugin/types": super::processor_world::weir::plugin::types,
            "weir:plugin/host": super::processor_world::weir::plugin::host,
        },
    });
}

mod connector_world {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "connector-plugin",
        with: {
            "weir:plugin/types": super::processor_world::weir::plugin::types,
            "weir:plugin/host": super::processor_world::weir::plugin::host,
        },
    });
}

pub use connector_world::exports::weir::plugin::connector::{ConnectorInfo, Emitted};
pub use connector_world::{ConnectorPlugin, ConnectorPluginPre};
pub use exporter_world::{ExporterPlugin, ExporterPluginPre};
pub use processor_world::weir::plugin::{host, types};
pub use processor_world::{ProcessorPlugin, ProcessorPluginPre};
