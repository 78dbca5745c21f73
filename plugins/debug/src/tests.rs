//! Rendering real OTLP requests at each verbosity.

use crate::{Verbosity, render};
use weir_plugin_sdk::exporter::Signal;
use weir_plugin_sdk::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_plugin_sdk::otlp::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_plugin_sdk::otlp::*;

const T0: u64 = 1_581_452_772_000_000_321;

fn traces() -> Vec<u8> {
    let span = |name: &str| Span {
        name: name.into(),
        trace_id: (1..=16).collect(),
        span_id: (0x11..=0x18).collect(),
        kind: 2,
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 1_000_000_000,
        attributes: vec![key_value("http.method", string_value("GET"))],
        ..Default::default()
    };
    encode(&ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![key_value("service.name", string_value("api"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![span("a"), span("b")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

#[test]
fn traces_at_each_verbosity() {
    let basic = render(Verbosity::Basic, Signal::Traces, &traces()).unwrap();
    assert_eq!(basic, "Traces: 1 resource spans, 2 spans\n");

    let normal = render(Verbosity::Normal, Signal::Traces, &traces()).unwrap();
    assert!(
        normal.contains("a 0102030405060708090a0b0c0d0e0f10 1112131415161718 http.method=GET\n"),
        "{normal}"
    );
    assert_eq!(normal.lines().count(), 3);

    let detailed = render(Verbosity::Detailed, Signal::Traces, &traces()).unwrap();
    for line in [
        "ResourceSpans #0",
        "Resource attributes:",
        "     -> service.name: Str(api)",
        "ScopeSpans #0",
        "Span #1",
        "    Trace ID       : 0102030405060708090a0b0c0d0e0f10",
        "    ID             : 1112131415161718",
        "    Kind           : Server",
        "    Start time     : 2020-02-11 20:26:12.000000321 +0000 UTC",
        "    Status code    : Unset",
        "Attributes:",
        "     -> http.method: Str(GET)",
    ] {
        assert!(
            detailed.lines().any(|l| l == line),
            "missing {line:?} in\n{detailed}"
        );
    }
    assert!(detailed.ends_with('\n'));
}

fn metrics() -> Vec<u8> {
    let attrs = || vec![key_value("host", string_value("h1"))];
    let metric = |name: &str, data| Metric {
        name: name.into(),
        data: Some(data),
        ..Default::default()
    };
    let number = |v| NumberDataPoint {
        attributes: attrs(),
        value: Some(v),
        time_unix_nano: T0,
        ..Default::default()
    };
    encode(&ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    metric(
                        "g",
                        Data::Gauge(Gauge {
                            data_points: vec![number(number_data_point::Value::AsInt(123))],
                        }),
                    ),
                    metric(
                        "s",
                        Data::Sum(Sum {
                            data_points: vec![number(number_data_point::Value::AsDouble(1.23))],
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        }),
                    ),
                    metric(
                        "h",
                        Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: attrs(),
                                count: 1,
                                sum: Some(15.0),
                                bucket_counts: vec![0, 1],
                                explicit_bounds: vec![1.0],
                                ..Default::default()
                            }],
                            aggregation_temporality: 2,
                        }),
                    ),
                    metric(
                        "e",
                        Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint {
                                attributes: attrs(),
                                count: 3,
                                zero_count: 1,
                                scale: 1,
                                positive: Some(Buckets {
                                    offset: 1,
                                    bucket_counts: vec![1, 1],
                                }),
                                ..Default::default()
                            }],
                            aggregation_temporality: 1,
                        }),
                    ),
                    metric(
                        "q",
                        Data::Summary(Summary {
                            data_points: vec![SummaryDataPoint {
                                attributes: attrs(),
                                count: 1,
                                sum: 15.0,
                                ..Default::default()
                            }],
                        }),
                    ),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

#[test]
fn metrics_at_each_verbosity() {
    let basic = render(Verbosity::Basic, Signal::Metrics, &metrics()).unwrap();
    assert_eq!(
        basic,
        "Metrics: 1 resource metrics, 5 metrics, 5 data points\n"
    );

    let normal = render(Verbosity::Normal, Signal::Metrics, &metrics()).unwrap();
    assert!(normal.contains("g{host=h1} 123\n"), "{normal}");
    assert!(normal.contains("s{host=h1} 1.230000\n"), "{normal}");
    assert!(normal.contains("h{host=h1} count=1 sum=15\n"), "{normal}");

    let detailed = render(Verbosity::Detailed, Signal::Metrics, &metrics()).unwrap();
    for line in [
        "ResourceMetrics #0",
        "Metric #0",
        "     -> DataType: Gauge",
        "NumberDataPoints #0",
        "Data point attributes:",
        "     -> host: Str(h1)",
        "Value: 123",
        "Value: 1.230000",
        "     -> AggregationTemporality: Cumulative",
        "HistogramDataPoints #0",
        "ExplicitBounds #0: 1.000000",
        "Buckets #1, Count: 1",
        "ExponentialHistogramDataPoints #0",
        "Bucket [0, 0], Count: 1",
        "Bucket (1.414214, 2.000000], Count: 1",
        "SummaryDataPoints #0",
        "Sum: 15.000000",
    ] {
        assert!(
            detailed.lines().any(|l| l == line),
            "missing {line:?} in\n{detailed}"
        );
    }
}

#[test]
fn logs_at_each_verbosity() {
    let payload = encode(&ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: T0,
                    severity_number: 9,
                    severity_text: "Info".into(),
                    body: Some(string_value("hello")),
                    attributes: vec![
                        key_value("app", string_value("server")),
                        key_value("n", int_value(1)),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    });
    assert_eq!(
        render(Verbosity::Basic, Signal::Logs, &payload).unwrap(),
        "Logs: 1 resource logs, 1 log records\n"
    );
    let normal = render(Verbosity::Normal, Signal::Logs, &payload).unwrap();
    assert!(normal.ends_with("hello app=server n=1\n"), "{normal}");
    let detailed = render(Verbosity::Detailed, Signal::Logs, &payload).unwrap();
    for line in [
        "ResourceLog #0",
        "LogRecord #0",
        "SeverityNumber: Info(9)",
        "Body: Str(hello)",
        "     -> n: Int(1)",
        "Timestamp: 2020-02-11 20:26:12.000000321 +0000 UTC",
    ] {
        assert!(
            detailed.lines().any(|l| l == line),
            "missing {line:?} in\n{detailed}"
        );
    }
}

#[test]
fn undecodable_payload_is_an_error() {
    let err = render(Verbosity::Basic, Signal::Metrics, &[0xff]).unwrap_err();
    assert!(
        err.starts_with("cannot decode ExportMetricsServiceRequest"),
        "{err}"
    );
}
