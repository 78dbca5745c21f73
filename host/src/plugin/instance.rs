//! One sandboxed instance: made from `InstancePre` with its limits armed,
//! configured by `init`, and the classification of what ended a call.

use std::sync::Arc;

use wasmtime::{Engine, Store, Trap};

use super::bindings::types::PluginError;
use super::capabilities::Grants;
use super::engine::EPOCH_TICK;
use super::error::{CallError, OutputTooLarge};
use super::limits::PluginLimits;
use super::state::PluginState;
use super::world::World;
use crate::telemetry::{ComponentLabels, metrics};

pub(super) struct Instance<W: World> {
    pub(super) store: Store<PluginState>,
    pub(super) bindings: W::Bindings,
}

impl<W: World> Instance<W> {
    /// Runs `call` under the limits; a trap (or deadline, or memory cap)
    /// is classified, and means this instance must not be used again.
    pub(super) fn call<R>(
        &mut self,
        limits: &PluginLimits,
        call: impl FnOnce(
            &W::Bindings,
            &mut Store<PluginState>,
        ) -> wasmtime::Result<Result<R, PluginError>>,
    ) -> Result<R, CallError> {
        arm(&mut self.store, limits);
        match call(&self.bindings, &mut self.store) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(PluginError::Rejected(reason))) => Err(CallError::Rejected(reason)),
            Ok(Err(PluginError::InvalidConfig(reason))) => {
                Err(CallError::Rejected(format!("invalid config: {reason}")))
            }
            Err(err) => Err(classify(err, &self.store, limits)),
        }
    }
}

pub(super) enum StartError {
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

/// wasmtime's own default for [`Store::set_hostcall_fuel`].
const DEFAULT_HOSTCALL_FUEL: usize = 128 << 20;

pub(super) fn new_instance<W: World>(
    engine: &Engine,
    pre: &W::Pre,
    component: &Arc<str>,
    config_json: &str,
    limits: &PluginLimits,
    grants: &Grants,
) -> Result<(Instance<W>, W::Info), StartError> {
    let cap = usize::try_from(limits.memory_mib * 1024 * 1024).unwrap_or(usize::MAX);
    let state = PluginState::new(component.clone(), cap, grants)
        .map_err(|e| StartError::Failed(format!("cannot grant what `allow` lists: {e:#}")))?;
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    // wasmtime caps what one call may copy out of the guest at 128 MiB by
    // default; a stateful plugin releasing what it held (a tail sampler's
    // tick) can return more, and a trap would lose it all. The guest cannot
    // hold more than its memory cap, so that is the bound.
    store.set_hostcall_fuel(cap.max(DEFAULT_HOSTCALL_FUEL));
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
    if let Some(too_large) = err.downcast_ref::<OutputTooLarge>() {
        return CallError::Output(*too_large);
    }
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
