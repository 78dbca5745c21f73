//! Counter and gauge definitions.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a receiver's request outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Receiver id, e.g. `otlp`.
    pub receiver: String,
    /// `grpc` or `http`.
    pub transport: String,
    /// `traces`, `metrics`, `logs`, or `unknown` when the path named none.
    pub signal: String,
    /// `accepted`, `partial`, `invalid`, `too_large`, `unsupported_media_type`,
    /// `exhausted`, `unavailable`, `not_found`, `method_not_allowed`.
    pub outcome: String,
}

/// Labels of per-receiver, per-signal item counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReceiverLabels {
    pub receiver: String,
    pub transport: String,
    pub signal: String,
}

/// Labels naming a pipeline component.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ComponentLabels {
    /// Pipeline id, e.g. `traces` or `metrics/tagged`.
    pub pipeline: String,
    /// Component id, e.g. `attributes/add_client_tag`.
    pub component: String,
}

/// Labels of an exporter's item counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExporterLabels {
    pub exporter: String,
    pub signal: String,
}

/// Labels naming an exporter (its queue is shared by its signals).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExporterQueueLabels {
    pub exporter: String,
}

/// Labels naming a stage that holds request bytes.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    /// `receive` (bodies read, until answered), `batch` (held by the
    /// batcher), `plugin_output` (processor output beyond its input) or
    /// `sending_queue` (in-memory queues).
    pub stage: String,
}

impl StageLabels {
    pub fn of(stage: &str) -> Self {
        StageLabels {
            stage: stage.to_string(),
        }
    }
}

/// Labels of a plugin call's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginCallLabels {
    /// Component id the plugin serves (`attributes/add_client_tag`).
    pub component: String,
    /// `process`, `encode`, `init`, `tick`, `flush`.
    pub function: String,
    /// `ok`, `rejected`, `trap`, `timeout`, `memory`.
    pub outcome: String,
}

/// Labels of a plugin call's duration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginFunctionLabels {
    pub component: String,
    /// `process`, `encode`, `tick`, `flush`.
    pub function: String,
}

/// How long one plugin call ran, in the sandbox (not waiting for an
/// instance): 10 µs to ~10 s.
pub type PluginCallDuration = Family<PluginFunctionLabels, Histogram, fn() -> Histogram>;

fn call_duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_01, 4.0, 11))
}

/// Labels of a counter a plugin reports through `host.counter-add`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginCounterLabels {
    pub component: String,
    pub name: String,
}

/// Labels of a failed authentication.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthFailureLabels {
    pub receiver: String,
    pub transport: String,
    /// `missing`, `malformed` or `invalid`.
    pub reason: String,
}

/// Labels of a tenant's requests and items.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabels {
    pub tenant: String,
    pub signal: String,
    /// `accepted`, `rate_limited`, `memory` (the tenant's budget),
    /// `refused` (a pipeline refused it).
    pub outcome: String,
}

/// Labels of a tenant's exported items.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantExportLabels {
    pub tenant: String,
    pub exporter: String,
    pub signal: String,
}

/// Labels naming the active configuration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConfigLabels {
    /// SHA-256 (hex, first 16 digits) of the config file's text.
    pub hash: String,
}

