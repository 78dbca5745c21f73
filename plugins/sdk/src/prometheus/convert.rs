//! OTLP metrics → Prometheus series: gauges, cumulative sums (monotonic ones
//! as counters), cumulative histograms (`_bucket{le}`, `_sum`, `_count`),
//! summaries (`{quantile}`, `_sum`, `_count`), and one `target_info` per
//! resource. Delta temporality has no remote write 1.0 form unless an
//! [`Accumulator`] keeps running totals; exponential histograms have none:
//! such points are counted in [`Report`], not converted.

use std::collections::{BTreeMap, HashMap};

use crate::attributes::{as_text, get};
use crate::otlp::KeyValue;
use crate::otlp::metrics::v1::{
    AggregationTemporality, DataPointFlags, Metric, metric::Data, number_data_point,
};

use super::Options;
use super::naming::{Kind, float_text, label_name, metric_name};
use super::remote_write::{Label, MetricMetadata, MetricType, Sample, TimeSeries};

/// Prometheus's staleness marker, sent for points flagged "no recorded value".
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// What could not be sent, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Points of delta sums and delta histograms.
    pub delta_points: u64,
    /// Points of exponential histograms.
    pub exponential_histogram_points: u64,
    /// Metric names of the dropped points (for the log line), first few.
    pub dropped_metrics: Vec<String>,
}

impl Report {
    fn drop(&mut self, metric: &Metric, points: usize, delta: bool) {
        if delta {
            self.delta_points += points as u64;
        } else {
            self.exponential_histogram_points += points as u64;
        }
        if self.dropped_metrics.len() < 5 && !self.dropped_metrics.contains(&metric.name) {
            self.dropped_metrics.push(metric.name.clone());
        }
    }
}

/// Series by their sorted labels, and metadata by family name.
#[derive(Debug, Default)]
pub struct Series {
    pub series: BTreeMap<Vec<Label>, Vec<Sample>>,
    pub metadata: BTreeMap<String, MetricMetadata>,
}

impl Series {
    fn add(&mut self, labels: BTreeMap<String, String>, value: f64, timestamp: i64) {
        let key: Vec<Label> = labels
            .into_iter()
            .map(|(name, value)| Label { name, value })
            .collect();
        self.series
            .entry(key)
            .or_default()
            .push(Sample { value, timestamp });
    }

    /// The series as remote write wants them: samples in time order.
    pub fn into_time_series(self) -> Vec<TimeSeries> {
        self.series
            .into_iter()
            .map(|(labels, mut samples)| {
                samples.sort_by_key(|s| s.timestamp);
                TimeSeries { labels, samples }
            })
            .collect()
    }
}

const IDENTIFYING: [&str; 3] = ["service.name", "service.namespace", "service.instance.id"];

/// `job` and `instance` of a resource.
fn job_instance(resource: &[KeyValue]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let text = |k: &str| get(resource, k).map(|v| as_text(Some(v)));
    if let Some(name) = text("service.name") {
        let job = match text("service.namespace") {
            Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
            _ => name,
        };
        out.insert("job".to_owned(), job);
    }
    if let Some(instance) = text("service.instance.id") {
        out.insert("instance".to_owned(), instance);
    }
    out
}

/// Adds attributes as labels; two keys that sanitise alike join with `;`.
fn add_attributes(labels: &mut BTreeMap<String, String>, attrs: &[KeyValue]) {
    for kv in attrs {
        let name = label_name(&kv.key);
        let value = as_text(kv.value.as_ref());
        labels
            .entry(name)
            .and_modify(|v| {
                v.push(';');
                v.push_str(&value);
            })
            .or_insert(value);
    }
}

/// Running totals that turn delta points into cumulative ones, as the Go
/// collector's `prometheus` exporter does: a monotonic delta sum adds to
/// the series' total, and a delta histogram to its buckets, count and sum,
/// when the point starts where the last one ended; otherwise it starts the
/// total afresh. Series are keyed by their labels (name included).
#[derive(Debug, Default)]
pub struct Accumulator {
    sums: HashMap<Vec<Label>, Total<f64>>,
    histograms: HashMap<Vec<Label>, Total<HistogramTotal>>,
}

