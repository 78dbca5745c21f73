//! Table-driven tests of the filter processor: input request, conditions,
//! expected request, for every context; error modes; malformed conditions.

use crate::{Config, process_payload};
use serde_json::json;
use weir_plugin_sdk::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_plugin_sdk::otlp::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data,
};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, span::Event};
use weir_plugin_sdk::otlp::*;
use weir_plugin_sdk::processor::Signal;

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![key_value("service.name", string_value(service))],
        ..Default::default()
    })
}

fn span(name: &str, events: &[&str]) -> Span {
    Span {
        name: name.into(),
        events: events
            .iter()
            .map(|e| Event {
                name: (*e).into(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// Resources `(service, spans)`, one scope each.
fn traces(resources: Vec<(&str, Vec<Span>)>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: resources
            .into_iter()
            .map(|(service, spans)| ResourceSpans {
                resource: resource(service),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

fn gauge(name: &str, values: &[i64]) -> Metric {
    Metric {
        name: name.into(),
        data: Some(Data::Gauge(Gauge {
            data_points: values
                .iter()
                .map(|v| NumberDataPoint {
                    value: Some(
                        weir_plugin_sdk::otlp::metrics::v1::number_data_point::Value::AsInt(*v),
                    ),
                    ..Default::default()
                })
                .collect(),
        })),
        ..Default::default()
    }
}

fn metrics(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("checkout"),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs(severities: &[i32]) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("checkout"),
            scope_logs: vec![ScopeLogs {
                log_records: severities
                    .iter()
                    .map(|s| LogRecord {
                        severity_number: *s,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Runs `config` on `input`; the output bytes (None: all dropped).
fn run(config: serde_json::Value, signal: Signal, input: Vec<u8>) -> Option<Vec<u8>> {
    let config = Config::parse(&config.to_string()).unwrap_or_else(|e| panic!("{e}"));
    process_payload(&config, signal, &input).unwrap().payload
}

/// Config, signal, input payload, expected payload (None: all dropped).
type Case = (serde_json::Value, Signal, Vec<u8>, Option<Vec<u8>>);

#[test]
fn drops_what_matches() {
    let cases: Vec<Case> = vec![
        (
            json!({"traces": {"span": [r#"name == "health""#]}}),
            Signal::Traces,
            encode(&traces(vec![
                ("a", vec![span("GET", &[]), span("health", &[])]),
                ("b", vec![span("health", &[])]),
            ])),
            // Resource b is left empty and goes.
            Some(encode(&traces(vec![("a", vec![span("GET", &[])])]))),
        ),
        (
            json!({"traces": {"span": [r#"resource.attributes["service.name"] == "b""#, r#"IsMatch(name, "^x")"#]}}),
            Signal::Traces,
            encode(&traces(vec![
                ("a", vec![span("GET", &[]), span("xyz", &[])]),
                ("b", vec![span("GET", &[])]),
            ])),
            Some(encode(&traces(vec![("a", vec![span("GET", &[])])]))),
        ),
        (
            json!({"traces": {"spanevent": [r#"name == "debug" and span.name == "GET""#]}}),
            Signal::Traces,
            encode(&traces(vec![(
                "a",
                vec![
                    span("GET", &["debug", "exception"]),
                    span("PUT", &["debug"]),
                ],
            )])),
            Some(encode(&traces(vec![(
                "a",
                vec![span("GET", &["exception"]), span("PUT", &["debug"])],
            )]))),
        ),
        (
            json!({"traces": {"span": ["true"]}}),
            Signal::Traces,
            encode(&traces(vec![("a", vec![span("GET", &[])])])),
            None,
        ),
        (
            json!({"metrics": {"metric": [r#"name == "unused" and type == METRIC_DATA_TYPE_GAUGE"#]}}),
            Signal::Metrics,
            encode(&metrics(vec![gauge("used", &[1]), gauge("unused", &[2])])),
            Some(encode(&metrics(vec![gauge("used", &[1])]))),
        ),
        (
            // A metric whose every point is dropped goes; others keep what is left.
            json!({"metrics": {"datapoint": ["value_int > 10"]}}),
            Signal::Metrics,
            encode(&metrics(vec![gauge("a", &[1, 20]), gauge("b", &[30, 40])])),
            Some(encode(&metrics(vec![gauge("a", &[1])]))),
        ),
        (
            json!({"metrics": {"datapoint": ["value_int > 10"]}}),
            Signal::Metrics,
            encode(&metrics(vec![gauge("b", &[30])])),
            None,
        ),
        (
            json!({"logs": {"log_record": ["severity_number < SEVERITY_NUMBER_WARN"]}}),
            Signal::Logs,
            encode(&logs(&[9, 13, 17, 5])),
            Some(encode(&logs(&[13, 17]))),
        ),
        (
            // Conditions for another signal leave this one alone.
            json!({"logs": {"log_record": ["true"]}}),
            Signal::Traces,
            encode(&traces(vec![("a", vec![span("GET", &[])])])),
            Some(encode(&traces(vec![("a", vec![span("GET", &[])])]))),
        ),
    ];
    for (config, signal, input, expected) in cases {
        assert_eq!(run(config.clone(), signal, input), expected, "{config}");
    }
}

#[test]
fn error_modes() {
    let input = encode(&traces(vec![(
        "a",
        vec![span("GET", &[]), span("health", &[])],
    )]));
    let conditions = json!([r#"Substring(name, 0, 5) == "healt""#, r#"name == "health""#]);
    let parse = |mode: &str| {
        Config::parse(&json!({"error_mode": mode, "traces": {"span": conditions}}).to_string())
            .unwrap()
    };
    // "GET" is too short for Substring: under ignore and silent the failing
    // condition does not hold, the next is tried; "health" matches both.
    let expected = Some(encode(&traces(vec![("a", vec![span("GET", &[])])])));
    let ignore = process_payload(&parse("ignore"), Signal::Traces, &input).unwrap();
    assert_eq!(ignore.payload, expected);
    assert_eq!(ignore.dropped, 1);
    assert_eq!(
        ignore.ignored,
        vec![
            r#"condition `Substring(name, 0, 5) == "healt"`: Substring: invalid range [0, 5) for a string of length 3"#
        ]
    );
    let silent = process_payload(&parse("silent"), Signal::Traces, &input).unwrap();
    assert_eq!(silent.payload, expected);
    assert!(silent.ignored.is_empty());
    let err = process_payload(&parse("propagate"), Signal::Traces, &input).unwrap_err();
    assert_eq!(
        err,
        r#"condition `Substring(name, 0, 5) == "healt"`: Substring: invalid range [0, 5) for a string of length 3"#
    );
}

#[test]
fn malformed_conditions() {
    let cases: &[(serde_json::Value, &str)] = &[
        (
            json!({"traces": {"span": [r#"nme == "x""#]}}),
            "traces.span[0]: statement `nme == \"x\"`: column 1: unknown path `nme`: the span context has trace_id, trace_id.string, span_id, span_id.string, parent_span_id, parent_span_id.string, trace_state, name, kind, start_time_unix_nano, end_time_unix_nano, attributes, dropped_attributes_count, dropped_events_count, dropped_links_count, status.code, status.message, flags",
        ),
        (
            json!({"logs": {"log_record": [r#"IsMatch(body, "(")"#]}}),
            "logs.log_record[0]: statement `IsMatch(body, \"(\")`: column 15: invalid regex \"(\": unclosed group",
        ),
        (
            json!({"metrics": {"datapoint": [r#"IsMatch(metric.name)"#]}}),
            "metrics.datapoint[0]: statement `IsMatch(metric.name)`: column 20: `IsMatch` takes 2 arguments (target, pattern), got 1",
        ),
        (
            json!({"metrics": {"metric": [r#"name == "x"#]}}),
            "metrics.metric[0]: statement `name == \"x`: column 9: unterminated string: no closing `\"`",
        ),
        (
            json!({"traces": {"spans": ["true"]}}),
            "traces.spans: unknown key; expected span, spanevent",
        ),
        (
            json!({"spans": {"include": {}}}),
            "spans: the pre-OTTL filter form (include/exclude) is not supported; use traces.span, metrics.metric, metrics.datapoint or logs.log_record conditions",
        ),
        (
            json!({"error_mode": "ignore"}),
            "no conditions: set traces, metrics or logs",
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(
            Config::parse(&config.to_string()).unwrap_err(),
            *expected,
            "{config}"
        );
    }
}
