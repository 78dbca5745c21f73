//! The detailed rendering, in the Go debug exporter's layout
//! (`ResourceSpans #0`, `Resource attributes:`, `     -> key: Str(value)`, ...).

use crate::format::{hex, time, typed};
use crate::text::number;
use std::fmt::Write;
use weir_plugin_sdk::otlp::common::v1::InstrumentationScope;
use weir_plugin_sdk::otlp::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint,
    exemplar, exponential_histogram_data_point::Buckets, metric::Data,
};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::{
    ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest, KeyValue,
};

/// `header` then one `     -> key: Type(value)` line per attribute; nothing when empty.
fn attributes(out: &mut String, header: &str, attrs: &[KeyValue], indent: &str) {
    if attrs.is_empty() {
        return;
    }
    let _ = writeln!(out, "{header}");
    for kv in attrs {
        let _ = writeln!(out, "{indent}-> {}: {}", kv.key, typed(kv.value.as_ref()));
    }
}

fn resource(out: &mut String, kind: &str, i: usize, resource: Option<&Resource>, schema_url: &str) {
    let _ = writeln!(out, "{kind} #{i}\nResource SchemaURL: {schema_url}");
    let attrs = resource
        .map(|r| r.attributes.as_slice())
        .unwrap_or_default();
    attributes(out, "Resource attributes:", attrs, "     ");
}

fn scope(
    out: &mut String,
    kind: &str,
    i: usize,
    scope: Option<&InstrumentationScope>,
    schema_url: &str,
) {
    let _ = writeln!(out, "{kind} #{i}\n{kind} SchemaURL: {schema_url}");
    let (name, version) = scope
        .map(|s| (s.name.as_str(), s.version.as_str()))
        .unwrap_or_default();
    let _ = writeln!(out, "InstrumentationScope {name} {version}");
    let attrs = scope.map(|s| s.attributes.as_slice()).unwrap_or_default();
    attributes(out, "InstrumentationScope attributes:", attrs, "     ");
}

const KINDS: [&str; 6] = [
    "Unspecified",
    "Internal",
    "Server",
    "Client",
    "Producer",
    "Consumer",
];
const STATUS: [&str; 3] = ["Unset", "Ok", "Error"];

fn name_of(names: &[&str], i: i32) -> String {
    usize::try_from(i)
        .ok()
        .and_then(|i| names.get(i))
        .map_or_else(|| i.to_string(), |s| (*s).to_owned())
}

