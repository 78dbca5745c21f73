//! Table-driven tests of the transform processor on real OTLP requests:
//! one table per editor, converter and operator (input, statement,
//! expected output), every error_mode on a failing statement, every
//! context, and malformed statements with their exact errors.

use crate::{Config, process_payload};
use weir_plugin_sdk::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_plugin_sdk::otlp::metrics::v1::{
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric::Data, number_data_point,
};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, span::Event};
use weir_plugin_sdk::otlp::*;
use weir_plugin_sdk::processor::Signal;

fn s(v: &str) -> AnyValue {
    string_value(v)
}
fn i(v: i64) -> AnyValue {
    int_value(v)
}
fn b(v: bool) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::BoolValue(v)),
    }
}
fn d(v: f64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::DoubleValue(v)),
    }
}
fn map(kvs: &[(&str, AnyValue)]) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList {
            values: attrs(kvs),
        })),
    }
}
fn list(items: &[AnyValue]) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::ArrayValue(ArrayValue {
            values: items.to_vec(),
        })),
    }
}
fn attrs(kvs: &[(&str, AnyValue)]) -> Vec<KeyValue> {
    kvs.iter().map(|(k, v)| key_value(*k, v.clone())).collect()
}

/// A trace request with one span named `GET /users` under service `checkout`.
fn traces(span_attrs: Vec<KeyValue>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: attrs(&[("service.name", s("checkout"))]),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: "GET /users".into(),
                    kind: 2,
                    attributes: span_attrs,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn config(statements: &[&str], error_mode: &str) -> Config {
    let json = serde_json::json!({
        "error_mode": error_mode,
        "trace_statements": [{"context": "span", "statements": statements}],
    });
    Config::parse(&json.to_string()).unwrap_or_else(|e| panic!("{statements:?}: {e}"))
}

fn run_traces(
    config: &Config,
    request: &ExportTraceServiceRequest,
) -> Result<(ExportTraceServiceRequest, Vec<String>), String> {
    let outcome = process_payload(config, Signal::Traces, &encode(request))?;
    Ok((decode_traces(&outcome.payload).unwrap(), outcome.ignored))
}

/// Runs a table of (statement, input span attributes, expected span attributes).
fn table(cases: &[(&str, Vec<KeyValue>, Vec<KeyValue>)]) {
    for (statement, input, expected) in cases {
        let (out, ignored) = run_traces(&config(&[statement], "propagate"), &traces(input.clone()))
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
        assert!(ignored.is_empty());
        assert_eq!(out, traces(expected.clone()), "{statement}");
    }
}

#[test]
fn editors() {
    let base = || {
        attrs(&[
            ("http.method", s("GET")),
            ("token", s("abc123")),
            ("n", i(7)),
        ])
    };
    table(&[
        (
            r#"set(attributes["new"], "v")"#,
            base(),
            [base(), attrs(&[("new", s("v"))])].concat(),
        ),
        (
            r#"set(attributes["n"], 8)"#,
            base(),
            attrs(&[
                ("http.method", s("GET")),
                ("token", s("abc123")),
                ("n", i(8)),
            ]),
        ),
        (
            r#"set(attributes["from_resource"], resource.attributes["service.name"])"#,
            base(),
            [base(), attrs(&[("from_resource", s("checkout"))])].concat(),
        ),
        (
            r#"set(attributes["nothing"], attributes["missing"])"#,
            base(),
            base(),
        ),
        (
            r#"set(attributes["m"]["inner"], 1)"#,
            vec![],
            attrs(&[("m", map(&[("inner", i(1))]))]),
        ),
        (
            r#"delete_key(attributes, "token")"#,
            base(),
            attrs(&[("http.method", s("GET")), ("n", i(7))]),
        ),
        (
            r#"delete_matching_keys(attributes, "^http\\.")"#,
            base(),
            attrs(&[("token", s("abc123")), ("n", i(7))]),
        ),
        (
            r#"keep_keys(attributes, ["n", "token"])"#,
            base(),
            attrs(&[("token", s("abc123")), ("n", i(7))]),
        ),
        (
            r#"keep_matching_keys(attributes, "^to")"#,
            base(),
            attrs(&[("token", s("abc123"))]),
        ),
        (
            r#"limit(attributes, 2, ["n"])"#,
            base(),
            attrs(&[("http.method", s("GET")), ("n", i(7))]),
        ),
        (r#"limit(attributes, 5, [])"#, base(), base()),
        (
            r#"truncate_all(attributes, 3)"#,
            base(),
            attrs(&[("http.method", s("GET")), ("token", s("abc")), ("n", i(7))]),
        ),
        (
            r##"replace_pattern(attributes["token"], "[0-9]+", "#")"##,
            base(),
            attrs(&[("http.method", s("GET")), ("token", s("abc#")), ("n", i(7))]),
        ),
        (
            r#"replace_pattern(attributes["token"], "(abc)([0-9]+)", "$2-$1")"#,
            base(),
            attrs(&[
                ("http.method", s("GET")),
                ("token", s("123-abc")),
                ("n", i(7)),
            ]),
        ),
        (
            r#"replace_all_patterns(attributes, "value", "^G.T$", "get")"#,
            base(),
            attrs(&[
                ("http.method", s("get")),
                ("token", s("abc123")),
                ("n", i(7)),
            ]),
        ),
        (
            r#"replace_all_patterns(attributes, "key", "^http\\.", "h_")"#,
            base(),
            attrs(&[("h_method", s("GET")), ("token", s("abc123")), ("n", i(7))]),
        ),
        (
            r#"replace_match(attributes["token"], "abc*", "***")"#,
            base(),
            attrs(&[("http.method", s("GET")), ("token", s("***")), ("n", i(7))]),
        ),
        (
            r#"replace_match(attributes["token"], "xyz*", "***")"#,
            base(),
            base(),
        ),
        (
            r#"replace_all_matches(attributes, "{GET,POST}", "verb")"#,
            base(),
            attrs(&[
                ("http.method", s("verb")),
                ("token", s("abc123")),
                ("n", i(7)),
            ]),
        ),
        (
            r#"merge_maps(attributes, attributes["m"], "insert")"#,
            attrs(&[("a", s("1")), ("m", map(&[("a", s("2")), ("b", s("3"))]))]),
            attrs(&[
                ("a", s("1")),
                ("m", map(&[("a", s("2")), ("b", s("3"))])),
                ("b", s("3")),
            ]),
        ),
        (
            r#"merge_maps(attributes, attributes["m"], "update")"#,
            attrs(&[("a", s("1")), ("m", map(&[("a", s("2")), ("b", s("3"))]))]),
            attrs(&[("a", s("2")), ("m", map(&[("a", s("2")), ("b", s("3"))]))]),
        ),
        (
            r#"merge_maps(attributes, attributes["m"], "upsert")"#,
            attrs(&[("a", s("1")), ("m", map(&[("a", s("2")), ("b", s("3"))]))]),
            attrs(&[
                ("a", s("2")),
                ("m", map(&[("a", s("2")), ("b", s("3"))])),
                ("b", s("3")),
            ]),
        ),
    ]);
}

#[test]
fn converters() {
    let base = || attrs(&[("s", s("Hello World")), ("n", s("42")), ("f", d(2.9))]);
    let with = |extra: (&str, AnyValue)| [base(), attrs(&[extra])].concat();
    table(&[
        (
            r#"set(attributes["out"], Concat([name, attributes["n"], 1], "|"))"#,
            base(),
            with(("out", s("GET /users|42|1"))),
        ),
        (
            r#"set(attributes["out"], Concat([attributes["missing"], "x"], "-"))"#,
            base(),
            with(("out", s("<nil>-x"))),
        ),
        (
            r#"set(attributes["out"], IsMatch(attributes["s"], "^Hel+o"))"#,
            base(),
            with(("out", b(true))),
        ),
        (
            r#"set(attributes["out"], IsMatch(attributes["missing"], ".*"))"#,
            base(),
            with(("out", b(false))),
        ),
        (
            r#"set(attributes["out"], SHA256("abc"))"#,
            base(),
            with((
                "out",
                s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            )),
        ),
        (
            r#"set(attributes["out"], Int(attributes["n"]))"#,
            base(),
            with(("out", i(42))),
        ),
        (
            r#"set(attributes["out"], Int(attributes["f"]))"#,
            base(),
            with(("out", i(2))),
        ),
        (
            r#"set(attributes["out"], Int(attributes["s"]))"#,
            base(),
            base(),
        ),
        (
            r#"set(attributes["out"], String(attributes["f"]))"#,
            base(),
            with(("out", s("2.9"))),
        ),
        (
            r#"set(attributes["out"], String(kind))"#,
            base(),
            with(("out", s("2"))),
        ),
        (
            r#"set(attributes["out"], ConvertCase(attributes["s"], "upper"))"#,
            base(),
            with(("out", s("HELLO WORLD"))),
        ),
        (
            r#"set(attributes["out"], ConvertCase(attributes["s"], "lower"))"#,
            base(),
            with(("out", s("hello world"))),
        ),
        (
            r#"set(attributes["out"], ConvertCase(attributes["s"], "snake"))"#,
            base(),
            with(("out", s("hello_world"))),
        ),
        (
            r#"set(attributes["out"], ConvertCase("http_request", "camel"))"#,
            base(),
            with(("out", s("HttpRequest"))),
        ),
        (
            r#"set(attributes["out"], Split(attributes["s"], " "))"#,
            base(),
            with(("out", list(&[s("Hello"), s("World")]))),
        ),
        (
            r#"set(attributes["out"], Substring(attributes["s"], 6, 5))"#,
            base(),
            with(("out", s("World"))),
        ),
        (
            r#"set(attributes["out"], Len(attributes["s"]))"#,
            base(),
            with(("out", i(11))),
        ),
        (
            r#"set(attributes["out"], Len(Split(attributes["s"], "o")))"#,
            base(),
            with(("out", i(3))),
        ),
    ]);
}

#[test]
fn operators() {
    let base = || attrs(&[("n", i(5)), ("f", d(1.5)), ("s", s("b"))]);
    let hit = || [base(), attrs(&[("hit", b(true))])].concat();
    let cases: &[(&str, bool)] = &[
        (r#"attributes["n"] == 5"#, true),
        (r#"attributes["n"] == 5.0"#, true),
        (r#"attributes["n"] != 5"#, false),
        (r#"attributes["n"] < 6"#, true),
        (r#"attributes["n"] <= 5"#, true),
        (r#"attributes["n"] > 5"#, false),
        (r#"attributes["n"] >= 5"#, true),
        (r#"attributes["f"] > 1"#, true),
        (r#"attributes["s"] < "c""#, true),
        (r#"attributes["s"] > "c""#, false),
        (r#"attributes["s"] == 5"#, false),
        (r#"attributes["missing"] == nil"#, true),
        (r#"attributes["n"] == nil"#, false),
        (r#"attributes["missing"] < 1"#, false),
        (r#"name == "GET /users" and kind == SPAN_KIND_SERVER"#, true),
        (r#"name == "x" or attributes["n"] == 5"#, true),
        (r#"name == "x" or attributes["n"] == 6"#, false),
        (r#"not name == "x""#, true),
        (
            r#"not (name == "GET /users" and attributes["n"] == 5)"#,
            false,
        ),
        (r#"(name == "x" or true) and not false"#, true),
        (r#"resource.attributes["service.name"] == "checkout""#, true),
        (r#"IsMatch(name, "^GET")"#, true),
        (r#"true"#, true),
        (r#"false"#, false),
    ];
    for (condition, expect) in cases {
        let statement = format!(r#"set(attributes["hit"], true) where {condition}"#);
        let expected = if *expect { hit() } else { base() };
        table(&[(statement.as_str(), base(), expected)]);
    }
}

#[test]
fn span_fields() {
    let (out, _) = run_traces(
        &config(
            &[
                r#"set(name, Concat([name, "v2"], " "))"#,
                r#"set(status.code, STATUS_CODE_ERROR)"#,
                r#"set(status.message, "boom")"#,
                r#"set(kind, SPAN_KIND_CLIENT)"#,
                r#"set(name, 5)"#, // the wrong type for name: ignored, as in Go
                r#"set(instrumentation_scope.name, "weir")"#,
            ],
            "propagate",
        ),
        &traces(vec![]),
    )
    .unwrap();
    let span = &out.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.name, "GET /users v2");
    assert_eq!(
        span.status.as_ref().map(|s| (s.code, s.message.as_str())),
        Some((2, "boom"))
    );
    assert_eq!(span.kind, 3);
    assert_eq!(
        out.resource_spans[0].scope_spans[0]
            .scope
            .as_ref()
            .unwrap()
            .name,
        "weir"
    );
}

/// A failing statement (Substring past the end) between two good ones,
/// under each error_mode.
#[test]
fn error_modes() {
    let statements = [
        r#"set(attributes["before"], 1)"#,
        r#"set(attributes["short"], Substring(attributes["s"], 0, 50))"#,
        r#"set(attributes["after"], 2)"#,
    ];
    let input = traces(attrs(&[("s", s("tiny"))]));
    let both = traces(attrs(&[
        ("s", s("tiny")),
        ("before", i(1)),
        ("after", i(2)),
    ]));
    let (out, ignored) = run_traces(&config(&statements, "ignore"), &input).unwrap();
    assert_eq!(out, both);
    assert_eq!(ignored.len(), 1);
    assert!(
        ignored[0].contains("Substring: invalid range [0, 50) for a string of length 4"),
        "{ignored:?}"
    );
    assert!(ignored[0].contains(statements[1]), "{ignored:?}");

    let (out, ignored) = run_traces(&config(&statements, "silent"), &input).unwrap();
    assert_eq!(out, both);
    assert!(ignored.is_empty());

    let err = run_traces(&config(&statements, "propagate"), &input).unwrap_err();
    assert_eq!(
        err,
        format!(
            "statement `{}`: Substring: invalid range [0, 50) for a string of length 4",
            statements[1]
        )
    );
    // Propagate is the default.
    let json =
        serde_json::json!({"trace_statements": [{"context": "span", "statements": statements}]});
    let default = Config::parse(&json.to_string()).unwrap();
    assert!(run_traces(&default, &input).is_err());

    // A type error in a converter fails the same way.
    let (_, ignored) = run_traces(
        &config(
            &[r#"set(attributes["x"], ConvertCase(attributes["missing"], "upper"))"#],
            "ignore",
        ),
        &input,
    )
    .unwrap();
    assert!(
        ignored[0].ends_with("ConvertCase: expected string but got nil"),
        "{ignored:?}"
    );
}

fn metrics() -> ExportMetricsServiceRequest {
    let point = |v: i64| NumberDataPoint {
        attributes: attrs(&[("seq", i(v))]),
        value: Some(number_data_point::Value::AsInt(v)),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: attrs(&[("service.name", s("checkout"))]),
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "requests".into(),
                        data: Some(Data::Sum(Sum {
                            data_points: vec![point(0), point(1)],
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "latency".into(),
                        data: Some(Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                count: 3,
                                sum: Some(1.5),
                                ..Default::default()
                            }],
                            aggregation_temporality: 1,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The seed statement: every data point gets its resource's service name.
#[test]
fn datapoint_reads_resource() {
    let json = serde_json::json!({"metric_statements": [{
        "context": "datapoint",
        "statements": [r#"set(datapoint.attributes["client_id"], resource.attributes["service.name"])"#],
    }]});
    let config = Config::parse(&json.to_string()).unwrap();
    let out = process_payload(&config, Signal::Metrics, &encode(&metrics())).unwrap();
    let out = decode_metrics(&out.payload).unwrap();
    let mut expected = metrics();
    for metric in &mut expected.resource_metrics[0].scope_metrics[0].metrics {
        match metric.data.as_mut().unwrap() {
            Data::Sum(sum) => sum
                .data_points
                .iter_mut()
                .for_each(|p| p.attributes.push(key_value("client_id", s("checkout")))),
            Data::Histogram(h) => h
                .data_points
                .iter_mut()
                .for_each(|p| p.attributes.push(key_value("client_id", s("checkout")))),
            _ => unreachable!(),
        }
    }
    assert_eq!(out, expected);
}

#[test]
fn metric_context_and_conditions() {
    let json = serde_json::json!({"metric_statements": [
        {"context": "metric", "statements": [r#"set(description, "counted")"#], "conditions": ["type == METRIC_DATA_TYPE_SUM and is_monotonic == true"]},
        {"context": "datapoint", "statements": [r#"set(attributes["big"], true) where value_int > 0 and metric.name == "requests""#,
                                                 r#"set(attributes["avg"], sum) where metric.type == METRIC_DATA_TYPE_HISTOGRAM"#]},
        "set(resource.attributes[\"env\"], \"prod\")",
    ]});
    let config = Config::parse(&json.to_string()).unwrap();
    let out = decode_metrics(
        &process_payload(&config, Signal::Metrics, &encode(&metrics()))
            .unwrap()
            .payload,
    )
    .unwrap();
    let rm = &out.resource_metrics[0];
    assert_eq!(
        rm.resource.as_ref().unwrap().attributes[1],
        key_value("env", s("prod"))
    );
    let metrics = &rm.scope_metrics[0].metrics;
    assert_eq!(metrics[0].description, "counted");
    assert_eq!(metrics[1].description, "");
    let Some(Data::Sum(sum)) = &metrics[0].data else {
        panic!()
    };
    assert_eq!(sum.data_points[0].attributes, attrs(&[("seq", i(0))]));
    assert_eq!(
        sum.data_points[1].attributes,
        attrs(&[("seq", i(1)), ("big", b(true))])
    );
    let Some(Data::Histogram(h)) = &metrics[1].data else {
        panic!()
    };
    assert_eq!(h.data_points[0].attributes, attrs(&[("avg", d(1.5))]));
}

#[test]
fn logs_and_span_events() {
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    severity_text: "info".into(),
                    severity_number: 9,
                    body: Some(s("password=hunter2 user=ann")),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let json = serde_json::json!({"log_statements": [{"context": "log", "statements": [
        r#"replace_pattern(body, "password=[^ ]+", "password=***")"#,
        r#"set(severity_text, ConvertCase(severity_text, "upper")) where severity_number >= SEVERITY_NUMBER_INFO"#,
        r#"set(attributes["svc"], resource.attributes["service.name"])"#,
    ]}]});
    let config = Config::parse(&json.to_string()).unwrap();
    let out = decode_logs(
        &process_payload(&config, Signal::Logs, &encode(&logs))
            .unwrap()
            .payload,
    )
    .unwrap();
    let log = &out.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(log.body, Some(s("password=*** user=ann")));
    assert_eq!(log.severity_text, "INFO");
    // Nothing to read: nothing written, and the absent resource stays absent.
    assert!(log.attributes.is_empty());
    assert_eq!(out.resource_logs[0].resource, None);

    let mut request = traces(vec![]);
    request.resource_spans[0].scope_spans[0].spans[0].events = vec![Event {
        name: "exception".into(),
        ..Default::default()
    }];
    let json = serde_json::json!({"trace_statements": [
        r#"set(spanevent.attributes["span"], span.name) where spanevent.name == "exception""#,
    ]});
    let config = Config::parse(&json.to_string()).unwrap();
    let (out, _) = run_traces(&config, &request).unwrap();
    let event = &out.resource_spans[0].scope_spans[0].spans[0].events[0];
    assert_eq!(event.attributes, attrs(&[("span", s("GET /users"))]));
}

/// Malformed statements: the error names where the statement is, its text
/// and the column of the fault.
#[test]
fn malformed_statements() {
    let cases: &[(&str, &str)] = &[
        (
            r#"sett(attributes["a"], "b")"#,
            "column 1: unknown editor `sett`; expected one of set, delete_key, delete_matching_keys, keep_keys, keep_matching_keys, limit, truncate_all, replace_pattern, replace_all_patterns, replace_match, replace_all_matches, merge_maps",
        ),
        (
            r#"set(attributes["a"], Concatt(["b"], ""))"#,
            "column 22: unknown converter `Concatt`; expected one of Concat, IsMatch, SHA256, Int, String, ConvertCase, Split, Substring, Len",
        ),
        (
            r#"set(attributes["a"])"#,
            "column 20: `set` takes 2 arguments (target, value), got 1",
        ),
        (
            r#"delete_key(attributes, "a", "b")"#,
            "column 29: `delete_key` takes 2 arguments (target, key), got 3",
        ),
        (
            r#"set(datapoint.atributes["a"], 1)"#,
            "column 5: unknown path `datapoint.atributes[\"a\"]`: the datapoint context has attributes, start_time_unix_nano, time_unix_nano, value_double, value_int, flags, count, sum",
        ),
        (
            r#"set(attributes["a"], span.name)"#,
            "column 22: path `span.name` is in the span context, which a datapoint statement cannot reach",
        ),
        (
            r#"replace_pattern(attributes["a"], "([a-z", "x")"#,
            "column 34: invalid regex \"([a-z\": unclosed character class",
        ),
        (
            r#"set(attributes["a"], "unterminated)"#,
            "column 22: unterminated string: no closing `\"`",
        ),
        (
            r#"set(attributes["a"], 1) where"#,
            "column 30: expected a value (a path, literal, list or converter), found the end of the statement",
        ),
        (
            r#"set(metric.type, 1)"#,
            "column 5: path `metric.type` cannot be written",
        ),
        (
            r#"Concat(["a"], "")"#,
            "column 1: `Concat` is a converter; a statement starts with an editor: set, delete_key, delete_matching_keys, keep_keys, keep_matching_keys, limit, truncate_all, replace_pattern, replace_all_patterns, replace_match, replace_all_matches, merge_maps",
        ),
        (
            r#"limit(attributes, -1, [])"#,
            "column 19: expected a non-negative integer, got -1",
        ),
        (
            r#"set(attributes["a"], 1) where attributes["b"]"#,
            "column 31: expected a condition: a comparison, `true`, `false` or a converter giving a bool such as IsMatch",
        ),
    ];
    for (statement, expected) in cases {
        let json = serde_json::json!({"metric_statements": [{"context": "datapoint", "statements": ["set(attributes[\"ok\"], 1)", statement]}]});
        let err = Config::parse(&json.to_string()).unwrap_err();
        assert_eq!(
            err,
            format!("metric_statements[0].statements[1]: statement `{statement}`: {expected}")
        );
    }
}

#[test]
fn config_errors() {
    let cases: &[(serde_json::Value, &str)] = &[
        (
            serde_json::json!({}),
            "no statements: set trace_statements, metric_statements or log_statements",
        ),
        (
            serde_json::json!({"error_mode": "loud", "trace_statements": []}),
            "error_mode: invalid error_mode \"loud\"; expected ignore, silent or propagate",
        ),
        (
            serde_json::json!({"trace_statements": [{"context": "datapoint", "statements": ["set(name, \"x\")"]}]}),
            "trace_statements[0].context: invalid context `datapoint`; expected resource, scope, span, spanevent",
        ),
        (
            serde_json::json!({"trace_statements": ["set(attributes[\"x\"], 1)"]}),
            "trace_statements[0]: statement `set(attributes[\"x\"], 1)`: column 1: cannot tell the context: start paths with one of `resource.`, `scope.`, `span.`, `spanevent.`",
        ),
        (
            serde_json::json!({"log_statements": [{"context": "log", "statements": []}]}),
            "log_statements[0].statements: at least one statement is required",
        ),
        (
            serde_json::json!({"metric_statement": []}),
            "metric_statement: unknown key; expected error_mode, trace_statements, metric_statements, log_statements",
        ),
    ];
    for (json, expected) in cases {
        assert_eq!(
            Config::parse(&json.to_string()).unwrap_err(),
            *expected,
            "{json}"
        );
    }
}

/// A group without `context:` takes the deepest context its paths name.
#[test]
fn group_context_is_inferred_when_absent() {
    let json = serde_json::json!({"metric_statements": [{"statements": [
        r#"set(resource.attributes["seen"], true)"#,
        r#"set(datapoint.attributes["client_id"], resource.attributes["service.name"])"#,
    ]}]});
    let config = Config::parse(&json.to_string()).unwrap();
    assert_eq!(config.metrics[0].context, weir_ottl::Context::DataPoint);
    let json =
        serde_json::json!({"metric_statements": [{"statements": [r#"set(attributes["x"], 1)"#]}]});
    assert_eq!(
        Config::parse(&json.to_string()).unwrap_err(),
        "metric_statements[0].statements[0]: statement `set(attributes[\"x\"], 1)`: column 1: cannot tell the context: start paths with one of `resource.`, `scope.`, `metric.`, `datapoint.`"
    );
}
