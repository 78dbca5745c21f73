//! Prometheus remote write 1.0: `prometheus.WriteRequest` as hand-written
//! prost structs with the field numbers of Prometheus's `remote.proto` and
//! `types.proto`. One definition for both sides of the wire: the plugins
//! that write these messages (`prometheusremotewrite`, `prometheus`, through
//! `weir_plugin_sdk::prometheus::remote_write`) and the host's `scrape`
//! endpoint that reads them. Built by both workspaces, for the host and
//! for wasm32-wasip2.

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`: labels sorted by name, samples by time.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`: a value at a time in milliseconds.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    #[prost(enumeration = "MetricType", tag = "1")]
    pub r#type: i32,
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    #[prost(string, tag = "4")]
    pub help: String,
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// `prometheus.MetricMetadata.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    Unknown = 0,
    Counter = 1,
    Gauge = 2,
    Histogram = 3,
    Gaugehistogram = 4,
    Summary = 5,
    Info = 6,
    Stateset = 7,
}

impl MetricType {
    /// The `# TYPE` word of the exposition format.
    pub fn word(self) -> &'static str {
        match self {
            MetricType::Unknown => "untyped",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Gaugehistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::Stateset => "stateset",
        }
    }
}

/// The `# TYPE` word of a `MetricMetadata.type` as it came off the wire
/// (`untyped` for a number this version does not know).
pub fn type_word(metric_type: i32) -> &'static str {
    MetricType::try_from(metric_type).map_or("untyped", MetricType::word)
}

/// Prometheus's staleness marker: the series has no value any more.
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_words_follow_the_enumeration() {
        let words: Vec<_> = (0..9).map(type_word).collect();
        assert_eq!(
            words,
            [
                "untyped",
                "counter",
                "gauge",
                "histogram",
                "gaugehistogram",
                "summary",
                "info",
                "stateset",
                "untyped"
            ]
        );
    }
}
