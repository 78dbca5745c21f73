//! The plugin runtime: one wasmtime [`Engine`](wasmtime::Engine), each
//! component compiled once, instances made from `InstancePre` and pooled.
//! Every call runs under an epoch deadline and a memory cap; a call that
//! traps, times out or hits the cap fails alone and its instance is replaced.

mod bindings;
mod engine;
mod error;
mod host_api;
mod limits;
mod pool;
mod registry;
mod state;

pub use engine::{Compiled, PluginEngine};
pub use error::{CallError, LoadError};
pub use limits::PluginLimits;
pub use pool::{CallContext, ExporterPool, ProcessorPool};
pub use registry::{BUILTIN_EXPORTERS, BUILTIN_PROCESSORS, PluginSource, builtin_bytes};

/// What an exporter plugin declares once configured.
pub use bindings::types::{Destination, ExporterInfo, Outgoing, ProcessorInfo, Signals};
