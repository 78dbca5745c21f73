//! Test requests built with `opentelemetry-proto`, random shapes from a
//! seeded xorshift, and a flattened view of a request to compare two
//! requests "after regrouping".

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

use crate::Signal;

/// A tiny deterministic xorshift64 generator: no extra dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn resource(i: u64) -> Resource {
    Resource {
        attributes: vec![kv("service.name", &format!("svc-{i}"))],
        ..Default::default()
    }
}

fn scope(i: u64) -> InstrumentationScope {
    InstrumentationScope {
        name: format!("scope-{i}"),
        version: "1.0".into(),
        ..Default::default()
    }
}

pub fn span(i: u64, attributes: usize) -> Span {
    Span {
        trace_id: i.to_le_bytes().repeat(2),
        span_id: i.to_be_bytes().to_vec(),
        name: format!("span-{i}"),
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_000 + i,
        end_time_unix_nano: 1_700_000_000_000_100_000 + i,
        attributes: (0..attributes)
            .map(|a| kv(&format!("attr.{a}"), &format!("value-{i}-{a}")))
            .collect(),
        ..Default::default()
    }
}

pub fn log_record(i: u64) -> LogRecord {
    LogRecord {
        time_unix_nano: 1_700_000_000_000_000_000 + i,
        severity_number: 9,
        severity_text: "INFO".into(),
        body: Some(AnyValue {
            value: Some(Value::StringValue(format!("log line {i}"))),
        }),
        attributes: vec![kv("k", "v")],
        ..Default::default()
    }
}

fn number_point(i: u64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![kv("point", &i.to_string())],
        time_unix_nano: i,
        value: Some(number_data_point::Value::AsInt(i as i64)),
        ..Default::default()
    }
}

/// The five metric data kinds, `kind` in 0..5, with `points` data points.
pub fn metric_data(kind: u64, points: u64, first: u64) -> Data {
    let ids = first..first + points;
    match kind {
        0 => Data::Gauge(Gauge {
            data_points: ids.map(number_point).collect(),
        }),
        1 => Data::Sum(Sum {
            data_points: ids.map(number_point).collect(),
            aggregation_temporality: 2,
            is_monotonic: true,
        }),
        2 => Data::Histogram(Histogram {
            data_points: ids
                .map(|i| HistogramDataPoint {
                    count: i,
                    bucket_counts: vec![i, 1],
                    explicit_bounds: vec![1.5],
                    ..Default::default()
                })
                .collect(),
            aggregation_temporality: 1,
        }),
        3 => Data::ExponentialHistogram(ExponentialHistogram {
            data_points: ids
                .map(|i| ExponentialHistogramDataPoint {
                    count: i,
                    scale: 3,
                    ..Default::default()
                })
                .collect(),
            aggregation_temporality: 2,
        }),
        _ => Data::Summary(Summary {
            data_points: ids
                .map(|i| SummaryDataPoint {
                    count: i,
                    sum: i as f64,
                    ..Default::default()
                })
                .collect(),
        }),
    }
}

pub fn metric(i: u64, data: Data) -> Metric {
    Metric {
        name: format!("metric.{i}"),
        description: "a test metric".into(),
        unit: "1".into(),
        metadata: vec![kv("m", "d")],
        data: Some(data),
    }
}

/// A random request of `signal` (some resources, scopes and items, with
/// empty resources and scopes now and then) and its item count.
pub fn random_request(signal: Signal, rng: &mut Rng) -> (Vec<u8>, usize) {
    let mut items = 0usize;
    let mut id = 0u64;
    let resources = rng.below(4);
    let bytes = match signal {
        Signal::Traces => ExportTraceServiceRequest {
            resource_spans: (0..resources)
                .map(|r| ResourceSpans {
                    resource: (rng.below(4) != 0).then(|| resource(r)),
                    scope_spans: (0..rng.below(4))
                        .map(|s| ScopeSpans {
                            scope: Some(scope(s)),
                            spans: (0..rng.below(7))
                                .map(|_| {
                                    items += 1;
                                    id += 1;
                                    span(id, rng.below(4) as usize)
                                })
                                .collect(),
                            schema_url: if s % 2 == 0 {
                                "https://s".into()
                            } else {
                                String::new()
                            },
                        })
                        .collect(),
                    schema_url: format!("https://r/{r}"),
                })
                .collect(),
        }
        .encode_to_vec(),
        Signal::Logs => ExportLogsServiceRequest {
            resource_logs: (0..resources)
                .map(|r| ResourceLogs {
                    resource: Some(resource(r)),
                    scope_logs: (0..rng.below(4))
                        .map(|s| ScopeLogs {
                            scope: (rng.below(3) != 0).then(|| scope(s)),
                            log_records: (0..rng.below(7))
                                .map(|_| {
                                    items += 1;
                                    id += 1;
                                    log_record(id)
                                })
                                .collect(),
                            schema_url: "https://s".into(),
                        })
                        .collect(),
                    schema_url: String::new(),
                })
                .collect(),
        }
        .encode_to_vec(),
        Signal::Metrics => ExportMetricsServiceRequest {
            resource_metrics: (0..resources)
                .map(|r| ResourceMetrics {
                    resource: Some(resource(r)),
                    scope_metrics: (0..rng.below(4))
                        .map(|s| ScopeMetrics {
                            scope: Some(scope(s)),
                            metrics: (0..rng.below(4))
                                .map(|_| {
                                    let points = rng.below(6);
                                    items += points as usize;
                                    id += points + 1;
                                    metric(id, metric_data(rng.below(5), points, id))
                                })
                                .collect(),
                            schema_url: "https://s".into(),
                        })
                        .collect(),
                    schema_url: "https://r".into(),
                })
                .collect(),
        }
        .encode_to_vec(),
    };
    (bytes, items)
}

