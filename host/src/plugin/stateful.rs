//! The one instance of a stateful processor (a tail sampler): never pooled,
//! never recycled, because its memory is its state. Its calls are blocking
//! (run them on a blocking thread); a call that traps ends the instance and
//! its state with it, which the caller must count and replace.

use std::sync::Arc;

use super::bindings::types::Batch as WitBatch;
use super::error::CallError;
use super::instance::Instance;
use super::limits::PluginLimits;
use super::pool::count_call;
use super::world::{CallContext, ProcessorWorld, from_wit_signal, to_wit_signal};
use crate::Signal;

/// Batches a processor returned: (signal, OTLP request bytes).
pub type Outputs = Vec<(Signal, Vec<u8>)>;

/// A stateful processor instance.
pub struct StatefulInstance {
    instance: Instance<ProcessorWorld>,
    limits: PluginLimits,
    component: Arc<str>,
}

impl StatefulInstance {
    pub(super) fn new(
        instance: Instance<ProcessorWorld>,
        limits: PluginLimits,
        component: Arc<str>,
    ) -> Self {
        StatefulInstance {
            instance,
            limits,
            component,
        }
    }

    /// `process`: the plugin may hold the batch and return nothing yet.
    pub fn process(
        &mut self,
        ctx: &CallContext,
        signal: Signal,
        payload: Vec<u8>,
    ) -> Result<Outputs, CallError> {
        let ctx = ctx.to_wit();
        let batch = WitBatch {
            signal: to_wit_signal(signal),
            payload,
        };
        let result = self.instance.call(&self.limits, |b, store| {
            b.weir_plugin_processor().call_process(store, &ctx, &batch)
        });
        self.finish("process", result)
    }

    /// `tick`: release what is due at `now_unix_nanos`.
    pub fn tick(&mut self, now_unix_nanos: u64) -> Result<Outputs, CallError> {
        let result = self.instance.call(&self.limits, |b, store| {
            b.weir_plugin_processor().call_tick(store, now_unix_nanos)
        });
        self.finish("tick", result)
    }

    /// `flush`: release everything held.
    pub fn flush(&mut self) -> Result<Outputs, CallError> {
        let result = self.instance.call(&self.limits, |b, store| {
            b.weir_plugin_processor().call_flush(store)
        });
        self.finish("flush", result)
    }

    /// The instance's linear memory, bytes (the most it ever grew to:
    /// guest memory never shrinks).
    pub fn memory_bytes(&self) -> usize {
        self.instance.store.data().limiter.current
    }

    fn finish(
        &self,
        function: &str,
        result: Result<Vec<WitBatch>, CallError>,
    ) -> Result<Outputs, CallError> {
        count_call(&self.component, function, &result);
        Ok(result?
            .into_iter()
            .map(|b| (from_wit_signal(b.signal), b.payload))
            .collect())
    }
}
