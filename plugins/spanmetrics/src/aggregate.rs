//! Spans → series: each span adds one call and one duration observation to
//! the series of its resource and dimensions; [`SpanMetrics::build`] turns
//! the series into an OTLP metrics request (a `calls` sum and a `duration`
//! histogram per resource), as the Go connector does.

use std::collections::BTreeMap;

use weir_plugin_sdk::otlp::common::v1::InstrumentationScope;
use weir_plugin_sdk::otlp::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum, metric, number_data_point,
};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::trace::v1::{Span, span::SpanKind, status::StatusCode};
use weir_plugin_sdk::otlp::{
    AnyValue, ExportMetricsServiceRequest, ExportTraceServiceRequest, KeyValue, any_value,
    string_value,
};

use crate::config::{Settings, Temporality};

/// The scope name of the metrics, as the Go connector writes it.
pub const SCOPE_NAME: &str = "spanmetricsconnector";

/// One series: a call count and a duration histogram for one set of dimensions.
#[derive(Debug, Clone)]
struct Series {
    attributes: Vec<KeyValue>,
    calls: u64,
    bucket_counts: Vec<u64>,
    sum: f64,
    /// When a span last updated it (ns), for `metrics_expiration`.
    last_seen: u64,
}

/// The series of one resource.
#[derive(Debug, Clone)]
struct ResourceSeries {
    attributes: Vec<KeyValue>,
    series: BTreeMap<String, Series>,
    /// When a span of this resource was last seen: the least recent goes
    /// first when `resource_metrics_cache_size` is reached.
    last_seen: u64,
}

/// The connector's state: series by resource, since `start` (cumulative)
/// or since the last flush (delta).
pub struct SpanMetrics {
    settings: Settings,
    resources: BTreeMap<String, ResourceSeries>,
    /// Start of the current aggregation period (ns).
    start: u64,
    /// Spans skipped because their resource has no `service.name`.
    pub skipped_spans: u64,
}

impl SpanMetrics {
    pub fn new(settings: Settings, now: u64) -> Self {
        SpanMetrics {
            settings,
            resources: BTreeMap::new(),
            start: now,
            skipped_spans: 0,
        }
    }

    /// How often the host should flush (tick), ms.
    pub fn flush_interval_ms(&self) -> u64 {
        self.settings.flush_interval_ms
    }

    /// Series held.
    pub fn series(&self) -> usize {
        self.resources.values().map(|r| r.series.len()).sum()
    }

