//! Instance pools: each configured component keeps a few ready instances
//! and hands one to each call. Calls are synchronous wasm and run on tokio's
//! blocking threads; the pool's semaphore bounds how many run at once.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use wasmtime::{Engine, Store, Trap};

use super::bindings::types::{Batch as WitBatch, Context, Outgoing, PluginError};
use super::bindings::types::{ExporterInfo, ProcessorInfo};
use super::bindings::{ExporterPlugin, ExporterPluginPre, ProcessorPlugin, ProcessorPluginPre};
use super::engine::EPOCH_TICK;
use super::error::{CallError, LoadError};
use super::limits::PluginLimits;
use super::state::PluginState;
use crate::Signal;
use crate::telemetry::{ComponentLabels, PluginCallLabels, metrics};

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
    fn to_wit(&self) -> Context {
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

fn from_wit_signal(signal: WitSignal) -> Signal {
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

struct Instance<W: World> {
    store: Store<PluginState>,
    bindings: W::Bindings,
}

struct Shared<W: World> {
    engine: Engine,
    pre: W::Pre,
    component: Arc<str>,
    config_json: String,
    limits: PluginLimits,
    info: W::Info,
    idle: Mutex<Vec<Instance<W>>>,
    running: Semaphore,
}

/// A pool of instances of one configured component.
pub struct Pool<W: World> {
    shared: Arc<Shared<W>>,
}

impl<W: World> Clone for Pool<W> {
    fn clone(&self) -> Self {
        Pool {
            shared: self.shared.clone(),
        }
    }
}

/// Processor instances of one configured component.
pub type ProcessorPool = Pool<ProcessorWorld>;
/// Exporter instances of one configured component.
pub type ExporterPool = Pool<ExporterWorld>;

impl<W: World> Pool<W> {
    /// Starts the first instance (running `init` with the config) and keeps it.
    pub(super) fn start(
        engine: Engine,
        pre: W::Pre,
        component_id: &str,
        config_json: String,
        limits: PluginLimits,
    ) -> Result<Self, LoadError> {
        let component: Arc<str> = Arc::from(component_id);
        let (instance, info) = new_instance::<W>(&engine, &pre, &component, &config_json, &limits)
            .map_err(|e| match e {
                StartError::Config(msg) => LoadError::InvalidConfig(msg),
                StartError::Failed(reason) => LoadError::Start {
                    name: component_id.into(),
                    reason,
                },
            })?;
        let max = limits.max_instances.max(1);
        Ok(Pool {
            shared: Arc::new(Shared {
                engine,
                pre,
                component,
                config_json,
                limits,
                info,
                idle: Mutex::new(vec![instance]),
                running: Semaphore::new(max),
            }),
        })
    }

    /// What the plugin said about itself at `init`.
    pub fn info(&self) -> &W::Info {
        &self.shared.info
    }

    /// The component id this pool serves.
    pub fn component(&self) -> &str {
        &self.shared.component
    }

    /// Runs `call` on an idle (or fresh) instance on a blocking thread.
    async fn run<R: Send + 'static>(
        &self,
        function: &'static str,
        call: impl FnOnce(
            &W::Bindings,
            &mut Store<PluginState>,
        ) -> wasmtime::Result<Result<R, PluginError>>
        + Send
        + 'static,
    ) -> Result<R, CallError> {
        let _permit = self
            .shared
            .running
            .acquire()
            .await
            .expect("pool semaphore never closes");
        let shared = self.shared.clone();
        let result = tokio::task::spawn_blocking(move || shared.call_blocking(call))
            .await
            .unwrap_or_else(|e| Err(CallError::Trap(format!("host task failed: {e}"))));
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        metrics()
            .plugin_calls
            .get_or_create(&PluginCallLabels {
                component: self.shared.component.to_string(),
                function: function.into(),
                outcome: outcome.into(),
            })
            .inc();
        result
    }
}

impl<W: World> Shared<W> {
    fn call_blocking<R>(
        &self,
        call: impl FnOnce(
            &W::Bindings,
            &mut Store<PluginState>,
        ) -> wasmtime::Result<Result<R, PluginError>>,
    ) -> Result<R, CallError> {
        let idle = self.idle.lock().expect("pool lock").pop();
        let mut instance = match idle {
            Some(instance) => instance,
            None => {
                new_instance::<W>(
                    &self.engine,
                    &self.pre,
                    &self.component,
                    &self.config_json,
                    &self.limits,
                )
                .map_err(|e| CallError::Start(e.to_string()))?
                .0
            }
        };
        arm(&mut instance.store, &self.limits);
        let result = call(&instance.bindings, &mut instance.store);
        match result {
            Ok(Ok(value)) => {
                self.give_back(instance);
                Ok(value)
            }
            Ok(Err(PluginError::Rejected(reason))) => {
                self.give_back(instance);
                Err(CallError::Rejected(reason))
            }
            Ok(Err(PluginError::InvalidConfig(reason))) => {
                self.give_back(instance);
                Err(CallError::Rejected(format!("invalid config: {reason}")))
            }
            // The instance is dead after a trap: drop its store.
            Err(err) => Err(classify(err, &instance.store, &self.limits)),
        }
    }

    fn give_back(&self, instance: Instance<W>) {
        let grown = instance.store.data().limiter.current as u64;
        if grown > self.limits.recycle_above_mib * 1024 * 1024 {
            tracing::debug!(
                plugin = &*self.component,
                bytes = grown,
                "recycling an instance whose memory grew"
            );
            return;
        }
        let mut idle = self.idle.lock().expect("pool lock");
        if idle.len() < self.limits.max_instances.max(1) {
            idle.push(instance);
        }
    }
}

impl Pool<ProcessorWorld> {
    /// `process`: one batch in, zero or more out.
    pub async fn process(
        &self,
        ctx: &CallContext,
        signal: Signal,
        payload: Vec<u8>,
    ) -> Result<Vec<(Signal, Vec<u8>)>, CallError> {
        let ctx = ctx.to_wit();
        let batch = WitBatch {
            signal: to_wit_signal(signal),
            payload,
        };
        let out = self
            .run("process", move |b, store| {
                b.weir_plugin_processor().call_process(store, &ctx, &batch)
            })
            .await?;
        Ok(out
            .into_iter()
            .map(|b| (from_wit_signal(b.signal), b.payload))
            .collect())
    }

    /// Whether the processor handles `signal` at all.
    pub fn handles(&self, signal: Signal) -> bool {
        use super::bindings::types::Signals;
        let wanted = match signal {
            Signal::Traces => Signals::TRACES,
            Signal::Metrics => Signals::METRICS,
            Signal::Logs => Signals::LOGS,
        };
        self.info().signals.contains(wanted)
    }
}

impl Pool<ExporterWorld> {
    /// `encode`: one batch in, the requests to deliver out.
    pub async fn encode(
        &self,
        ctx: &CallContext,
        signal: Signal,
        payload: Vec<u8>,
    ) -> Result<Vec<Outgoing>, CallError> {
        let ctx = ctx.to_wit();
        let batch = WitBatch {
            signal: to_wit_signal(signal),
            payload,
        };
        self.run("encode", move |b, store| {
            b.weir_plugin_exporter().call_encode(store, &ctx, &batch)
        })
        .await
    }
}

enum StartError {
    Config(String),
    Failed(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(m) | StartError::Failed(m) => f.write_str(m),
        }
    }
}

