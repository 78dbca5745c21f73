//! The plugin runtime: one wasmtime [`Engine`](wasmtime::Engine), each
//! component compiled once, instances made from `InstancePre` and pooled.
//! Every call runs under an epoch deadline and a memory cap; a call that
//! traps, times out or hits the cap fails alone and its instance is replaced.

mod bindings;
mod connector;
mod engine;
mod error;
mod host_api;
mod instance;
mod limits;
mod pool;
mod registry;
mod state;
mod stateful;
mod world;

pub use connector::{ConnectorFactory, ConnectorInstance, Emissions};
pub use engine::{Compiled, PluginEngine};
pub use error::{CallError, LoadError};
pub use limits::PluginLimits;
pub use pool::{ExporterPool, ProcessorPool};
pub use registry::{
    BUILTIN_CONNECTORS, BUILTIN_EXPORTERS, BUILTIN_PROCESSORS, PluginSource, builtin_bytes,
    builtin_limits,
};
pub use stateful::{Outputs, StatefulInstance};
pub use world::CallContext;

/// What an exporter plugin declares once configured.
pub use bindings::ConnectorInfo;
pub use bindings::types::{Destination, ExporterInfo, Outgoing, ProcessorInfo, Signals};
