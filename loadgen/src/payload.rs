//! The request a generator sends over and over: built from a shape (items,
//! resources, attributes, payload size) or read from a file of protobuf
//! bytes. It is encoded once; each send only stamps it (see `stamp`).

use std::path::Path;

use anyhow::{Context, bail};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use prost::Message;
use weir_wire::Signal;

/// What a synthetic request looks like.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Items (spans, data points, log records) per request.
    pub items: usize,
    /// Resources the items are spread over (round robin).
    pub resources: usize,
    /// String attributes per item (`attr.N = value-N`).
    pub attributes: usize,
    /// Bytes of an extra `loadgen.payload` string attribute per item (0: none).
    pub payload_bytes: usize,
}

/// Encodes a synthetic request of `signal` with `shape`.
pub fn synthetic(signal: Signal, shape: &Shape) -> Vec<u8> {
    let resources = shape.resources.clamp(1, shape.items.max(1));
    // Items of resource r: r, r + resources, r + 2*resources, ...
    let per_resource = |r: usize| (r..shape.items).step_by(resources);
    match signal {
        Signal::Traces => ExportTraceServiceRequest {
            resource_spans: (0..resources)
                .map(|r| ResourceSpans {
                    resource: Some(resource(r)),
                    scope_spans: vec![ScopeSpans {
                        scope: Some(scope()),
                        spans: per_resource(r).map(|i| span(i, shape)).collect(),
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                })
                .collect(),
        }
        .encode_to_vec(),
        Signal::Metrics => ExportMetricsServiceRequest {
            resource_metrics: (0..resources)
                .map(|r| ResourceMetrics {
                    resource: Some(resource(r)),
                    scope_metrics: vec![ScopeMetrics {
                        scope: Some(scope()),
                        metrics: per_resource(r).map(|i| gauge(i, shape)).collect(),
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                })
                .collect(),
        }
        .encode_to_vec(),
        Signal::Logs => ExportLogsServiceRequest {
            resource_logs: (0..resources)
                .map(|r| ResourceLogs {
                    resource: Some(resource(r)),
                    scope_logs: vec![ScopeLogs {
                        scope: Some(scope()),
                        log_records: per_resource(r).map(|i| log_record(i, shape)).collect(),
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                })
                .collect(),
        }
        .encode_to_vec(),
    }
}

/// Reads a request from `path`: raw protobuf, or (`.grpc`) with the 5-byte
/// gRPC message frame, which is stripped. Returns the bytes and their item count.
pub fn from_file(signal: Signal, path: &Path) -> anyhow::Result<(Vec<u8>, usize)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let body = if path.extension().is_some_and(|e| e == "grpc") {
        unframe_grpc(&bytes).with_context(|| format!("{}: not a gRPC frame", path.display()))?
    } else {
        bytes
    };
    let items = weir_wire::count_items(signal, &body)
        .map_err(|e| anyhow::anyhow!("{} is not an OTLP {signal} request: {e}", path.display()))?;
    if items == 0 {
        bail!("{} holds no {}", path.display(), signal.item_name());
    }
    Ok((body, items))
}

/// The signal a payload file name starts with (`traces-...`), if any.
pub fn signal_of_file(path: &Path) -> Option<Signal> {
    let name = path.file_name()?.to_str()?;
    Signal::ALL
        .into_iter()
        .find(|s| name.starts_with(s.as_str()))
}

fn unframe_grpc(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let [0, a, b, c, d, rest @ ..] = bytes else {
        bail!("expected an uncompressed 5-byte frame header");
    };
    let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
    if len != rest.len() {
        bail!("frame says {len} bytes, {} follow", rest.len());
    }
    Ok(rest.to_vec())
}

fn string(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    }
}

fn resource(r: usize) -> Resource {
    Resource {
        attributes: vec![
            string("service.name", "loadgen".to_owned()),
            string("service.instance.id", format!("loadgen-{r}")),
        ],
        dropped_attributes_count: 0,
        entity_refs: Vec::new(),
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "weir-loadgen".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        attributes: Vec::new(),
        dropped_attributes_count: 0,
    }
}

fn attributes(i: usize, shape: &Shape) -> Vec<KeyValue> {
    let mut attrs: Vec<KeyValue> = (0..shape.attributes)
        .map(|a| string(&format!("attr.{a}"), format!("value-{a}-{}", i % 100)))
        .collect();
    if shape.payload_bytes > 0 {
        attrs.push(string("loadgen.payload", "x".repeat(shape.payload_bytes)));
    }
    attrs
}

/// A fixed base time (2026-01-01) so payloads are reproducible.
const BASE_NS: u64 = 1_767_225_600_000_000_000;

fn span(i: usize, shape: &Shape) -> Span {
    let mut trace_id = [0u8; 16];
    trace_id[8..].copy_from_slice(&(i as u64 / 8 + 1).to_be_bytes());
    Span {
        trace_id: trace_id.to_vec(),
        span_id: (i as u64 + 1).to_be_bytes().to_vec(),
        name: format!("operation-{}", i % 16),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: BASE_NS + i as u64 * 1_000,
        end_time_unix_nano: BASE_NS + i as u64 * 1_000 + 250_000,
        attributes: attributes(i, shape),
        ..Default::default()
    }
}

fn gauge(i: usize, shape: &Shape) -> Metric {
    Metric {
        name: format!("loadgen.gauge.{}", i % 16),
        unit: "1".to_owned(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                attributes: attributes(i, shape),
                time_unix_nano: BASE_NS + i as u64 * 1_000,
                value: Some(number_data_point::Value::AsInt(i as i64)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

fn log_record(i: usize, shape: &Shape) -> LogRecord {
    LogRecord {
        time_unix_nano: BASE_NS + i as u64 * 1_000,
        severity_number: 9,
        severity_text: "INFO".to_owned(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(format!("log line {i}"))),
        }),
        attributes: attributes(i, shape),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_requests_hold_the_items_asked_for() {
        for signal in Signal::ALL {
            for (items, resources) in [(1, 1), (10, 3), (1000, 10), (5, 50)] {
                let shape = Shape {
                    items,
                    resources,
                    attributes: 2,
                    payload_bytes: 0,
                };
                let bytes = synthetic(signal, &shape);
                assert_eq!(weir_wire::count_items(signal, &bytes).unwrap(), items);
            }
        }
    }

    #[test]
    fn payload_bytes_grow_the_request() {
        let shape = |payload_bytes| Shape {
            items: 10,
            resources: 1,
            attributes: 0,
            payload_bytes,
        };
        let small = synthetic(Signal::Logs, &shape(0)).len();
        let big = synthetic(Signal::Logs, &shape(1000)).len();
        assert!(big >= small + 10 * 1000, "{small} -> {big}");
    }

    #[test]
    fn grpc_files_are_unframed() {
        let dir = tempfile::tempdir().unwrap();
        let body = synthetic(
            Signal::Traces,
            &Shape {
                items: 7,
                resources: 1,
                attributes: 1,
                payload_bytes: 0,
            },
        );
        let mut framed = vec![0];
        framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
        framed.extend_from_slice(&body);
        let grpc = dir.path().join("traces-x.grpc");
        std::fs::write(&grpc, &framed).unwrap();
        let pb = dir.path().join("traces-x.pb");
        std::fs::write(&pb, &body).unwrap();
        assert_eq!(signal_of_file(&grpc), Some(Signal::Traces));
        assert_eq!(from_file(Signal::Traces, &grpc).unwrap(), (body.clone(), 7));
        assert_eq!(from_file(Signal::Traces, &pb).unwrap(), (body, 7));
        // Read as the wrong framing, it is refused with the file named.
        std::fs::write(&pb, &framed[..framed.len() - 1]).unwrap();
        let err = from_file(Signal::Traces, &pb).unwrap_err().to_string();
        assert!(err.contains("traces-x.pb"), "{err}");
    }
}