/// One item with everything around it, each part encoded: requests are
/// equal "after regrouping" when their flattened item lists are equal.
pub fn flatten(signal: Signal, bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    match signal {
        Signal::Traces => {
            let req = ExportTraceServiceRequest::decode(bytes).unwrap();
            for rs in req.resource_spans {
                for ss in &rs.scope_spans {
                    for span in &ss.spans {
                        out.push(vec![
                            opt(&rs.resource),
                            rs.schema_url.clone().into_bytes(),
                            opt(&ss.scope),
                            ss.schema_url.clone().into_bytes(),
                            span.encode_to_vec(),
                        ]);
                    }
                }
            }
        }
        Signal::Logs => {
            let req = ExportLogsServiceRequest::decode(bytes).unwrap();
            for rl in req.resource_logs {
                for sl in &rl.scope_logs {
                    for record in &sl.log_records {
                        out.push(vec![
                            opt(&rl.resource),
                            rl.schema_url.clone().into_bytes(),
                            opt(&sl.scope),
                            sl.schema_url.clone().into_bytes(),
                            record.encode_to_vec(),
                        ]);
                    }
                }
            }
        }
        Signal::Metrics => {
            let req = ExportMetricsServiceRequest::decode(bytes).unwrap();
            for rm in req.resource_metrics {
                for sm in &rm.scope_metrics {
                    for m in &sm.metrics {
                        let head = Metric {
                            data: None,
                            ..m.clone()
                        }
                        .encode_to_vec();
                        let around = |p: Vec<u8>, data: Vec<u8>| {
                            vec![
                                opt(&rm.resource),
                                rm.schema_url.clone().into_bytes(),
                                opt(&sm.scope),
                                sm.schema_url.clone().into_bytes(),
                                head.clone(),
                                data,
                                p,
                            ]
                        };
                        match &m.data {
                            Some(Data::Gauge(g)) => out.extend(
                                g.data_points
                                    .iter()
                                    .map(|p| around(p.encode_to_vec(), b"g".to_vec())),
                            ),
                            Some(Data::Sum(s)) => out.extend(s.data_points.iter().map(|p| {
                                let head = Sum {
                                    data_points: vec![],
                                    ..s.clone()
                                };
                                around(p.encode_to_vec(), head.encode_to_vec())
                            })),
                            Some(Data::Histogram(h)) => out.extend(h.data_points.iter().map(|p| {
                                let head = Histogram {
                                    data_points: vec![],
                                    ..h.clone()
                                };
                                around(p.encode_to_vec(), head.encode_to_vec())
                            })),
                            Some(Data::ExponentialHistogram(h)) => {
                                out.extend(h.data_points.iter().map(|p| {
                                    let head = ExponentialHistogram {
                                        data_points: vec![],
                                        ..h.clone()
                                    };
                                    around(p.encode_to_vec(), head.encode_to_vec())
                                }))
                            }
                            Some(Data::Summary(s)) => out.extend(
                                s.data_points
                                    .iter()
                                    .map(|p| around(p.encode_to_vec(), b"s".to_vec())),
                            ),
                            None => {}
                        }
                    }
                }
            }
        }
    }
    out
}

/// A length-delimited field `number` holding `content`.
pub fn wrap(number: u32, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::scan::put_varint(&mut out, u64::from(number) << 3 | 2);
    crate::scan::put_varint(&mut out, content.len() as u64);
    out.extend_from_slice(content);
    out
}

/// An optional message, encoded so that "absent" and "empty" differ.
fn opt<M: Message>(m: &Option<M>) -> Vec<u8> {
    m.as_ref().map_or(vec![0xff], |m| m.encode_to_vec())
}

/// A request of `n` spans (10 attributes each) under one resource and scope.
pub fn traces_request(n: u64) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(0)),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope(0)),
                spans: (0..n).map(|i| span(i, 10)).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

/// The shared load-test payloads, when `/work/shared/otlp-payloads` exists.
pub fn shared_payloads() -> Option<Vec<(Signal, Vec<u8>)>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/otlp-payloads");
    let mut found = Vec::new();
    for (signal, file) in [
        (Signal::Traces, "traces-r10-i100.pb"),
        (Signal::Metrics, "metrics-r10-i100.pb"),
        (Signal::Logs, "logs-r10-i100.pb"),
    ] {
        match std::fs::read(dir.join(file)) {
            Ok(bytes) => found.push((signal, bytes)),
            Err(e) => {
                eprintln!(
                    "skipping shared payloads: {}: {e}",
                    dir.join(file).display()
                );
                return None;
            }
        }
    }
    Some(found)
}