fn new_instance<W: World>(
    engine: &Engine,
    pre: &W::Pre,
    component: &Arc<str>,
    config_json: &str,
    limits: &PluginLimits,
) -> Result<(Instance<W>, W::Info), StartError> {
    let cap = usize::try_from(limits.memory_mib * 1024 * 1024).unwrap_or(usize::MAX);
    let mut store = Store::new(engine, PluginState::new(component.clone(), cap));
    store.limiter(|s| &mut s.limiter);
    store.epoch_deadline_trap();
    arm(&mut store, limits);
    let bindings = W::instantiate(pre, &mut store)
        .map_err(|e| StartError::Failed(classify(e, &store, limits).to_string()))?;
    arm(&mut store, limits);
    let info = match W::init(&bindings, &mut store, config_json) {
        Ok(Ok(info)) => info,
        Ok(Err(PluginError::InvalidConfig(m) | PluginError::Rejected(m))) => {
            return Err(StartError::Config(m));
        }
        Err(e) => {
            return Err(StartError::Failed(format!(
                "init {}",
                classify(e, &store, limits)
            )));
        }
    };
    metrics()
        .plugin_instances_started
        .get_or_create(&ComponentLabels {
            pipeline: String::new(),
            component: component.to_string(),
        })
        .inc();
    Ok((Instance { store, bindings }, info))
}

/// Sets the call's deadline and clears the memory-cap flag.
fn arm(store: &mut Store<PluginState>, limits: &PluginLimits) {
    let ticks = limits
        .timeout
        .as_millis()
        .div_ceil(EPOCH_TICK.as_millis())
        .max(1) as u64;
    store.set_epoch_deadline(ticks);
    store.data_mut().limiter.hit = false;
}

/// Names what ended a call: the memory cap, the deadline, or another trap
/// (with the guest's last stderr lines, which hold a panic's message).
fn classify(err: wasmtime::Error, store: &Store<PluginState>, limits: &PluginLimits) -> CallError {
    if store.data().limiter.hit {
        return CallError::Memory(limits.memory_mib);
    }
    if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return CallError::Timeout(limits.timeout);
    }
    let stderr = String::from_utf8_lossy(&store.data().stderr.contents())
        .trim()
        .to_string();
    if stderr.is_empty() {
        CallError::Trap(format!("{err:#}"))
    } else {
        CallError::Trap(format!("{err:#}; plugin stderr: {stderr}"))
    }
}
