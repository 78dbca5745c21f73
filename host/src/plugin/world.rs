//! The two plugin worlds as the host calls them: instantiate and `init`
//! for each, the call context, and signal conversions.

use wasmtime::Store;

use super::bindings::types::{Context, ExporterInfo, PluginError, ProcessorInfo};
use super::bindings::{ExporterPlugin, ExporterPluginPre, ProcessorPlugin, ProcessorPluginPre};
use super::state::PluginState;
use crate::Signal;

pub use super::bindings::types::Signal as WitSignal;

/// Where a batch comes from, as plugins see it.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    pub tenant: String,
    pub environment: String,
    pub pipeline: String,
    pub metadata: Vec<(String, String)>,
}

impl CallContext {
    pub(super) fn to_wit(&self) -> Context {
        Context {
            tenant: self.tenant.clone(),
            environment: self.environment.clone(),
            pipeline: self.pipeline.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

pub(super) fn to_wit_signal(signal: Signal) -> WitSignal {
    match signal {
        Signal::Traces => WitSignal::Traces,
        Signal::Metrics => WitSignal::Metrics,
        Signal::Logs => WitSignal::Logs,
    }
}

pub(super) fn from_wit_signal(signal: WitSignal) -> Signal {
    match signal {
        WitSignal::Traces => Signal::Traces,
        WitSignal::Metrics => Signal::Metrics,
        WitSignal::Logs => Signal::Logs,
    }
}

/// A world (processor or exporter) as the pool needs to know it.
pub trait World: Send + Sync + 'static {
    type Pre: Send + Sync + 'static;
    type Bindings: Send + 'static;
    type Info: Clone + Send + Sync + 'static;
    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<PluginState>,
    ) -> wasmtime::Result<Self::Bindings>;
    fn init(
        bindings: &Self::Bindings,
        store: &mut Store<PluginState>,
        config_json: &str,
    ) -> wasmtime::Result<Result<Self::Info, PluginError>>;
}

pub enum ProcessorWorld {}
impl World for ProcessorWorld {
    type Pre = ProcessorPluginPre<PluginState>;
    type Bindings = ProcessorPlugin;
    type Info = ProcessorInfo;
    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<PluginState>,
    ) -> wasmtime::Result<ProcessorPlugin> {
        pre.instantiate(store)
    }
    fn init(
        b: &ProcessorPlugin,
        store: &mut Store<PluginState>,
        config_json: &str,
    ) -> wasmtime::Result<Result<ProcessorInfo, PluginError>> {
        b.weir_plugin_processor().call_init(store, config_json)
    }
}

pub enum ExporterWorld {}
impl World for ExporterWorld {
    type Pre = ExporterPluginPre<PluginState>;
    type Bindings = ExporterPlugin;
    type Info = ExporterInfo;
    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<PluginState>,
    ) -> wasmtime::Result<ExporterPlugin> {
        pre.instantiate(store)
    }
    fn init(
        b: &ExporterPlugin,
        store: &mut Store<PluginState>,
        config_json: &str,
    ) -> wasmtime::Result<Result<ExporterInfo, PluginError>> {
        b.weir_plugin_exporter().call_init(store, config_json)
    }
}
