//! The contexts a statement runs in, and the OTLP items it sees: its own
//! item and every item above it (a data point sees its metric, scope and
//! resource).

use weir_plugin_sdk::otlp::common::v1::InstrumentationScope;
use weir_plugin_sdk::otlp::logs::v1::LogRecord;
use weir_plugin_sdk::otlp::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
    metric::Data,
};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::trace::v1::{Span, span::Event};

/// A statement's context: which item it runs once per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Resource,
    Scope,
    Span,
    SpanEvent,
    Metric,
    DataPoint,
    Log,
}

/// Which signal's requests a context belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalKind {
    Traces,
    Metrics,
    Logs,
}

impl Context {
    /// The name in config (`context: datapoint`) and as a path prefix.
    pub fn name(self) -> &'static str {
        match self {
            Context::Resource => "resource",
            Context::Scope => "scope",
            Context::Span => "span",
            Context::SpanEvent => "spanevent",
            Context::Metric => "metric",
            Context::DataPoint => "datapoint",
            Context::Log => "log",
        }
    }

    /// Parses a context name; `instrumentation_scope` is the Go name of `scope`.
    pub fn from_name(name: &str) -> Option<Context> {
        Some(match name {
            "resource" => Context::Resource,
            "scope" | "instrumentation_scope" => Context::Scope,
            "span" => Context::Span,
            "spanevent" => Context::SpanEvent,
            "metric" => Context::Metric,
            "datapoint" => Context::DataPoint,
            "log" => Context::Log,
            _ => return None,
        })
    }

    /// The contexts a statement in `self` can read and write: itself and
    /// the ones above it.
    pub fn sees(self, other: Context) -> bool {
        match other {
            Context::Resource => true,
            Context::Scope => self != Context::Resource,
            Context::Span => matches!(self, Context::Span | Context::SpanEvent),
            Context::Metric => matches!(self, Context::Metric | Context::DataPoint),
            _ => self == other,
        }
    }

    /// How deep the context sits (resource 0 .. span event / data point 3).
    pub fn depth(self) -> u8 {
        match self {
            Context::Resource => 0,
            Context::Scope => 1,
            Context::Span | Context::Metric | Context::Log => 2,
            Context::SpanEvent | Context::DataPoint => 3,
        }
    }

    /// Whether the context belongs to `signal` (resource and scope belong to all).
    pub fn fits(self, signal: SignalKind) -> bool {
        match self {
            Context::Resource | Context::Scope => true,
            Context::Span | Context::SpanEvent => signal == SignalKind::Traces,
            Context::Metric | Context::DataPoint => signal == SignalKind::Metrics,
            Context::Log => signal == SignalKind::Logs,
        }
    }
}

/// A data point of any metric type.
pub enum DataPointMut<'a> {
    Number(&'a mut NumberDataPoint),
    Histogram(&'a mut HistogramDataPoint),
    ExponentialHistogram(&'a mut ExponentialHistogramDataPoint),
    Summary(&'a mut SummaryDataPoint),
}

/// What a statement reads of a metric's shape; kept aside because a data
/// point statement runs while the data points are lent out of the metric.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricShape {
    /// `METRIC_DATA_TYPE_*`: 0 none, 1 gauge, 2 sum, 3 histogram,
    /// 4 exponential histogram, 5 summary.
    pub data_type: i64,
    pub aggregation_temporality: i64,
    pub is_monotonic: bool,
}

impl MetricShape {
    pub fn of(data: Option<&Data>) -> MetricShape {
        let (data_type, aggregation_temporality, is_monotonic) = match data {
            None => (0, 0, false),
            Some(Data::Gauge(_)) => (1, 0, false),
            Some(Data::Sum(s)) => (2, s.aggregation_temporality as i64, s.is_monotonic),
            Some(Data::Histogram(h)) => (3, h.aggregation_temporality as i64, false),
            Some(Data::ExponentialHistogram(h)) => (4, h.aggregation_temporality as i64, false),
            Some(Data::Summary(_)) => (5, 0, false),
        };
        MetricShape {
            data_type,
            aggregation_temporality,
            is_monotonic,
        }
    }
}

/// The items one statement run sees. Items below the statement's context
/// are `None`.
pub struct Item<'a> {
    pub resource: &'a mut Option<Resource>,
    pub scope: &'a mut Option<InstrumentationScope>,
    pub span: Option<&'a mut Span>,
    pub event: Option<&'a mut Event>,
    pub metric: Option<&'a mut Metric>,
    pub shape: MetricShape,
    pub datapoint: Option<DataPointMut<'a>>,
    pub log: Option<&'a mut LogRecord>,
}

impl<'a> Item<'a> {
    /// A resource or scope item (nothing below).
    pub fn new(
        resource: &'a mut Option<Resource>,
        scope: &'a mut Option<InstrumentationScope>,
    ) -> Item<'a> {
        Item {
            resource,
            scope,
            span: None,
            event: None,
            metric: None,
            shape: MetricShape::default(),
            datapoint: None,
            log: None,
        }
    }
}

/// Enum symbols usable as values, as in Go's OTTL.
pub fn enum_value(name: &str) -> Option<i64> {
    const SEVERITIES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    let fixed = match name {
        "SPAN_KIND_UNSPECIFIED" => 0,
        "SPAN_KIND_INTERNAL" => 1,
        "SPAN_KIND_SERVER" => 2,
        "SPAN_KIND_CLIENT" => 3,
        "SPAN_KIND_PRODUCER" => 4,
        "SPAN_KIND_CONSUMER" => 5,
        "STATUS_CODE_UNSET" => 0,
        "STATUS_CODE_OK" => 1,
        "STATUS_CODE_ERROR" => 2,
        "METRIC_DATA_TYPE_NONE" => 0,
        "METRIC_DATA_TYPE_GAUGE" => 1,
        "METRIC_DATA_TYPE_SUM" => 2,
        "METRIC_DATA_TYPE_HISTOGRAM" => 3,
        "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM" => 4,
        "METRIC_DATA_TYPE_SUMMARY" => 5,
        "AGGREGATION_TEMPORALITY_UNSPECIFIED" => 0,
        "AGGREGATION_TEMPORALITY_DELTA" => 1,
        "AGGREGATION_TEMPORALITY_CUMULATIVE" => 2,
        "FLAG_NONE" => 0,
        "FLAG_NO_RECORDED_VALUE" => 1,
        "SEVERITY_NUMBER_UNSPECIFIED" => 0,
        _ => {
            let rest = name.strip_prefix("SEVERITY_NUMBER_")?;
            let (level, n) = match rest.find(|c: char| c.is_ascii_digit()) {
                Some(i) => (&rest[..i], rest[i..].parse::<i64>().ok()?),
                None => (rest, 1),
            };
            let base = SEVERITIES.iter().position(|s| *s == level)? as i64;
            if !(1..=4).contains(&n) {
                return None;
            }
            return Some(base * 4 + n);
        }
    };
    Some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_symbols() {
        assert_eq!(enum_value("SEVERITY_NUMBER_TRACE"), Some(1));
        assert_eq!(enum_value("SEVERITY_NUMBER_INFO"), Some(9));
        assert_eq!(enum_value("SEVERITY_NUMBER_ERROR3"), Some(19));
        assert_eq!(enum_value("SEVERITY_NUMBER_FATAL4"), Some(24));
        assert_eq!(enum_value("SEVERITY_NUMBER_INFO5"), None);
        assert_eq!(enum_value("SPAN_KIND_SERVER"), Some(2));
    }
}
