//! Instance pools: each configured component keeps a few ready instances
//! and hands one to each call. Calls are synchronous wasm and run on tokio's
//! blocking threads; the pool's semaphore bounds how many run at once.
//!
//! A stateful processor is not pooled: [`ProcessorPool::stateful_instance`]
//! makes the one instance that keeps its state (see
//! `pipeline::stateful`), and the pool only serves as its factory.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use wasmtime::{Engine, Store};

use super::bindings::types::{Batch as WitBatch, Outgoing, PluginError};
use super::blocking::run_blocking;
use super::capabilities::Grants;
use super::error::{CallError, LoadError, OutputTooLarge};
use super::instance::{Instance, StartError, new_instance};
use super::limits::PluginLimits;
use super::state::PluginState;
use super::stateful::StatefulInstance;
use super::world::{
    CallContext, ExporterWorld, ProcessorWorld, World, from_wit_signal, to_wit_signal,
};
use crate::Signal;
use crate::telemetry::{PluginCallLabels, PluginFunctionLabels, metrics};

struct Shared<W: World> {
    engine: Engine,
    pre: W::Pre,
    component: Arc<str>,
    config_json: String,
    limits: PluginLimits,
    grants: Grants,
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
        grants: Grants,
    ) -> Result<Self, LoadError> {
        let component: Arc<str> = Arc::from(component_id);
        let (instance, info) =
            new_instance::<W>(&engine, &pre, &component, &config_json, &limits, &grants).map_err(
                |e| match e {
                    StartError::Config(msg) => LoadError::InvalidConfig(msg),
                    StartError::Failed(reason) => LoadError::Start {
                        name: component_id.into(),
                        reason,
                    },
                },
            )?;
        let max = limits.max_instances.max(1);
        Ok(Pool {
            shared: Arc::new(Shared {
                engine,
                pre,
                component,
                config_json,
                limits,
                grants,
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

    /// The limits its calls run under.
    pub fn limits(&self) -> &PluginLimits {
        &self.shared.limits
    }

    /// The component id this pool serves.
    pub fn component(&self) -> &str {
        &self.shared.component
    }

    /// Runs `call` on an idle (or fresh) instance (see [`run_blocking`]).
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
        let result = run_blocking(move || shared.call_blocking(function, call))
            .await
            .unwrap_or_else(|e| Err(CallError::Trap(e)));
        count_call(&self.shared.component, function, &result);
        result
    }
}

/// Counts a call in `weir_plugin_calls_total` by its outcome.
pub(super) fn count_call<R>(component: &str, function: &str, result: &Result<R, CallError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => e.outcome(),
    };
    metrics()
        .plugin_calls
        .get_or_create(&PluginCallLabels {
            component: component.to_string(),
            function: function.into(),
            outcome: outcome.into(),
        })
        .inc();
}

impl<W: World> Shared<W> {
    fn call_blocking<R>(
        &self,
        function: &str,
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
                    &self.grants,
                )
                .map_err(|e| CallError::Start(e.to_string()))?
                .0
            }
        };
        let started = std::time::Instant::now();
        let result = instance.call(&self.limits, call);
        metrics()
            .plugin_call_duration
            .get_or_create(&PluginFunctionLabels {
                component: self.component.to_string(),
                function: function.into(),
            })
            .observe(started.elapsed().as_secs_f64());
        // The instance is dead after a trap: only a refusal gives it back.
        if result
            .as_ref()
            .err()
            .is_none_or(CallError::instance_survives)
        {
            self.give_back(instance);
        }
        result
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
        let input = payload.len();
        let limit = self.shared.limits.max_output_bytes(input);
        let batch = WitBatch {
            signal: to_wit_signal(signal),
            payload,
        };
        let out = self
            .run("process", move |b, store| {
                let out = b
                    .weir_plugin_processor()
                    .call_process(store, &ctx, &batch)?;
                // A plugin that multiplies its input is stopped here, before
                // its output reaches the pipeline's memory.
                if let Ok(batches) = &out {
                    let output = batches.iter().map(|b| b.payload.len()).sum::<usize>();
                    if output > limit {
                        return Err(OutputTooLarge {
                            input,
                            output,
                            limit,
                        }
                        .into());
                    }
                }
                Ok(out)
            })
            .await?;
        Ok(out
            .into_iter()
            .map(|b| (from_wit_signal(b.signal), b.payload))
            .collect())
    }

    /// Whether the plugin said at `init` that it keeps data between calls.
    pub fn is_stateful(&self) -> bool {
        self.info().stateful
    }

    /// An instance of its own for a stateful processor (blocking: may
    /// instantiate and run `init`). The pool's first instance, started to
    /// check the config, is handed out first.
    pub fn stateful_instance(&self) -> Result<StatefulInstance, CallError> {
        let shared = &self.shared;
        let idle = shared.idle.lock().expect("pool lock").pop();
        let instance = match idle {
            Some(instance) => instance,
            None => {
                new_instance::<ProcessorWorld>(
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
        Ok(StatefulInstance::new(
            instance,
            shared.limits,
            shared.component.clone(),
        ))
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
