//! Connector plugins (`connector-plugin` world): a factory that checks the
//! config once and makes one instance per connector and tenant, and that
//! instance's calls. Like a stateful processor, an instance is never
//! pooled or recycled (its memory is its state); its calls are blocking
//! (run them on a blocking thread), and one that traps ends the instance,
//! which the caller must count and replace.

use std::sync::{Arc, Mutex};

use wasmtime::Engine;
use wasmtime::Store;

use super::bindings::types::{Batch as WitBatch, PluginError};
use super::bindings::{ConnectorInfo, ConnectorPlugin, ConnectorPluginPre, Emitted};
use super::capabilities::Grants;
use super::error::{CallError, LoadError};
use super::instance::{Instance, StartError, new_instance};
use super::limits::PluginLimits;
use super::pool::count_call;
use super::state::PluginState;
use super::world::{CallContext, World, from_wit_signal, to_wit_signal};
use crate::Signal;

/// What a connector emitted: (signal, OTLP request bytes, target pipeline id).
pub type Emissions = Vec<(Signal, Vec<u8>, Option<String>)>;

pub enum ConnectorWorld {}
impl World for ConnectorWorld {
    type Pre = ConnectorPluginPre<PluginState>;
    type Bindings = ConnectorPlugin;
    type Info = ConnectorInfo;
    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<PluginState>,
    ) -> wasmtime::Result<ConnectorPlugin> {
        pre.instantiate(store)
    }
    fn init(
        b: &ConnectorPlugin,
        store: &mut Store<PluginState>,
        config_json: &str,
    ) -> wasmtime::Result<Result<ConnectorInfo, PluginError>> {
        b.weir_plugin_connector().call_init(store, config_json)
    }
}

/// Makes the instances of one configured connector.
#[derive(Clone)]
pub struct ConnectorFactory {
    shared: Arc<Shared>,
}

struct Shared {
    engine: Engine,
    pre: ConnectorPluginPre<PluginState>,
    component: Arc<str>,
    config_json: String,
    limits: PluginLimits,
    grants: Grants,
    info: ConnectorInfo,
    /// The instance started to check the config, handed out first.
    first: Mutex<Option<Instance<ConnectorWorld>>>,
}

impl ConnectorFactory {
    /// Starts the first instance (running `init`), so a bad config is reported now.
    pub(super) fn start(
        engine: Engine,
        pre: ConnectorPluginPre<PluginState>,
        component_id: &str,
        config_json: String,
        limits: PluginLimits,
        grants: Grants,
    ) -> Result<Self, LoadError> {
        let component: Arc<str> = Arc::from(component_id);
        let (instance, info) = new_instance::<ConnectorWorld>(
            &engine,
            &pre,
            &component,
            &config_json,
            &limits,
            &grants,
        )
        .map_err(|e| match e {
            StartError::Config(msg) => LoadError::InvalidConfig(msg),
            StartError::Failed(reason) => LoadError::Start {
                name: component_id.into(),
                reason,
            },
        })?;
        Ok(ConnectorFactory {
            shared: Arc::new(Shared {
                engine,
                pre,
                component,
                config_json,
                limits,
                grants,
                info,
                first: Mutex::new(Some(instance)),
            }),
        })
    }

    /// What the plugin said about itself at `init`.
    pub fn info(&self) -> &ConnectorInfo {
        &self.shared.info
    }

    /// A new instance with its own state (blocking: may instantiate and run `init`).
    pub fn instance(&self) -> Result<ConnectorInstance, CallError> {
        let shared = &self.shared;
        let first = shared.first.lock().expect("first lock").take();
        let instance = match first {
            Some(instance) => instance,
            None => {
                new_instance::<ConnectorWorld>(
                    &shared.engine,
                    &shared.pre,
                    &shared.component,
                    &shared.config_json,
                    &shared.limits,
                    &shared.grants,
                )
                .map_err(|e| CallError::Start(e.to_string()))?
                .0
            }
        };
        Ok(ConnectorInstance {
            instance,
            limits: shared.limits,
            component: shared.component.clone(),
        })
    }
}

/// One tenant's connector instance.
pub struct ConnectorInstance {
    instance: Instance<ConnectorWorld>,
    limits: PluginLimits,
    component: Arc<str>,
}

impl ConnectorInstance {
    /// `consume`: a batch of a pipeline the connector is an exporter of.
    pub fn consume(
        &mut self,
        ctx: &CallContext,
        signal: Signal,
        payload: Vec<u8>,
    ) -> Result<Emissions, CallError> {
        let ctx = ctx.to_wit();
        let batch = WitBatch {
            signal: to_wit_signal(signal),
            payload,
        };
        let result = self.instance.call(&self.limits, |b, store| {
            b.weir_plugin_connector().call_consume(store, &ctx, &batch)
        });
        self.finish("consume", result)
    }

    /// `tick`: emit what is due at `now_unix_nanos`.
    pub fn tick(&mut self, now_unix_nanos: u64) -> Result<Emissions, CallError> {
        let result = self.instance.call(&self.limits, |b, store| {
            b.weir_plugin_connector().call_tick(store, now_unix_nanos)
        });
        self.finish("tick", result)
    }

    /// `flush`: emit everything still owed.
    pub fn flush(&mut self) -> Result<Emissions, CallError> {
        let result = self.instance.call(&self.limits, |b, store| {
            b.weir_plugin_connector().call_flush(store)
        });
        self.finish("flush", result)
    }

    fn finish(
        &self,
        function: &str,
        result: Result<Vec<Emitted>, CallError>,
    ) -> Result<Emissions, CallError> {
        count_call(&self.component, function, &result);
        Ok(result?
            .into_iter()
            .map(|e| (from_wit_signal(e.batch.signal), e.batch.payload, e.pipeline))
            .collect())
    }
}
