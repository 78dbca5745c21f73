//! Names, dimensions, buckets and counts, checked on decoded requests.

use weir_plugin_sdk::otlp::metrics::v1::{AggregationTemporality, metric, number_data_point};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use weir_plugin_sdk::otlp::{
    ExportMetricsServiceRequest, ExportTraceServiceRequest, KeyValue, any_value, int_value,
    string_value,
};

use crate::aggregate::{SCOPE_NAME, SpanMetrics};
use crate::config::Config;

const MS: u64 = 1_000_000;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(string_value(value)),
        ..Default::default()
    }
}

/// A span of `ms` milliseconds.
fn span(name: &str, kind: i32, status: i32, ms: u64, attrs: Vec<KeyValue>) -> Span {
    Span {
        name: name.into(),
        kind,
        start_time_unix_nano: 1_000 * MS,
        end_time_unix_nano: 1_000 * MS + ms * MS,
        status: Some(Status {
            code: status,
            ..Default::default()
        }),
        attributes: attrs,
        ..Default::default()
    }
}

fn request(resource: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn aggregator(yaml_json: &str) -> SpanMetrics {
    let settings = Config::parse(yaml_json).unwrap().settings().unwrap();
    SpanMetrics::new(settings, 5)
}

/// Attribute value as text.
fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| {
        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => s.clone(),
            Some(any_value::Value::IntValue(i)) => i.to_string(),
            other => format!("{other:?}"),
        }
    })
}

/// (dimensions, calls) of every `calls` point.
fn calls(out: &ExportMetricsServiceRequest, name: &str) -> Vec<(Vec<(String, String)>, i64)> {
    let mut found = Vec::new();
    for rm in &out.resource_metrics {
        for sm in &rm.scope_metrics {
            for m in sm.metrics.iter().filter(|m| m.name == name) {
                let Some(metric::Data::Sum(sum)) = &m.data else {
                    panic!("{name} is not a sum");
                };
                assert!(sum.is_monotonic);
                for p in &sum.data_points {
                    let dims = p
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), attr(&p.attributes, &kv.key).unwrap()))
                        .collect();
                    let Some(number_data_point::Value::AsInt(n)) = p.value else {
                        panic!("calls are integers");
                    };
                    found.push((dims, n));
                }
            }
        }
    }
    found.sort();
    found
}

fn dims(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn calls_are_counted_per_service_name_kind_and_status() {
    let mut agg = aggregator("{}");
    agg.add(
        &request(
            vec![kv("service.name", "shop")],
            vec![
                span("GET /cart", 2, 0, 3, vec![]),
                span("GET /cart", 2, 0, 7, vec![]),
                span("GET /cart", 2, 2, 120, vec![]),
                span("SELECT", 3, 1, 1, vec![]),
            ],
        ),
        10,
    );
    let out = agg.build(20).expect("series to report");
    assert_eq!(out.resource_metrics.len(), 1);
    let scope = &out.resource_metrics[0].scope_metrics[0];
    assert_eq!(scope.scope.as_ref().unwrap().name, SCOPE_NAME);
    let names: Vec<&str> = scope.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["traces.span.metrics.calls", "traces.span.metrics.duration"]
    );
    assert_eq!(scope.metrics[1].unit, "ms");
    assert_eq!(
        calls(&out, "traces.span.metrics.calls"),
        vec![
            (
                dims(&[
                    ("service.name", "shop"),
                    ("span.name", "GET /cart"),
                    ("span.kind", "SPAN_KIND_SERVER"),
                    ("status.code", "STATUS_CODE_ERROR"),
                ]),
                1
            ),
            (
                dims(&[
                    ("service.name", "shop"),
                    ("span.name", "GET /cart"),
                    ("span.kind", "SPAN_KIND_SERVER"),
                    ("status.code", "STATUS_CODE_UNSET"),
                ]),
                2
            ),
            (
                dims(&[
                    ("service.name", "shop"),
                    ("span.name", "SELECT"),
                    ("span.kind", "SPAN_KIND_CLIENT"),
                    ("status.code", "STATUS_CODE_OK"),
                ]),
                1
            ),
        ]
    );
    // The resource's attributes travel to the metrics' resource.
    let resource = out.resource_metrics[0].resource.as_ref().unwrap();
    assert_eq!(attr(&resource.attributes, "service.name").unwrap(), "shop");
}