    /// Adds every span of `request`.
    pub fn add(&mut self, request: &ExportTraceServiceRequest, now: u64) {
        for rs in &request.resource_spans {
            let resource_attrs: &[KeyValue] = rs
                .resource
                .as_ref()
                .map(|r| &r.attributes[..])
                .unwrap_or(&[]);
            let Some(service) = find(resource_attrs, "service.name") else {
                self.skipped_spans += rs
                    .scope_spans
                    .iter()
                    .map(|s| s.spans.len() as u64)
                    .sum::<u64>();
                continue;
            };
            let service = value_string(service);
            let key = self.resource_key(resource_attrs);
            if !self.resources.contains_key(&key) {
                self.make_room();
            }
            let resource = self.resources.entry(key).or_insert_with(|| ResourceSeries {
                attributes: resource_attrs.to_vec(),
                series: BTreeMap::new(),
                last_seen: now,
            });
            resource.last_seen = now;
            for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                let (key, attributes) = dimensions(&self.settings, &service, span, resource_attrs);
                let buckets = self.settings.bounds.as_ref().map_or(0, |b| b.len() + 1);
                let series = resource.series.entry(key).or_insert_with(|| Series {
                    attributes,
                    calls: 0,
                    bucket_counts: vec![0; buckets],
                    sum: 0.0,
                    last_seen: now,
                });
                series.last_seen = now;
                series.calls += 1;
                // An end before the start counts as a zero duration (as in Go).
                let nanos = span
                    .end_time_unix_nano
                    .saturating_sub(span.start_time_unix_nano);
                let duration = nanos as f64 / self.settings.unit.nanos();
                series.sum += duration;
                if let Some(bounds) = &self.settings.bounds {
                    // Buckets are upper-inclusive: (bound[i-1], bound[i]].
                    let i = bounds.partition_point(|b| *b < duration);
                    series.bucket_counts[i] += 1;
                }
            }
        }
    }

    /// The resource's identity: all its attributes, or only the
    /// `resource_metrics_key_attributes` when set.
    fn resource_key(&self, attrs: &[KeyValue]) -> String {
        let mut parts: Vec<String> = attrs
            .iter()
            .filter(|kv| {
                self.settings.resource_key_attributes.is_empty()
                    || self.settings.resource_key_attributes.contains(&kv.key)
            })
            .map(|kv| format!("{}={:?}", kv.key, kv.value))
            .collect();
        parts.sort();
        parts.join("\u{0}")
    }

    /// Drops the least recently seen resource when the cache is full.
    fn make_room(&mut self) {
        if self.resources.len() < self.settings.resource_cache_size {
            return;
        }
        if let Some(oldest) = self
            .resources
            .iter()
            .min_by_key(|(_, r)| r.last_seen)
            .map(|(k, _)| k.clone())
        {
            self.resources.remove(&oldest);
        }
    }

    /// The metrics of every series at `now`, or `None` when there are
    /// none. Delta temporality starts a new period; expired series go.
    pub fn build(&mut self, now: u64) -> Option<ExportMetricsServiceRequest> {
        let expiration = self.settings.expiration_nanos;
        if expiration > 0 {
            for resource in self.resources.values_mut() {
                resource
                    .series
                    .retain(|_, s| now.saturating_sub(s.last_seen) <= expiration);
            }
            self.resources.retain(|_, r| !r.series.is_empty());
        }
        if self.resources.is_empty() {
            if self.settings.temporality == Temporality::Delta {
                self.start = now;
            }
            return None;
        }
        let temporality = match self.settings.temporality {
            Temporality::Cumulative => AggregationTemporality::Cumulative,
            Temporality::Delta => AggregationTemporality::Delta,
        } as i32;
        let start = self.start;
        let resource_metrics = self
            .resources
            .values()
            .map(|resource| {
                let mut metrics = vec![Metric {
                    name: self.settings.calls_name.clone(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points: resource
                            .series
                            .values()
                            .map(|s| NumberDataPoint {
                                attributes: s.attributes.clone(),
                                start_time_unix_nano: start,
                                time_unix_nano: now,
                                value: Some(number_data_point::Value::AsInt(s.calls as i64)),
                                ..Default::default()
                            })
                            .collect(),
                        aggregation_temporality: temporality,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }];
                if let Some(bounds) = &self.settings.bounds {
                    metrics.push(Metric {
                        name: self.settings.duration_name.clone(),
                        unit: self.settings.unit.symbol().into(),
                        data: Some(metric::Data::Histogram(
                            weir_plugin_sdk::otlp::metrics::v1::Histogram {
                                data_points: resource
                                    .series
                                    .values()
                                    .map(|s| HistogramDataPoint {
                                        attributes: s.attributes.clone(),
                                        start_time_unix_nano: start,
                                        time_unix_nano: now,
                                        count: s.calls,
                                        sum: Some(s.sum),
                                        bucket_counts: s.bucket_counts.clone(),
                                        explicit_bounds: bounds.clone(),
                                        ..Default::default()
                                    })
                                    .collect(),
                                aggregation_temporality: temporality,
                            },
                        )),
                        ..Default::default()
                    });
                }
                ResourceMetrics {
                    resource: Some(Resource {
                        attributes: resource.attributes.clone(),
                        ..Default::default()
                    }),
                    scope_metrics: vec![ScopeMetrics {
                        scope: Some(InstrumentationScope {
                            name: SCOPE_NAME.into(),
                            ..Default::default()
                        }),
                        metrics,
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            })
            .collect();
        if self.settings.temporality == Temporality::Delta {
            self.resources.clear();
            self.start = now;
        }
        Some(ExportMetricsServiceRequest { resource_metrics })
    }
}

/// A span's series key and attributes: the default dimensions kept, then
/// each configured dimension from the span's attributes, else the
/// resource's, else its default (else it is left out).
fn dimensions(
    settings: &Settings,
    service: &str,
    span: &Span,
    resource_attrs: &[KeyValue],
) -> (String, Vec<KeyValue>) {
    let mut key = String::new();
    let mut attributes = Vec::with_capacity(settings.defaults.len() + settings.dimensions.len());
    let mut put = |name: &str, value: Option<AnyValue>| {
        // A missing dimension still marks its place in the key, so `a`
        // missing and `b` set never meets `a` set and `b` missing.
        let Some(value) = value else {
            key.push('\u{1}');
            return;
        };
        key.push_str(&value_string(&value));
        key.push('\u{0}');
        attributes.push(KeyValue {
            key: name.to_string(),
            value: Some(value),
            ..Default::default()
        });
    };
    for name in &settings.defaults {
        let value = match *name {
            "service.name" => service.to_string(),
            "span.name" => span.name.clone(),
            "span.kind" => kind_name(span.kind).to_string(),
            _ => status_name(span.status.as_ref().map_or(0, |s| s.code)).to_string(),
        };
        put(name, Some(string_value(value)));
    }
    for d in &settings.dimensions {
        let found = find(&span.attributes, &d.name)
            .or_else(|| find(resource_attrs, &d.name))
            .cloned()
            .or_else(|| d.default.clone().map(string_value));
        put(&d.name, found);
    }
    (key, attributes)
}

fn find<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// A value as text, as the Go collector's `AsString`.
fn value_string(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// `SPAN_KIND_SERVER` and so on, as the Go collector's `SpanKindStr`.
pub fn kind_name(kind: i32) -> &'static str {
    match SpanKind::try_from(kind) {
        Ok(SpanKind::Internal) => "SPAN_KIND_INTERNAL",
        Ok(SpanKind::Server) => "SPAN_KIND_SERVER",
        Ok(SpanKind::Client) => "SPAN_KIND_CLIENT",
        Ok(SpanKind::Producer) => "SPAN_KIND_PRODUCER",
        Ok(SpanKind::Consumer) => "SPAN_KIND_CONSUMER",
        _ => "SPAN_KIND_UNSPECIFIED",
    }
}

/// `STATUS_CODE_ERROR` and so on, as the Go collector's `StatusCodeStr`.
pub fn status_name(code: i32) -> &'static str {
    match StatusCode::try_from(code) {
        Ok(StatusCode::Ok) => "STATUS_CODE_OK",
        Ok(StatusCode::Error) => "STATUS_CODE_ERROR",
        _ => "STATUS_CODE_UNSET",
    }
}