/// Every span with its events and links.
pub fn traces(r: &ExportTraceServiceRequest) -> String {
    let mut out = String::new();
    for (i, rs) in r.resource_spans.iter().enumerate() {
        resource(
            &mut out,
            "ResourceSpans",
            i,
            rs.resource.as_ref(),
            &rs.schema_url,
        );
        for (j, ss) in rs.scope_spans.iter().enumerate() {
            scope(&mut out, "ScopeSpans", j, ss.scope.as_ref(), &ss.schema_url);
            for (k, s) in ss.spans.iter().enumerate() {
                let status = s.status.as_ref();
                let _ = writeln!(out, "Span #{k}");
                let _ = writeln!(out, "    Trace ID       : {}", hex(&s.trace_id));
                let _ = writeln!(out, "    Parent ID      : {}", hex(&s.parent_span_id));
                let _ = writeln!(out, "    ID             : {}", hex(&s.span_id));
                let _ = writeln!(out, "    Name           : {}", s.name);
                let _ = writeln!(out, "    Kind           : {}", name_of(&KINDS, s.kind));
                if !s.trace_state.is_empty() {
                    let _ = writeln!(out, "    TraceState     : {}", s.trace_state);
                }
                let _ = writeln!(out, "    Start time     : {}", time(s.start_time_unix_nano));
                let _ = writeln!(out, "    End time       : {}", time(s.end_time_unix_nano));
                let _ = writeln!(
                    out,
                    "    Status code    : {}",
                    name_of(&STATUS, status.map_or(0, |s| s.code))
                );
                let _ = writeln!(
                    out,
                    "    Status message : {}",
                    status.map_or("", |s| s.message.as_str())
                );
                let _ = writeln!(
                    out,
                    "    DroppedAttributesCount: {}",
                    s.dropped_attributes_count
                );
                attributes(&mut out, "Attributes:", &s.attributes, "     ");
                if !s.events.is_empty() {
                    out.push_str("Events:\n");
                }
                for (e, ev) in s.events.iter().enumerate() {
                    let _ = writeln!(out, "SpanEvent #{e}\n     -> Name: {}", ev.name);
                    let _ = writeln!(out, "     -> Timestamp: {}", time(ev.time_unix_nano));
                    let _ = writeln!(
                        out,
                        "     -> DroppedAttributesCount: {}",
                        ev.dropped_attributes_count
                    );
                    attributes(
                        &mut out,
                        "     -> Attributes::",
                        &ev.attributes,
                        "          ",
                    );
                }
                let _ = writeln!(out, "    DroppedEventsCount: {}", s.dropped_events_count);
                if !s.links.is_empty() {
                    out.push_str("Links:\n");
                }
                for (l, link) in s.links.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "SpanLink #{l}\n     -> Trace ID: {}",
                        hex(&link.trace_id)
                    );
                    let _ = writeln!(out, "     -> ID: {}", hex(&link.span_id));
                    let _ = writeln!(out, "     -> TraceState: {}", link.trace_state);
                    let _ = writeln!(
                        out,
                        "     -> DroppedAttributesCount: {}",
                        link.dropped_attributes_count
                    );
                    attributes(
                        &mut out,
                        "     -> Attributes::",
                        &link.attributes,
                        "          ",
                    );
                }
                let _ = writeln!(out, "    DroppedLinksCount: {}", s.dropped_links_count);
            }
        }
    }
    out
}

const SEVERITIES: [&str; 6] = ["Trace", "Debug", "Info", "Warn", "Error", "Fatal"];

/// Go's severity number string: `Info(9)`, `Warn2(14)`, `Unspecified(0)`.
fn severity(n: i32) -> String {
    if !(1..=24).contains(&n) {
        return format!("Unspecified({n})");
    }
    let (base, step) = (SEVERITIES[((n - 1) / 4) as usize], (n - 1) % 4 + 1);
    if step == 1 {
        format!("{base}({n})")
    } else {
        format!("{base}{step}({n})")
    }
}

/// Every log record.
pub fn logs(r: &ExportLogsServiceRequest) -> String {
    let mut out = String::new();
    for (i, rl) in r.resource_logs.iter().enumerate() {
        resource(
            &mut out,
            "ResourceLog",
            i,
            rl.resource.as_ref(),
            &rl.schema_url,
        );
        for (j, sl) in rl.scope_logs.iter().enumerate() {
            scope(&mut out, "ScopeLogs", j, sl.scope.as_ref(), &sl.schema_url);
            for (k, l) in sl.log_records.iter().enumerate() {
                let _ = writeln!(out, "LogRecord #{k}");
                let _ = writeln!(
                    out,
                    "ObservedTimestamp: {}",
                    time(l.observed_time_unix_nano)
                );
                let _ = writeln!(out, "Timestamp: {}", time(l.time_unix_nano));
                let _ = writeln!(out, "SeverityText: {}", l.severity_text);
                let _ = writeln!(out, "SeverityNumber: {}", severity(l.severity_number));
                if !l.event_name.is_empty() {
                    let _ = writeln!(out, "EventName: {}", l.event_name);
                }
                let _ = writeln!(out, "Body: {}", typed(l.body.as_ref()));
                attributes(&mut out, "Attributes:", &l.attributes, "     ");
                let _ = writeln!(out, "Trace ID: {}", hex(&l.trace_id));
                let _ = writeln!(out, "Span ID: {}", hex(&l.span_id));
                let _ = writeln!(out, "Flags: {}", l.flags);
            }
        }
    }
    out
}