#[test]
fn durations_fall_into_the_default_buckets_upper_inclusive() {
    let mut agg = aggregator("{}");
    // 2 ms is in (0, 2]; 3 ms in (2, 4]; 10 ms in (8, 10]; 1400 ms in
    // (1000, 1400]; 20 s above the last bound (15 s).
    let spans = [2, 3, 10, 1400, 20_000]
        .into_iter()
        .map(|ms| span("op", 2, 0, ms, vec![]))
        .collect();
    agg.add(&request(vec![kv("service.name", "s")], spans), 10);
    let out = agg.build(20).unwrap();
    let metric = &out.resource_metrics[0].scope_metrics[0].metrics[1];
    let Some(metric::Data::Histogram(h)) = &metric.data else {
        panic!("duration is a histogram");
    };
    assert_eq!(
        h.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    let p = &h.data_points[0];
    assert_eq!(
        p.explicit_bounds,
        vec![
            2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0,
            5000.0, 10000.0, 15000.0
        ]
    );
    let mut expected = vec![0u64; 17];
    expected[0] = 1;
    expected[1] = 1;
    expected[4] = 1;
    expected[11] = 1;
    expected[16] = 1;
    assert_eq!(p.bucket_counts, expected);
    assert_eq!(p.count, 5);
    assert_eq!(p.sum, Some(2.0 + 3.0 + 10.0 + 1400.0 + 20_000.0));
    assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (5, 20));
}

#[test]
fn configured_dimensions_come_from_the_span_then_the_resource_then_the_default() {
    let mut agg = aggregator(
        r#"{"dimensions": [{"name": "http.method", "default": "GET"},
                           {"name": "http.status_code"}, {"name": "region"}],
            "exclude_dimensions": ["status.code"]}"#,
    );
    let mut with_code = span("a", 2, 0, 1, vec![kv("http.method", "POST")]);
    with_code.attributes.push(KeyValue {
        key: "http.status_code".into(),
        value: Some(int_value(503)),
        ..Default::default()
    });
    agg.add(
        &request(
            vec![kv("service.name", "s"), kv("region", "eu")],
            vec![with_code, span("a", 2, 0, 1, vec![])],
        ),
        10,
    );
    let out = agg.build(20).unwrap();
    assert_eq!(
        calls(&out, "traces.span.metrics.calls"),
        vec![
            (
                dims(&[
                    ("service.name", "s"),
                    ("span.name", "a"),
                    ("span.kind", "SPAN_KIND_SERVER"),
                    ("http.method", "GET"),
                    ("region", "eu"),
                ]),
                1
            ),
            (
                dims(&[
                    ("service.name", "s"),
                    ("span.name", "a"),
                    ("span.kind", "SPAN_KIND_SERVER"),
                    ("http.method", "POST"),
                    ("http.status_code", "503"),
                    ("region", "eu"),
                ]),
                1
            ),
        ]
    );
}

