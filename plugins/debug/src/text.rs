//! The basic (one summary line) and normal (one line per item) renderings,
//! and the dispatch on verbosity.

use crate::config::Verbosity;
use crate::detailed;
use crate::format::{as_string, hex, pairs};
use weir_plugin_sdk::exporter::Signal;
use weir_plugin_sdk::otlp::metrics::v1::{Metric, metric::Data, number_data_point};
use weir_plugin_sdk::otlp::{
    self, ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest,
};

/// Renders one batch as text ending with a newline.
pub fn render(verbosity: Verbosity, signal: Signal, payload: &[u8]) -> Result<String, String> {
    Ok(match signal {
        Signal::Traces => {
            let request = otlp::decode_traces(payload).map_err(|e| e.0)?;
            let mut out = basic_traces(&request);
            match verbosity {
                Verbosity::Basic => {}
                Verbosity::Normal => out.push_str(&normal_traces(&request)),
                Verbosity::Detailed => out.push_str(&detailed::traces(&request)),
            }
            out
        }
        Signal::Metrics => {
            let request = otlp::decode_metrics(payload).map_err(|e| e.0)?;
            let mut out = basic_metrics(&request);
            match verbosity {
                Verbosity::Basic => {}
                Verbosity::Normal => out.push_str(&normal_metrics(&request)),
                Verbosity::Detailed => out.push_str(&detailed::metrics(&request)),
            }
            out
        }
        Signal::Logs => {
            let request = otlp::decode_logs(payload).map_err(|e| e.0)?;
            let mut out = basic_logs(&request);
            match verbosity {
                Verbosity::Basic => {}
                Verbosity::Normal => out.push_str(&normal_logs(&request)),
                Verbosity::Detailed => out.push_str(&detailed::logs(&request)),
            }
            out
        }
    })
}

/// `Traces: 1 resource spans, 10 spans`
pub fn basic_traces(r: &ExportTraceServiceRequest) -> String {
    let spans: usize = r
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum();
    format!(
        "Traces: {} resource spans, {spans} spans\n",
        r.resource_spans.len()
    )
}

/// `Metrics: 1 resource metrics, 5 metrics, 6 data points`
pub fn basic_metrics(r: &ExportMetricsServiceRequest) -> String {
    let metrics: Vec<&Metric> = r
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .collect();
    let points: usize = metrics.iter().map(|m| data_point_count(m)).sum();
    format!(
        "Metrics: {} resource metrics, {} metrics, {points} data points\n",
        r.resource_metrics.len(),
        metrics.len()
    )
}

/// `Logs: 1 resource logs, 3 log records`
pub fn basic_logs(r: &ExportLogsServiceRequest) -> String {
    let records: usize = r
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .map(|sl| sl.log_records.len())
        .sum();
    format!(
        "Logs: {} resource logs, {records} log records\n",
        r.resource_logs.len()
    )
}

fn data_point_count(m: &Metric) -> usize {
    match &m.data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

fn line(head: String, attrs: Vec<String>) -> String {
    if attrs.is_empty() {
        format!("{head}\n")
    } else {
        format!("{head} {}\n", attrs.join(" "))
    }
}

/// One line per span: `name trace-id span-id k=v ...`
pub fn normal_traces(r: &ExportTraceServiceRequest) -> String {
    let spans = r
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans);
    spans
        .map(|s| {
            line(
                format!("{} {} {}", s.name, hex(&s.trace_id), hex(&s.span_id)),
                pairs(&s.attributes),
            )
        })
        .collect()
}

/// One line per log record: `body k=v ...`
pub fn normal_logs(r: &ExportLogsServiceRequest) -> String {
    let records = r
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records);
    records
        .map(|l| line(as_string(l.body.as_ref()), pairs(&l.attributes)))
        .collect()
}

/// One line per data point: `name{k=v,...} value`
pub fn normal_metrics(r: &ExportMetricsServiceRequest) -> String {
    let mut out = String::new();
    let metrics = r
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics);
    for m in metrics {
        let mut point = |attrs, value: String| {
            out.push_str(&format!(
                "{}{{{}}} {value}\n",
                m.name,
                pairs(attrs).join(",")
            ));
        };
        match &m.data {
            Some(Data::Gauge(g)) => g
                .data_points
                .iter()
                .for_each(|p| point(&p.attributes, number(&p.value))),
            Some(Data::Sum(s)) => s
                .data_points
                .iter()
                .for_each(|p| point(&p.attributes, number(&p.value))),
            Some(Data::Histogram(h)) => h.data_points.iter().for_each(|p| {
                point(
                    &p.attributes,
                    format!("count={} sum={}", p.count, p.sum.unwrap_or_default()),
                )
            }),
            Some(Data::ExponentialHistogram(h)) => h.data_points.iter().for_each(|p| {
                point(
                    &p.attributes,
                    format!("count={} sum={}", p.count, p.sum.unwrap_or_default()),
                )
            }),
            Some(Data::Summary(s)) => s
                .data_points
                .iter()
                .for_each(|p| point(&p.attributes, format!("count={} sum={}", p.count, p.sum))),
            None => {}
        }
    }
    out
}

/// A number data point's value: integers as is, doubles with 6 decimals (Go's `%f`).
pub fn number(value: &Option<number_data_point::Value>) -> String {
    match value {
        Some(number_data_point::Value::AsInt(i)) => i.to_string(),
        Some(number_data_point::Value::AsDouble(d)) => format!("{d:.6}"),
        None => String::new(),
    }
}
