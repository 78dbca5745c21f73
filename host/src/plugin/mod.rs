//! The plugin runtime: one wasmtime [`Engine`](wasmtime::Engine), each
//! component compiled once, instances made from `InstancePre` and pooled.
//! Every call runs under an epoch deadline and a memory cap; a call that
//! traps, times out or hits the cap fails alone and its instance is replaced.

mod bindings;
mod blocking;
pub mod capabilities;
mod connector;
mod disk_cache;
mod engine;
mod error;
mod host_api;
mod inspect;
mod instance;
mod limits;
mod pool;
mod registry;
mod state;
mod stateful;
mod world;

pub use blocking::run_blocking;
pub use capabilities::{FileGrant, Grants};
pub use connector::{ConnectorFactory, ConnectorInstance, Emissions};
pub use disk_cache::{CACHE_ENV, DiskCache};
pub use engine::{Compiled, CompiledFrom, PluginEngine, sha256_hex};
pub use error::{CallError, LoadError};
pub use inspect::{Inspection, Started, inspect};
pub use limits::PluginLimits;
pub use pool::{ExporterPool, ProcessorPool};
pub use registry::{
    BUILTIN_CONNECTORS, BUILTIN_EXPORTERS, BUILTIN_PROCESSORS, PluginSource, builtin_bytes,
    builtin_limits,
};
pub use state::instance_memory_bytes;
pub use stateful::{Outputs, StatefulInstance};
pub use world::CallContext;

/// What an exporter plugin declares once configured.
pub use bindings::ConnectorInfo;
pub use bindings::types::{Destination, ExporterInfo, Outgoing, ProcessorInfo, Signals};