#[test]
fn cumulative_counts_keep_growing_and_delta_counts_start_again() {
    let spans = || {
        request(
            vec![kv("service.name", "s")],
            vec![span("a", 1, 0, 1, vec![])],
        )
    };
    let mut cumulative = aggregator("{}");
    cumulative.add(&spans(), 10);
    assert_eq!(
        calls(&cumulative.build(20).unwrap(), "traces.span.metrics.calls")[0].1,
        1
    );
    cumulative.add(&spans(), 30);
    let second = cumulative.build(40).unwrap();
    assert_eq!(calls(&second, "traces.span.metrics.calls")[0].1, 2);

    let mut delta = aggregator(r#"{"aggregation_temporality": "AGGREGATION_TEMPORALITY_DELTA"}"#);
    delta.add(&spans(), 10);
    delta.add(&spans(), 11);
    assert_eq!(
        calls(&delta.build(20).unwrap(), "traces.span.metrics.calls")[0].1,
        2
    );
    assert!(
        delta.build(30).is_none(),
        "nothing new since the last flush"
    );
    delta.add(&spans(), 35);
    let next = delta.build(40).unwrap();
    let Some(metric::Data::Sum(sum)) = &next.resource_metrics[0].scope_metrics[0].metrics[0].data
    else {
        panic!("calls is a sum");
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    assert_eq!(sum.data_points[0].start_time_unix_nano, 30);
    assert_eq!(calls(&next, "traces.span.metrics.calls")[0].1, 1);
}

#[test]
fn namespace_unit_buckets_and_disable_are_honoured() {
    let mut agg = aggregator(
        r#"{"namespace": "", "histogram": {"unit": "s", "explicit": {"buckets": ["100ms", "1s"]}}}"#,
    );
    agg.add(
        &request(
            vec![kv("service.name", "s")],
            vec![span("a", 1, 0, 500, vec![])],
        ),
        10,
    );
    let out = agg.build(20).unwrap();
    let metrics = &out.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(metrics[0].name, "calls");
    assert_eq!(
        (metrics[1].name.as_str(), metrics[1].unit.as_str()),
        ("duration", "s")
    );
    let Some(metric::Data::Histogram(h)) = &metrics[1].data else {
        panic!()
    };
    assert_eq!(h.data_points[0].explicit_bounds, vec![0.1, 1.0]);
    assert_eq!(h.data_points[0].bucket_counts, vec![0, 1, 0]);
    assert_eq!(h.data_points[0].sum, Some(0.5));

    let mut no_histogram = aggregator(r#"{"histogram": {"disable": true}}"#);
    no_histogram.add(
        &request(
            vec![kv("service.name", "s")],
            vec![span("a", 1, 0, 5, vec![])],
        ),
        10,
    );
    let out = no_histogram.build(20).unwrap();
    assert_eq!(out.resource_metrics[0].scope_metrics[0].metrics.len(), 1);
}

#[test]
fn spans_without_service_name_are_skipped_and_resources_kept_apart() {
    let mut agg = aggregator("{}");
    agg.add(&request(vec![], vec![span("a", 1, 0, 1, vec![])]), 10);
    assert_eq!(agg.skipped_spans, 1);
    assert!(agg.build(20).is_none());
    agg.add(
        &request(
            vec![kv("service.name", "s"), kv("host.name", "a")],
            vec![span("x", 1, 0, 1, vec![])],
        ),
        30,
    );
    agg.add(
        &request(
            vec![kv("service.name", "s"), kv("host.name", "b")],
            vec![span("x", 1, 0, 1, vec![])],
        ),
        31,
    );
    assert_eq!(agg.build(40).unwrap().resource_metrics.len(), 2);

    let mut keyed = aggregator(r#"{"resource_metrics_key_attributes": ["service.name"]}"#);
    for host in ["a", "b"] {
        keyed.add(
            &request(
                vec![kv("service.name", "s"), kv("host.name", host)],
                vec![span("x", 1, 0, 1, vec![])],
            ),
            30,
        );
    }
    let out = keyed.build(40).unwrap();
    assert_eq!(out.resource_metrics.len(), 1);
    assert_eq!(calls(&out, "traces.span.metrics.calls")[0].1, 2);
}

#[test]
fn expired_series_and_the_least_recent_resource_go() {
    let mut agg = aggregator(r#"{"metrics_expiration": "10s", "resource_metrics_cache_size": 1}"#);
    let s = 1_000_000_000;
    agg.add(
        &request(
            vec![kv("service.name", "a")],
            vec![span("x", 1, 0, 1, vec![])],
        ),
        s,
    );
    agg.add(
        &request(
            vec![kv("service.name", "b")],
            vec![span("x", 1, 0, 1, vec![])],
        ),
        2 * s,
    );
    // `a` was evicted to make room for `b`.
    let out = agg.build(3 * s).unwrap();
    assert_eq!(out.resource_metrics.len(), 1);
    assert_eq!(calls(&out, "traces.span.metrics.calls")[0].0[0].1, "b");
    assert!(agg.build(13 * s).is_none(), "b expired after 10 s unseen");
}

#[test]
fn bad_settings_name_their_key() {
    let err = |json: &str| Config::parse(json).and_then(|c| c.settings()).unwrap_err();
    assert!(err(r#"{"aggregation_temporality": "X"}"#).starts_with("aggregation_temporality: "));
    assert!(err(r#"{"exclude_dimensions": ["foo"]}"#).starts_with("exclude_dimensions[0]: "));
    assert!(
        err(r#"{"histogram": {"explicit": {"buckets": ["1s", "10ms"]}}}"#)
            .starts_with("histogram.explicit.buckets[1]: ")
    );
    assert!(
        err(r#"{"histogram": {"explicit": {"buckets": ["ten"]}}}"#)
            .starts_with("histogram.explicit.buckets[0]: ")
    );
    assert!(err(r#"{"dimensions": [{"name": "span.name"}]}"#).starts_with("dimensions[0].name: "));
    assert!(err(r#"{"dimensions_cache_size": 0}"#).starts_with("dimensions_cache_size: "));
    assert!(err(r#"{"histogram": {"exponential": {}}}"#).starts_with("histogram.exponential: "));
    assert!(err(r#"{"nope": 1}"#).contains("unknown field `nope`"));
    let flush = Config::parse(r#"{"metrics_flush_interval": "250ms"}"#)
        .unwrap()
        .settings()
        .unwrap();
    assert_eq!(flush.flush_interval_ms, 250);
}