const TEMPORALITY: [&str; 3] = ["Unspecified", "Delta", "Cumulative"];

fn point_head(out: &mut String, kind: &str, i: usize, attrs: &[KeyValue], start: u64, ts: u64) {
    let _ = writeln!(out, "{kind} #{i}");
    attributes(out, "Data point attributes:", attrs, "     ");
    let _ = writeln!(
        out,
        "StartTimestamp: {}\nTimestamp: {}",
        time(start),
        time(ts)
    );
}

fn exemplars(out: &mut String, exemplars: &[Exemplar]) {
    if exemplars.is_empty() {
        return;
    }
    out.push_str("Exemplars:\n");
    for (i, e) in exemplars.iter().enumerate() {
        let value = match e.value {
            Some(exemplar::Value::AsDouble(d)) => format!("{d:.6}"),
            Some(exemplar::Value::AsInt(n)) => n.to_string(),
            None => String::new(),
        };
        let _ = writeln!(out, "Exemplar #{i}\n     -> Trace ID: {}", hex(&e.trace_id));
        let _ = writeln!(out, "     -> Span ID: {}", hex(&e.span_id));
        let _ = writeln!(
            out,
            "     -> Timestamp: {}\n     -> Value: {value}",
            time(e.time_unix_nano)
        );
        attributes(
            out,
            "     -> FilteredAttributes:",
            &e.filtered_attributes,
            "          ",
        );
    }
}

fn min_max_sum(out: &mut String, sum: Option<f64>, min: Option<f64>, max: Option<f64>) {
    for (name, v) in [("Sum", sum), ("Min", min), ("Max", max)] {
        if let Some(v) = v {
            let _ = writeln!(out, "{name}: {v:.6}");
        }
    }
}

fn number_points(out: &mut String, points: &[NumberDataPoint]) {
    for (i, p) in points.iter().enumerate() {
        point_head(
            out,
            "NumberDataPoints",
            i,
            &p.attributes,
            p.start_time_unix_nano,
            p.time_unix_nano,
        );
        let _ = writeln!(out, "Value: {}", number(&p.value));
        exemplars(out, &p.exemplars);
    }
}

fn histogram_points(out: &mut String, points: &[HistogramDataPoint]) {
    for (i, p) in points.iter().enumerate() {
        point_head(
            out,
            "HistogramDataPoints",
            i,
            &p.attributes,
            p.start_time_unix_nano,
            p.time_unix_nano,
        );
        let _ = writeln!(out, "Count: {}", p.count);
        min_max_sum(out, p.sum, p.min, p.max);
        for (b, bound) in p.explicit_bounds.iter().enumerate() {
            let _ = writeln!(out, "ExplicitBounds #{b}: {bound:.6}");
        }
        for (b, count) in p.bucket_counts.iter().enumerate() {
            let _ = writeln!(out, "Buckets #{b}, Count: {count}");
        }
        exemplars(out, &p.exemplars);
    }
}

