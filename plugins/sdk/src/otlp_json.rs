//! OTLP/JSON encoding as the Go collector's pdata JSON marshaler writes it
//! (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).
//!
//! `opentelemetry-proto`'s serde support already gives lowerCamelCase keys,
//! hex trace/span ids, enums as integers and 64-bit integers as strings. What
//! it gets wrong for a Go reader is fixed here on the `serde_json::Value`:
//!
//! - absent optional fields come out as `null` (`"resource": null`,
//!   `"min": null`): removed, as Go omits them;
//! - non-finite doubles in metric values come out as `null`: written as
//!   `"NaN"`, `"Infinity"` or `"-Infinity"` as the spec asks;
//! - fields at their default value (`""`, `0`, `"0"`, `false`, `[]`) are
//!   removed, as Go omits them, except oneof and optional members whose
//!   presence carries meaning (`asDouble: 0`, `intValue: "0"`, `sum: 0`).
//!
//! Known gap: a NaN or infinite `doubleValue` inside an attribute is dropped
//! (it reads back as an empty value).

use crate::exporter::Signal;
use crate::otlp::metrics::v1::{
    Exemplar, NumberDataPoint, exemplar, metric::Data, number_data_point,
};
use crate::otlp::{self, ExportMetricsServiceRequest};
use serde_json::Value;

/// Keys kept even at their default value: oneof members and optional fields.
const KEEP: [&str; 12] = [
    "asDouble",
    "asInt",
    "stringValue",
    "boolValue",
    "intValue",
    "doubleValue",
    "bytesValue",
    "arrayValue",
    "kvlistValue",
    "sum",
    "min",
    "max",
];

/// Decodes `payload` as `signal`'s request and writes it as one line of OTLP/JSON.
pub fn to_json(signal: Signal, payload: &[u8]) -> Result<String, String> {
    let ser = |e: serde_json::Error| format!("cannot write OTLP/JSON: {e}");
    let mut value = match signal {
        Signal::Traces => {
            serde_json::to_value(otlp::decode_traces(payload).map_err(|e| e.0)?).map_err(ser)?
        }
        Signal::Logs => {
            serde_json::to_value(otlp::decode_logs(payload).map_err(|e| e.0)?).map_err(ser)?
        }
        Signal::Metrics => {
            let request = otlp::decode_metrics(payload).map_err(|e| e.0)?;
            let mut value = serde_json::to_value(&request).map_err(ser)?;
            special_doubles(&request, &mut value);
            value
        }
    };
    normalize(&mut value);
    serde_json::to_string(&value).map_err(ser)
}

/// Removes `null`s and default-valued fields (see the module docs).
pub fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, v| {
                normalize(v);
                !(v.is_null() || (!KEEP.contains(&key.as_str()) && is_default(v)))
            });
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

fn is_default(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty() || s == "0",
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn special(f: f64) -> Option<Value> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        None
    }
}

/// Sets `obj[key]` to the spec's string form when `f` is not finite.
fn patch(obj: Option<&mut Value>, key: &str, f: Option<f64>) {
    if let (Some(Value::Object(obj)), Some(s)) = (obj, f.and_then(special)) {
        obj.insert(key.to_owned(), s);
    }
}

fn at<'a>(v: &'a mut Value, path: &[(&str, usize)]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(v, |v, (key, i)| v.get_mut(*key)?.get_mut(*i))
}

/// Data point `p` of `metric`'s `kind` (`gauge`, `sum`, `histogram`, ...).
fn point<'a>(metric: &'a mut Value, kind: &str, p: usize) -> Option<&'a mut Value> {
    metric.get_mut(kind)?.get_mut("dataPoints")?.get_mut(p)
}

fn fix_exemplars(point: Option<&mut Value>, exemplars: &[Exemplar]) {
    let Some(point) = point else { return };
    for (e, ex) in exemplars.iter().enumerate() {
        if let Some(exemplar::Value::AsDouble(d)) = ex.value {
            patch(at(point, &[("exemplars", e)]), "asDouble", Some(d));
        }
    }
}

/// Walks the request beside its JSON and writes non-finite metric doubles as strings.
fn special_doubles(request: &ExportMetricsServiceRequest, json: &mut Value) {
    for (i, rm) in request.resource_metrics.iter().enumerate() {
        for (j, sm) in rm.scope_metrics.iter().enumerate() {
            for (k, m) in sm.metrics.iter().enumerate() {
                let path = [("resourceMetrics", i), ("scopeMetrics", j), ("metrics", k)];
                let Some(metric) = at(json, &path) else {
                    continue;
                };
                match &m.data {
                    Some(Data::Gauge(g)) => numbers(metric, "gauge", &g.data_points),
                    Some(Data::Sum(s)) => numbers(metric, "sum", &s.data_points),
                    Some(Data::Histogram(h)) => {
                        for (p, dp) in h.data_points.iter().enumerate() {
                            for (key, f) in [("sum", dp.sum), ("min", dp.min), ("max", dp.max)] {
                                patch(point(metric, "histogram", p), key, f);
                            }
                            fix_exemplars(point(metric, "histogram", p), &dp.exemplars);
                        }
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        let kind = "exponentialHistogram";
                        for (p, dp) in h.data_points.iter().enumerate() {
                            for (key, f) in [("sum", dp.sum), ("min", dp.min), ("max", dp.max)] {
                                patch(point(metric, kind, p), key, f);
                            }
                            fix_exemplars(point(metric, kind, p), &dp.exemplars);
                        }
                    }
                    Some(Data::Summary(s)) => {
                        for (p, dp) in s.data_points.iter().enumerate() {
                            patch(point(metric, "summary", p), "sum", Some(dp.sum));
                            for (q, v) in dp.quantile_values.iter().enumerate() {
                                let quantile = point(metric, "summary", p)
                                    .and_then(|jp| at(jp, &[("quantileValues", q)]));
                                patch(quantile, "value", Some(v.value));
                            }
                        }
                    }
                    None => {}
                }
            }
        }
    }
}

fn numbers(metric: &mut Value, kind: &str, points: &[NumberDataPoint]) {
    for (p, dp) in points.iter().enumerate() {
        if let Some(number_data_point::Value::AsDouble(d)) = dp.value {
            patch(point(metric, kind, p), "asDouble", Some(d));
        }
        fix_exemplars(point(metric, kind, p), &dp.exemplars);
    }
}
