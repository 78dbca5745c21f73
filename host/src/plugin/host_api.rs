//! The `weir:plugin/host` interface: what every plugin may call.

use super::bindings::host::{Host, Level};
use super::bindings::types;
use super::state::PluginState;
use crate::telemetry::{PluginCounterLabels, metrics};

impl Host for PluginState {
    fn log(&mut self, level: Level, message: String) {
        let component = &*self.component;
        match level {
            Level::Trace => tracing::trace!(plugin = component, "{message}"),
            Level::Debug => tracing::debug!(plugin = component, "{message}"),
            Level::Info => tracing::info!(plugin = component, "{message}"),
            Level::Warn => tracing::warn!(plugin = component, "{message}"),
            Level::Error => tracing::error!(plugin = component, "{message}"),
        }
    }

    fn now_unix_nanos(&mut self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }

    fn counter_add(&mut self, name: String, value: u64) {
        metrics()
            .plugin_counter
            .get_or_create(&PluginCounterLabels {
                component: self.component.to_string(),
                name,
            })
            .inc_by(value);
    }
}

impl types::Host for PluginState {}