fn exponential_points(out: &mut String, points: &[ExponentialHistogramDataPoint]) {
    for (i, p) in points.iter().enumerate() {
        point_head(
            out,
            "ExponentialHistogramDataPoints",
            i,
            &p.attributes,
            p.start_time_unix_nano,
            p.time_unix_nano,
        );
        let _ = writeln!(out, "Count: {}", p.count);
        min_max_sum(out, p.sum, p.min, p.max);
        let base = 2f64.powf(2f64.powi(-p.scale));
        let bound = |index: i64| base.powf(index as f64);
        let empty = Buckets::default();
        let negative = p.negative.as_ref().unwrap_or(&empty);
        for (k, count) in negative.bucket_counts.iter().enumerate().rev() {
            let index = i64::from(negative.offset) + k as i64;
            let _ = writeln!(
                out,
                "Bucket [{:.6}, {:.6}), Count: {count}",
                -bound(index + 1),
                -bound(index)
            );
        }
        if p.zero_count != 0 {
            let _ = writeln!(out, "Bucket [0, 0], Count: {}", p.zero_count);
        }
        let positive = p.positive.as_ref().unwrap_or(&empty);
        for (k, count) in positive.bucket_counts.iter().enumerate() {
            let index = i64::from(positive.offset) + k as i64;
            let _ = writeln!(
                out,
                "Bucket ({:.6}, {:.6}], Count: {count}",
                bound(index),
                bound(index + 1)
            );
        }
        exemplars(out, &p.exemplars);
    }
}

fn summary_points(out: &mut String, points: &[SummaryDataPoint]) {
    for (i, p) in points.iter().enumerate() {
        point_head(
            out,
            "SummaryDataPoints",
            i,
            &p.attributes,
            p.start_time_unix_nano,
            p.time_unix_nano,
        );
        let _ = writeln!(out, "Count: {}\nSum: {:.6}", p.count, p.sum);
        for (q, v) in p.quantile_values.iter().enumerate() {
            let _ = writeln!(
                out,
                "QuantileValue #{q}: Quantile {:.6}, Value {:.6}",
                v.quantile, v.value
            );
        }
    }
}

/// Every metric with every data point.
pub fn metrics(r: &ExportMetricsServiceRequest) -> String {
    let mut out = String::new();
    for (i, rm) in r.resource_metrics.iter().enumerate() {
        resource(
            &mut out,
            "ResourceMetrics",
            i,
            rm.resource.as_ref(),
            &rm.schema_url,
        );
        for (j, sm) in rm.scope_metrics.iter().enumerate() {
            scope(
                &mut out,
                "ScopeMetrics",
                j,
                sm.scope.as_ref(),
                &sm.schema_url,
            );
            for (k, m) in sm.metrics.iter().enumerate() {
                let _ = writeln!(out, "Metric #{k}\nDescriptor:\n     -> Name: {}", m.name);
                let _ = writeln!(
                    out,
                    "     -> Description: {}\n     -> Unit: {}",
                    m.description, m.unit
                );
                let data_type = match &m.data {
                    Some(Data::Gauge(_)) => "Gauge",
                    Some(Data::Sum(_)) => "Sum",
                    Some(Data::Histogram(_)) => "Histogram",
                    Some(Data::ExponentialHistogram(_)) => "ExponentialHistogram",
                    Some(Data::Summary(_)) => "Summary",
                    None => "Empty",
                };
                let _ = writeln!(out, "     -> DataType: {data_type}");
                let temporality = |t: i32| name_of(&TEMPORALITY, t);
                match &m.data {
                    Some(Data::Gauge(g)) => number_points(&mut out, &g.data_points),
                    Some(Data::Sum(s)) => {
                        let _ = writeln!(out, "     -> IsMonotonic: {}", s.is_monotonic);
                        let _ = writeln!(
                            out,
                            "     -> AggregationTemporality: {}",
                            temporality(s.aggregation_temporality)
                        );
                        number_points(&mut out, &s.data_points);
                    }
                    Some(Data::Histogram(h)) => {
                        let _ = writeln!(
                            out,
                            "     -> AggregationTemporality: {}",
                            temporality(h.aggregation_temporality)
                        );
                        histogram_points(&mut out, &h.data_points);
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        let _ = writeln!(
                            out,
                            "     -> AggregationTemporality: {}",
                            temporality(h.aggregation_temporality)
                        );
                        exponential_points(&mut out, &h.data_points);
                    }
                    Some(Data::Summary(s)) => summary_points(&mut out, &s.data_points),
                    None => {}
                }
            }
        }
    }
    out
}