#[derive(Debug, Clone)]
struct Total<T> {
    value: T,
    /// `time_unix_nano` of the last point added.
    end: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct HistogramTotal {
    bounds: Vec<f64>,
    buckets: Vec<u64>,
    count: u64,
    sum: Option<f64>,
}

impl Accumulator {
    /// Series held.
    pub fn len(&self) -> usize {
        self.sums.len() + self.histograms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn add_sum(&mut self, key: Vec<Label>, delta: f64, start: u64, end: u64) -> f64 {
        let total = self.sums.entry(key).or_insert(Total {
            value: 0.0,
            end: start,
        });
        total.value = if total.end == start {
            total.value + delta
        } else {
            delta
        };
        total.end = end;
        total.value
    }

    fn add_histogram(
        &mut self,
        key: Vec<Label>,
        delta: HistogramTotal,
        start: u64,
        end: u64,
    ) -> HistogramTotal {
        let total = self.histograms.entry(key).or_insert_with(|| Total {
            value: HistogramTotal {
                bounds: delta.bounds.clone(),
                buckets: vec![0; delta.buckets.len()],
                count: 0,
                sum: None,
            },
            end: start,
        });
        let continues = total.end == start
            && total.value.bounds == delta.bounds
            && total.value.buckets.len() == delta.buckets.len();
        total.value = if continues {
            HistogramTotal {
                bounds: delta.bounds,
                buckets: total
                    .value
                    .buckets
                    .iter()
                    .zip(&delta.buckets)
                    .map(|(a, b)| a + b)
                    .collect(),
                count: total.value.count + delta.count,
                sum: match (total.value.sum, delta.sum) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => b.or(a),
                },
            }
        } else {
            delta
        };
        total.end = end;
        total.value.clone()
    }
}

/// Converts one `ExportMetricsServiceRequest`; delta points are reported,
/// not converted.
pub fn convert(
    config: &Options,
    request: &crate::otlp::ExportMetricsServiceRequest,
) -> (Series, Report) {
    convert_with(config, request, None)
}

/// Like [`convert`]; with an [`Accumulator`], monotonic delta sums and
/// delta histograms become cumulative series too.
pub fn convert_with(
    config: &Options,
    request: &crate::otlp::ExportMetricsServiceRequest,
    mut accumulator: Option<&mut Accumulator>,
) -> (Series, Report) {
    let mut out = Series::default();
    let mut report = Report::default();
    for rm in &request.resource_metrics {
        let resource = rm
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        // Labels every series of this resource carries.
        let mut base = BTreeMap::new();
        if config.resource_to_telemetry {
            add_attributes(&mut base, resource);
        }
        base.extend(job_instance(resource));
        let mut latest = 0i64;
        for sm in &rm.scope_metrics {
            for metric in &sm.metrics {
                let t = convert_metric(
                    config,
                    metric,
                    &base,
                    &mut out,
                    &mut report,
                    accumulator.as_deref_mut(),
                );
                latest = latest.max(t);
            }
        }
        if config.target_info && latest > 0 {
            let others: Vec<KeyValue> = resource
                .iter()
                .filter(|kv| !IDENTIFYING.contains(&kv.key.as_str()))
                .cloned()
                .collect();
            if !others.is_empty() {
                let mut labels = BTreeMap::new();
                add_attributes(&mut labels, &others);
                labels.extend(job_instance(resource));
                let name = metric_name("target_info", "", Kind::Gauge, &config.namespace, false);
                finish(config, &mut labels, &name);
                out.add(labels, 1.0, latest);
            }
        }
    }
    (out, report)
}

/// Sets `__name__` and the constant labels (which never override).
fn finish(config: &Options, labels: &mut BTreeMap<String, String>, name: &str) {
    for (k, v) in &config.const_labels {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    labels.insert("__name__".to_owned(), name.to_owned());
}

fn millis(nanos: u64) -> i64 {
    (nanos / 1_000_000) as i64
}

fn value_or_stale(value: f64, flags: u32) -> f64 {
    if flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
        f64::from_bits(STALE_NAN)
    } else {
        value
    }
}

/// Converts one metric; returns the latest timestamp it had (ms).
fn convert_metric(
    config: &Options,
    metric: &Metric,
    base: &BTreeMap<String, String>,
    out: &mut Series,
    report: &mut Report,
    mut accumulator: Option<&mut Accumulator>,
) -> i64 {
    let cumulative = AggregationTemporality::Cumulative as i32;
    let name = |kind| {
        metric_name(
            &metric.name,
            &metric.unit,
            kind,
            &config.namespace,
            config.add_metric_suffixes,
        )
    };
    let mut latest = 0;
    let metadata = |out: &mut Series, family: &str, kind: MetricType| {
        if config.metadata {
            out.metadata.insert(
                family.to_owned(),
                MetricMetadata {
                    r#type: kind as i32,
                    metric_family_name: family.to_owned(),
                    help: metric.description.clone(),
                    unit: metric.unit.clone(),
                },
            );
        }
    };
    let labels_for = |attrs: &[KeyValue]| {
        let mut labels = BTreeMap::new();
        add_attributes(&mut labels, attrs);
        for (k, v) in base {
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        labels
    };
    match &metric.data {
        Some(Data::Gauge(g)) => {
            let family = name(Kind::Gauge);
            metadata(out, &family, MetricType::Gauge);
            for p in &g.data_points {
                let mut labels = labels_for(&p.attributes);
                finish(config, &mut labels, &family);
                let t = millis(p.time_unix_nano);
                latest = latest.max(t);
                out.add(labels, value_or_stale(number(&p.value), p.flags), t);
            }
        }
        Some(Data::Sum(s)) if s.aggregation_temporality != cumulative => {
            let Some(acc) = accumulator.as_deref_mut().filter(|_| s.is_monotonic) else {
                report.drop(metric, s.data_points.len(), true);
                return latest;
            };
            let family = name(Kind::Counter);
            metadata(out, &family, MetricType::Counter);
            for p in &s.data_points {
                let mut labels = labels_for(&p.attributes);
                finish(config, &mut labels, &family);
                let t = millis(p.time_unix_nano);
                latest = latest.max(t);
                let key: Vec<Label> = labels
                    .iter()
                    .map(|(name, value)| Label {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect();
                let total = acc.add_sum(
                    key,
                    number(&p.value),
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                );
                out.add(labels, value_or_stale(total, p.flags), t);
            }
        }
        Some(Data::Sum(s)) => {
            let (kind, ty) = if s.is_monotonic {
                (Kind::Counter, MetricType::Counter)
            } else {
                (Kind::Gauge, MetricType::Gauge)
            };
            let family = name(kind);
            metadata(out, &family, ty);
            for p in &s.data_points {
                let mut labels = labels_for(&p.attributes);
                finish(config, &mut labels, &family);
                let t = millis(p.time_unix_nano);
                latest = latest.max(t);
                out.add(labels, value_or_stale(number(&p.value), p.flags), t);
            }
        }
        Some(Data::Histogram(h))
            if h.aggregation_temporality != cumulative && accumulator.is_none() =>
        {
            report.drop(metric, h.data_points.len(), true);
        }
        Some(Data::Histogram(h)) => {
            let delta = h.aggregation_temporality != cumulative;
            let family = name(Kind::Distribution);
            metadata(out, &family, MetricType::Histogram);
            for p in &h.data_points {
                let t = millis(p.time_unix_nano);
                latest = latest.max(t);
                let base_labels = labels_for(&p.attributes);
                let v = |x: f64| value_or_stale(x, p.flags);
                let mut point = HistogramTotal {
                    bounds: p.explicit_bounds.clone(),
                    buckets: p.bucket_counts.clone(),
                    count: p.count,
                    sum: p.sum,
                };
                if let Some(acc) = accumulator.as_deref_mut().filter(|_| delta) {
                    let mut key_labels = base_labels.clone();
                    finish(config, &mut key_labels, &family);
                    let key: Vec<Label> = key_labels
                        .into_iter()
                        .map(|(name, value)| Label { name, value })
                        .collect();
                    point = acc.add_histogram(key, point, p.start_time_unix_nano, p.time_unix_nano);
                }
                if let Some(sum) = point.sum {
                    let mut labels = base_labels.clone();
                    finish(config, &mut labels, &format!("{family}_sum"));
                    out.add(labels, v(sum), t);
                }
                let mut labels = base_labels.clone();
                finish(config, &mut labels, &format!("{family}_count"));
                out.add(labels, v(point.count as f64), t);
                let mut running = 0u64;
                for (i, bound) in point.bounds.iter().enumerate() {
                    running += point.buckets.get(i).copied().unwrap_or(0);
                    let mut labels = base_labels.clone();
                    labels.insert("le".to_owned(), float_text(*bound));
                    finish(config, &mut labels, &format!("{family}_bucket"));
                    out.add(labels, v(running as f64), t);
                }
                let mut labels = base_labels;
                labels.insert("le".to_owned(), "+Inf".to_owned());
                finish(config, &mut labels, &format!("{family}_bucket"));
                out.add(labels, v(point.count as f64), t);
            }
        }
        Some(Data::Summary(s)) => {
            let family = name(Kind::Distribution);
            metadata(out, &family, MetricType::Summary);
            for p in &s.data_points {
                let t = millis(p.time_unix_nano);
                latest = latest.max(t);
                let base_labels = labels_for(&p.attributes);
                let v = |x: f64| value_or_stale(x, p.flags);
                let mut labels = base_labels.clone();
                finish(config, &mut labels, &format!("{family}_sum"));
                out.add(labels, v(p.sum), t);
                let mut labels = base_labels.clone();
                finish(config, &mut labels, &format!("{family}_count"));
                out.add(labels, v(p.count as f64), t);
                for q in &p.quantile_values {
                    let mut labels = base_labels.clone();
                    labels.insert("quantile".to_owned(), float_text(q.quantile));
                    finish(config, &mut labels, &family);
                    out.add(labels, v(q.value), t);
                }
            }
        }
        Some(Data::ExponentialHistogram(e)) => {
            report.drop(metric, e.data_points.len(), false);
        }
        None => {}
    }
    latest
}

fn number(value: &Option<number_data_point::Value>) -> f64 {
    match value {
        Some(number_data_point::Value::AsDouble(d)) => *d,
        Some(number_data_point::Value::AsInt(i)) => *i as f64,
        None => 0.0,
    }
}