/// Every metric the collector reports about itself.
pub struct Metrics {
    registry: Registry,
    /// Requests received, by outcome.
    pub receiver_requests: Family<RequestLabels, Counter>,
    /// Items accepted into the pipelines.
    pub receiver_accepted_items: Family<ReceiverLabels, Counter>,
    /// Items refused (invalid, too large, memory exhausted, partial rejection).
    pub receiver_refused_items: Family<ReceiverLabels, Counter>,
    /// TLS handshakes that failed (no client certificate, wrong CA, bad protocol).
    pub receiver_tls_handshake_failures: Family<ReceiverLabels, Counter>,
    /// Bytes currently held by pipelines against the memory limiter's budget.
    pub memory_in_use_bytes: Gauge,
    /// Requests refused by the memory limiter.
    pub memory_refused_requests: Counter,
    /// Request bytes held by each stage (`receive`, `batch`, `plugin_output`, `sending_queue`).
    pub memory_stage_bytes: Family<StageLabels, Gauge>,
    /// Linear memory of every live plugin instance, summed.
    pub plugin_memory_bytes: Gauge,
    /// Batches the batcher sent on, and why (size or timeout) is in the log.
    pub batches_sent: Family<ComponentLabels, Counter>,
    /// Items a processor dropped on purpose (filters, samplers).
    pub processor_dropped_items: Family<ComponentLabels, Counter>,
    /// Batches a failing processor call let through unchanged, dropped or refused,
    /// by the pipeline's `error_mode`.
    pub processor_failed_batches: Family<ComponentLabels, Counter>,
    /// Plugin calls by outcome (ok, rejected, trap, timeout, memory,
    /// output_limit, start_failed).
    pub plugin_calls: Family<PluginCallLabels, Counter>,
    /// How long each plugin call ran, by component and function.
    pub plugin_call_duration: PluginCallDuration,
    /// Plugin instances started (initial, after a failure, or recycled).
    pub plugin_instances_started: Family<ComponentLabels, Counter>,
    /// Stateful plugin instances that failed (trap, deadline, memory cap)
    /// and took what they held with them; a fresh instance replaces each.
    pub plugin_state_lost: Family<ComponentLabels, Counter>,
    /// Items a connector emitted into a pipeline (`pipeline` is the
    /// receiving pipeline, `component` the connector).
    pub connector_emitted_items: Family<ComponentLabels, Counter>,
    /// Batches a connector failed to consume (the failure is logged; its
    /// series miss those items), or emitted malformed or to a pipeline that
    /// does not receive from it (dropped).
    pub connector_failed_batches: Family<ComponentLabels, Counter>,
    /// Counters plugins report through the host interface.
    pub plugin_counter: Family<PluginCounterLabels, Counter>,
    /// Items an exporter delivered.
    pub exporter_sent_items: Family<ExporterLabels, Counter>,
    /// Items an exporter gave up on after its retries.
    pub exporter_failed_items: Family<ExporterLabels, Counter>,
    /// Delivery attempts that failed and were retried.
    pub exporter_retries: Family<ExporterLabels, Counter>,
    /// Requests refused for missing or wrong credentials, by reason.
    pub receiver_auth_failures: Family<AuthFailureLabels, Counter>,
    /// Requests per tenant, by outcome.
    pub tenant_requests: Family<TenantLabels, Counter>,
    /// Items per tenant, by outcome.
    pub tenant_items: Family<TenantLabels, Counter>,
    /// Requests refused because no accepted tenant was found (`tenancy.unknown: refuse`).
    pub tenant_unidentified_requests: Counter,
    /// Items an exporter delivered, per tenant.
    pub tenant_exported_items: Family<TenantExportLabels, Counter>,
    /// Reloads that swapped in a new configuration.
    pub config_reload_success: Counter,
    /// Reloads refused (bad YAML, invalid config, a plugin that fails to
    /// compile or start, a certificate that does not parse); the old config stays.
    pub config_reload_failures: Counter,
    /// 1 for the active configuration's hash.
    pub config_info: Family<ConfigLabels, Gauge>,
    /// Requests an endpoint refused for good (HTTP 4xx other than 408/429,
    /// gRPC codes that retrying cannot fix): not retried.
    pub exporter_permanent_failures: Family<ExporterLabels, Counter>,
    /// What an exporter's sending queue holds (in its `sizer`'s unit),
    /// counting batches being sent.
    pub exporter_queue_size: Family<ExporterQueueLabels, Gauge>,
    /// Requests the receivers refused (429 / RESOURCE_EXHAUSTED) because an
    /// exporter's sending queue was full.
    pub exporter_queue_refusals: Family<ExporterQueueLabels, Counter>,
    /// Items found in a persistent sending queue at start-up and sent again.
    pub exporter_queue_replayed_items: Family<ExporterQueueLabels, Counter>,
    /// Payload bytes a persistent sending queue holds on disk.
    pub exporter_queue_stored_bytes: Family<ExporterQueueLabels, Gauge>,
    /// Batches a persistent sending queue could not store (the requests
    /// carrying them were refused with 503 / UNAVAILABLE).
    pub exporter_queue_store_failures: Family<ExporterQueueLabels, Counter>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let m = Metrics {
            receiver_requests: Family::default(),
            receiver_accepted_items: Family::default(),
            receiver_refused_items: Family::default(),
            receiver_tls_handshake_failures: Family::default(),
            memory_in_use_bytes: Gauge::default(),
            memory_refused_requests: Counter::default(),
            memory_stage_bytes: Family::default(),
            plugin_memory_bytes: Gauge::default(),
            batches_sent: Family::default(),
            processor_dropped_items: Family::default(),
            processor_failed_batches: Family::default(),
            plugin_calls: Family::default(),
            plugin_call_duration: Family::new_with_constructor(call_duration_histogram),
            plugin_instances_started: Family::default(),
            plugin_state_lost: Family::default(),
            connector_emitted_items: Family::default(),
            connector_failed_batches: Family::default(),
            plugin_counter: Family::default(),
            exporter_sent_items: Family::default(),
            exporter_failed_items: Family::default(),
            exporter_retries: Family::default(),
            receiver_auth_failures: Family::default(),
            tenant_requests: Family::default(),
            tenant_items: Family::default(),
            tenant_unidentified_requests: Counter::default(),
            tenant_exported_items: Family::default(),
            config_reload_success: Counter::default(),
            config_reload_failures: Counter::default(),
            config_info: Family::default(),
            exporter_permanent_failures: Family::default(),
            exporter_queue_size: Family::default(),
            exporter_queue_refusals: Family::default(),
            exporter_queue_replayed_items: Family::default(),
            exporter_queue_stored_bytes: Family::default(),
            exporter_queue_store_failures: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "weir_receiver_requests",
            "OTLP requests received, by outcome",
            m.receiver_requests.clone(),
        );
        registry.register(
            "weir_receiver_accepted_items",
            "Items accepted into the pipelines",
            m.receiver_accepted_items.clone(),
        );
        registry.register(
            "weir_receiver_refused_items",
            "Items refused by a receiver",
            m.receiver_refused_items.clone(),
        );
        registry.register(
            "weir_receiver_tls_handshake_failures",
            "TLS handshakes that failed",
            m.receiver_tls_handshake_failures.clone(),
        );
        registry.register(
            "weir_memory_in_use_bytes",
            "Bytes held by pipelines against the memory limiter's budget",
            m.memory_in_use_bytes.clone(),
        );
        registry.register(
            "weir_memory_refused_requests",
            "Requests refused because memory was short",
            m.memory_refused_requests.clone(),
        );
        registry.register(
            "weir_batches_sent",
            "Batches the batch processor sent on",
            m.batches_sent.clone(),
        );
        registry.register(
            "weir_processor_dropped_items",
            "Items a processor dropped on purpose",
            m.processor_dropped_items.clone(),
        );
        registry.register(
            "weir_processor_failed_batches",
            "Batches whose processor call failed (handled by error_mode)",
            m.processor_failed_batches.clone(),
        );
        registry.register(
            "weir_plugin_calls",
            "Plugin calls, by function and outcome",
            m.plugin_calls.clone(),
        );
        registry.register(
            "weir_plugin_call_duration_seconds",
            "How long plugin calls ran in the sandbox",
            m.plugin_call_duration.clone(),
        );
        registry.register(
            "weir_plugin_instances_started",
            "Plugin instances started",
            m.plugin_instances_started.clone(),
        );
        registry.register(
            "weir_plugin_state_lost",
            "Stateful plugin instances lost with their state (trap, deadline, memory cap)",
            m.plugin_state_lost.clone(),
        );
        registry.register(
            "weir_connector_emitted_items",
            "Items a connector emitted into a receiving pipeline",
            m.connector_emitted_items.clone(),
        );
        registry.register(
            "weir_connector_failed_batches",
            "Batches a connector failed to consume, or emitted and could not deliver",
            m.connector_failed_batches.clone(),
        );
        registry.register(
            "weir_plugin_counter",
            "Counters reported by plugins",
            m.plugin_counter.clone(),
        );
        registry.register(
            "weir_exporter_sent_items",
            "Items delivered by an exporter",
            m.exporter_sent_items.clone(),
        );
        registry.register(
            "weir_exporter_failed_items",
            "Items an exporter gave up on",
            m.exporter_failed_items.clone(),
        );
        registry.register(
            "weir_exporter_retries",
            "Failed delivery attempts that were retried",
            m.exporter_retries.clone(),
        );
        registry.register(
            "weir_receiver_auth_failures",
            "Requests refused for missing, malformed or wrong credentials",
            m.receiver_auth_failures.clone(),
        );
        registry.register(
            "weir_tenant_requests",
            "Requests per tenant, by outcome",
            m.tenant_requests.clone(),
        );
        registry.register(
            "weir_tenant_items",
            "Items per tenant, by outcome",
            m.tenant_items.clone(),
        );
        registry.register(
            "weir_tenant_unidentified_requests",
            "Requests refused because no accepted tenant was found",
            m.tenant_unidentified_requests.clone(),
        );
        registry.register(
            "weir_tenant_exported_items",
            "Items delivered by an exporter, per tenant",
            m.tenant_exported_items.clone(),
        );
        registry.register(
            "weir_config_reload_success",
            "Reloads that swapped in a new configuration",
            m.config_reload_success.clone(),
        );
        registry.register(
            "weir_config_reload_failures",
            "Reloads refused; the running configuration stayed",
            m.config_reload_failures.clone(),
        );
        registry.register(
            "weir_config_info",
            "1 for the hash of the active configuration",
            m.config_info.clone(),
        );
        registry.register(
            "weir_exporter_permanent_failures",
            "Requests an endpoint refused for good (not retried)",
            m.exporter_permanent_failures.clone(),
        );
        registry.register(
            "weir_exporter_queue_size",
            "What an exporter's sending queue holds, in its sizer's unit",
            m.exporter_queue_size.clone(),
        );
        registry.register(
            "weir_exporter_queue_refusals",
            "Requests refused at the receivers because a sending queue was full",
            m.exporter_queue_refusals.clone(),
        );
        registry.register(
            "weir_memory_stage_bytes",
            "Request bytes held by a stage: receive (bodies read, until answered), batch (in the batcher), plugin_output (processor output beyond its input), sending_queue (in-memory queues)",
            m.memory_stage_bytes.clone(),
        );
        registry.register(
            "weir_plugin_memory_bytes",
            "Linear memory of every live plugin instance, summed (guest memory never shrinks)",
            m.plugin_memory_bytes.clone(),
        );
        registry.register(
            "weir_exporter_queue_replayed_items",
            "Items found in a persistent sending queue at start-up and sent again",
            m.exporter_queue_replayed_items.clone(),
        );
        registry.register(
            "weir_exporter_queue_stored_bytes",
            "Payload bytes a persistent sending queue holds on disk",
            m.exporter_queue_stored_bytes.clone(),
        );
        registry.register(
            "weir_exporter_queue_store_failures",
            "Batches a persistent sending queue could not store",
            m.exporter_queue_store_failures.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}
