//! The shape of the three OTLP requests: which fields lead down to the items.
//!
//! Counting and splitting walk the same path from a request to its items, so
//! the field numbers live here once, taken from
//! `opentelemetry/proto/{collector,trace,metrics,logs}/v1/*.proto`:
//!
//! ```text
//! ExportTraceServiceRequest  .1 resource_spans   → ResourceSpans  .2 scope_spans   → ScopeSpans  .2 spans
//! ExportLogsServiceRequest   .1 resource_logs    → ResourceLogs   .2 scope_logs    → ScopeLogs   .2 log_records
//! ExportMetricsServiceRequest.1 resource_metrics → ResourceMetrics.2 scope_metrics → ScopeMetrics.2 metrics
//!   → Metric .5 gauge | .7 sum | .9 histogram | .10 exponential_histogram | .11 summary
//!   → (data) .1 data_points
//! ```

use crate::{Signal, WireType};

/// A message type on the path from a request to its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Msg {
    TraceRequest,
    ResourceSpans,
    ScopeSpans,
    LogsRequest,
    ResourceLogs,
    ScopeLogs,
    MetricsRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
    /// A span, log record or data point: only its framing is checked.
    Item,
}

/// What one field of a message on the path means to the walkers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A repeated (or, for `Metric`'s data oneof, singular) message field on the
    /// way to the items. `name` is the step shown in error paths; `None` adds
    /// no step (the Metric → data hop, whose name goes on its data points).
    Child {
        msg: Msg,
        name: Option<&'static str>,
    },
    /// A known field that is not on the path, with its wire type (a different
    /// one would make protobuf decoders refuse the message).
    Known(WireType),
    /// A field this version of OTLP doesn't define: skipped, but framed.
    Unknown,
}

const LEN: Role = Role::Known(WireType::LengthDelimited);
const VARINT: Role = Role::Known(WireType::Varint);

const fn child(msg: Msg, name: &'static str) -> Role {
    Role::Child {
        msg,
        name: Some(name),
    }
}

const fn data(msg: Msg) -> Role {
    Role::Child { msg, name: None }
}

impl Msg {
    /// The top-level message of a request of `signal`.
    pub(crate) fn request(signal: Signal) -> Msg {
        match signal {
            Signal::Traces => Msg::TraceRequest,
            Signal::Metrics => Msg::MetricsRequest,
            Signal::Logs => Msg::LogsRequest,
        }
    }

    /// What field `number` of this message is.
    #[inline]
    pub(crate) fn role(self, number: u32) -> Role {
        use Msg::*;
        match (self, number) {
            (TraceRequest, 1) => child(ResourceSpans, "resource_spans"),
            (LogsRequest, 1) => child(ResourceLogs, "resource_logs"),
            (MetricsRequest, 1) => child(ResourceMetrics, "resource_metrics"),
            // resource = 1, schema_url = 3
            (ResourceSpans, 2) => child(ScopeSpans, "scope_spans"),
            (ResourceLogs, 2) => child(ScopeLogs, "scope_logs"),
            (ResourceMetrics, 2) => child(ScopeMetrics, "scope_metrics"),
            (ResourceSpans | ResourceLogs | ResourceMetrics, 1 | 3) => LEN,
            // scope = 1, schema_url = 3
            (ScopeSpans, 2) => child(Item, "spans"),
            (ScopeLogs, 2) => child(Item, "log_records"),
            (ScopeMetrics, 2) => child(Metric, "metrics"),
            (ScopeSpans | ScopeLogs | ScopeMetrics, 1 | 3) => LEN,
            (Metric, 5) => data(Gauge),
            (Metric, 7) => data(Sum),
            (Metric, 9) => data(Histogram),
            (Metric, 10) => data(ExponentialHistogram),
            (Metric, 11) => data(Summary),
            // name, description, unit, metadata
            (Metric, 1 | 2 | 3 | 12) => LEN,
            (Gauge, 1) => child(Item, "gauge.data_points"),
            (Sum, 1) => child(Item, "sum.data_points"),
            (Histogram, 1) => child(Item, "histogram.data_points"),
            (ExponentialHistogram, 1) => child(Item, "exponential_histogram.data_points"),
            (Summary, 1) => child(Item, "summary.data_points"),
            // aggregation_temporality = 2, is_monotonic = 3 (Sum only)
            (Sum, 2 | 3) | (Histogram | ExponentialHistogram, 2) => VARINT,
            _ => Role::Unknown,
        }
    }

    /// The field of `Metric` in the data oneof, if `number` is one.
    #[inline]
    pub(crate) fn is_metric_data(number: u32) -> bool {
        matches!(number, 5 | 7 | 9 | 10 | 11)
    }
}
