//! Throughput of the wire-format batch operations the host does on every
//! request: merge by concatenation + count, count alone, and split.
//!
//! Run with `cargo bench -p weir --bench wire -- --warm-up-time 1 --measurement-time 3`.
//! Counting uses the shared load-test payloads in `/work/shared/otlp-payloads`
//! when they are there (independently generated, 1,000 items each), and
//! requests built here otherwise.

use std::hint::black_box;
use std::path::Path;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span::SpanKind};
use prost::Message;
use weir_wire::{Signal, count_items, split};

fn kv(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value)),
        }),
        ..Default::default()
    }
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            kv("service.name", "checkout".into()),
            kv("host.name", "node-17".into()),
        ],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "io.opentelemetry.http".into(),
        version: "1.32.0".into(),
        ..Default::default()
    })
}

/// A realistic request of `n` spans: one resource with `service.name`, one
/// scope, spans with ids, times, a status and 10 attributes each.
fn traces_request(n: u64) -> Vec<u8> {
    let spans = (0..n)
        .map(|i| Span {
            trace_id: (i / 8 + 1).to_be_bytes().repeat(2),
            span_id: (i + 1).to_be_bytes().to_vec(),
            parent_span_id: if i % 8 == 0 {
                vec![]
            } else {
                (i - i % 8 + 1).to_be_bytes().to_vec()
            },
            name: format!("GET /api/v1/items/{}", i % 50),
            kind: SpanKind::Server as i32,
            start_time_unix_nano: 1_763_000_000_000_000_000 + i * 1_000,
            end_time_unix_nano: 1_763_000_000_000_000_000 + i * 1_000 + 250_000,
            attributes: (0..10)
                .map(|a| {
                    kv(
                        &format!("app.attribute.{a}"),
                        format!("value-{}-{a}", i % 97),
                    )
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans,
                schema_url: String::new(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        }],
    }
    .encode_to_vec()
}

fn metrics_request(points: u64) -> Vec<u8> {
    let metrics = (0..points / 10)
        .map(|m| Metric {
            name: format!("http.server.requests.{m}"),
            unit: "1".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: (0..10)
                    .map(|p| NumberDataPoint {
                        attributes: vec![kv("route", format!("/r/{p}"))],
                        time_unix_nano: 1_763_000_000_000_000_000 + p,
                        value: Some(number_data_point::Value::AsInt(p as i64)),
                        ..Default::default()
                    })
                    .collect(),
            })),
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

fn logs_request(n: u64) -> Vec<u8> {
    let log_records = (0..n)
        .map(|i| LogRecord {
            time_unix_nano: 1_763_000_000_000_000_000 + i,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(Value::StringValue(format!("request {i} served in 12ms"))),
            }),
            attributes: vec![kv("http.route", "/api".into()), kv("user", format!("u{i}"))],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

/// The shared payload for `signal`, or a generated 1,000-item request.
fn payload(signal: Signal) -> (&'static str, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/otlp-payloads");
    if let Ok(bytes) = std::fs::read(dir.join(format!("{signal}-r10-i100.pb"))) {
        return ("shared", bytes);
    }
    let bytes = match signal {
        Signal::Traces => traces_request(1000),
        Signal::Metrics => metrics_request(1000),
        Signal::Logs => logs_request(1000),
    };
    ("generated", bytes)
}

fn merge_and_count(c: &mut Criterion) {
    let request = traces_request(1024);
    let mut group = c.benchmark_group("merge8x1024_spans+count");
    group.throughput(Throughput::Bytes(8 * request.len() as u64));
    group.bench_function("traces", |b| {
        b.iter(|| {
            let mut batch = BytesMut::with_capacity(8 * request.len());
            for _ in 0..8 {
                batch.extend_from_slice(black_box(&request));
            }
            let batch = batch.freeze();
            assert_eq!(count_items(Signal::Traces, &batch), Ok(8 * 1024));
            batch
        })
    });
    group.finish();
}

fn count(c: &mut Criterion) {
    let mut group = c.benchmark_group("count_items");
    for signal in Signal::ALL {
        let (source, bytes) = payload(signal);
        let items = count_items(signal, &bytes).expect("valid payload");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{signal}/{source}/{items}"), |b| {
            b.iter(|| count_items(signal, black_box(&bytes)).unwrap())
        });
    }
    group.finish();
}

fn split_8192(c: &mut Criterion) {
    let request = traces_request(8192);
    let mut group = c.benchmark_group("split8192_spans_into_1024");
    group.throughput(Throughput::Bytes(request.len() as u64));
    group.bench_function("traces", |b| {
        b.iter(|| {
            let parts = split(Signal::Traces, black_box(&request), 1024).unwrap();
            assert_eq!(parts.len(), 8);
            parts
        })
    });
    group.finish();
}

criterion_group!(benches, merge_and_count, count, split_8192);
criterion_main!(benches);
