//! The collector's own telemetry: every counter and gauge Weir reports
//! about itself is defined here, once, with its help text.
//!
//! Metrics are process-wide (one collector per process) and exposed in the
//! Prometheus text format by [`server`] at `service.telemetry.metrics.address`.

pub mod health;
pub mod logging;
mod metrics;
pub mod server;

pub use metrics::{
    AuthFailureLabels, ComponentLabels, ConfigLabels, ExporterLabels, ExporterQueueLabels, Metrics,
    PluginCallLabels, PluginCounterLabels, PluginFunctionLabels, ReceiverLabels, RequestLabels,
    StageLabels, TenantExportLabels, TenantLabels, metrics,
};
