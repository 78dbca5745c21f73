use prost::Message;
use weir_plugin_sdk::otlp::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric::Data, number_data_point,
};
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::{ExportMetricsServiceRequest, key_value, string_value};
use weir_plugin_sdk::prometheus::remote_write::{MetricType, WriteRequest};

use super::*;

fn point(value: f64, key: &str, val: &str) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![key_value(key, string_value(val))],
        time_unix_nano: 1_700_000_000_000_000_000,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn request(temporality: AggregationTemporality) -> Vec<u8> {
    let resource = vec![
        key_value("service.name", string_value("shop")),
        key_value("service.instance.id", string_value("i-1")),
        key_value("host.name", string_value("h1")),
    ];
    let metrics = vec![
        Metric {
            name: "orders".into(),
            unit: "1".into(),
            description: "orders taken".into(),
            data: Some(Data::Sum(Sum {
                data_points: vec![point(5.0, "region", "eu")],
                aggregation_temporality: temporality as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        },
        Metric {
            name: "queue.depth".into(),
            unit: "{item}".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: vec![point(42.0, "queue", "a")],
            })),
            ..Default::default()
        },
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// Each series as `name{k="v",...} value`, sorted.
fn series(write: &WriteRequest) -> Vec<String> {
    let mut out: Vec<String> = write
        .timeseries
        .iter()
        .map(|ts| {
            let name = &ts
                .labels
                .iter()
                .find(|l| l.name == "__name__")
                .unwrap()
                .value;
            let labels: Vec<String> = ts
                .labels
                .iter()
                .filter(|l| l.name != "__name__")
                .map(|l| format!("{}=\"{}\"", l.name, l.value))
                .collect();
            format!("{name}{{{}}} {}", labels.join(","), ts.samples[0].value)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn defaults_follow_the_go_exporter() {
    let config = Config::parse(
        r#"{"endpoint": "0.0.0.0:8889", "metric_expiration": "5m", "send_timestamps": true}"#,
    )
    .unwrap();
    assert!(config.add_metric_suffixes);
    assert!(!config.resource_to_telemetry_conversion.enabled);
    assert!(config.namespace.is_empty());
    let err = Config::parse(r#"{"const_labels": {"a-b": "x"}}"#).unwrap_err();
    assert!(err.contains("const_labels: `a-b`"), "{err}");
    let err = Config::parse(r#"{"wal": {}}"#).unwrap_err();
    assert!(err.contains("unknown field `wal`"), "{err}");
}

#[test]
fn a_batch_becomes_series_with_family_metadata() {
    let config =
        Config::parse(r#"{"namespace": "app", "const_labels": {"cluster": "eu-1"}}"#).unwrap();
    let (body, report) = encode(
        &config,
        &request(AggregationTemporality::Cumulative),
        &mut Default::default(),
    )
    .unwrap();
    assert_eq!(report, convert::Report::default());
    let write = WriteRequest::decode(body.unwrap().as_slice()).unwrap();
    assert_eq!(
        series(&write),
        [
            r#"app_orders_total{cluster="eu-1",instance="i-1",job="shop",region="eu"} 5"#,
            r#"app_queue_depth{cluster="eu-1",instance="i-1",job="shop",queue="a"} 42"#,
            r#"app_target_info{cluster="eu-1",host_name="h1",instance="i-1",job="shop"} 1"#,
        ]
    );
    let types: Vec<(String, i32, String)> = write
        .metadata
        .iter()
        .map(|m| (m.metric_family_name.clone(), m.r#type, m.help.clone()))
        .collect();
    assert!(types.contains(&(
        "app_orders_total".into(),
        MetricType::Counter as i32,
        "orders taken".into()
    )));
    assert!(types.contains(&(
        "app_queue_depth".into(),
        MetricType::Gauge as i32,
        String::new()
    )));
}

#[test]
fn resource_attributes_become_labels_when_asked() {
    let config = Config::parse(
        r#"{"resource_to_telemetry_conversion": {"enabled": true}, "add_metric_suffixes": false}"#,
    )
    .unwrap();
    let (body, _) = encode(
        &config,
        &request(AggregationTemporality::Cumulative),
        &mut Default::default(),
    )
    .unwrap();
    let write = WriteRequest::decode(body.unwrap().as_slice()).unwrap();
    let all = series(&write);
    assert!(
        all.contains(
            &r#"orders{host_name="h1",instance="i-1",job="shop",region="eu",service_instance_id="i-1",service_name="shop"} 5"#
                .to_string()
        ),
        "{all:?}"
    );
}

#[test]
fn monotonic_delta_sums_add_up_while_points_follow_each_other() {
    let config = Config::parse("{}").unwrap();
    let mut totals = convert::Accumulator::default();
    let delta = |start: u64, end: u64, value: f64| {
        let mut payload =
            ExportMetricsServiceRequest::decode(request(AggregationTemporality::Delta).as_slice())
                .unwrap();
        let metric = &mut payload.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(Data::Sum(sum)) = metric.data.as_mut() else {
            panic!("the first metric is a sum")
        };
        sum.data_points[0].start_time_unix_nano = start;
        sum.data_points[0].time_unix_nano = end;
        sum.data_points[0].value = Some(number_data_point::Value::AsDouble(value));
        payload.encode_to_vec()
    };
    let orders = |body: Option<Vec<u8>>| {
        let write = WriteRequest::decode(body.unwrap().as_slice()).unwrap();
        series(&write)
            .into_iter()
            .find(|s| s.starts_with("orders_total"))
            .unwrap()
    };
    let (body, report) = encode(&config, &delta(10, 20, 5.0), &mut totals).unwrap();
    assert_eq!(report.delta_points, 0);
    assert!(orders(body).ends_with("} 5"));
    let (body, _) = encode(&config, &delta(20, 30, 2.0), &mut totals).unwrap();
    assert!(orders(body).ends_with("} 7"));
    // A point that does not start where the last ended starts afresh.
    let (body, _) = encode(&config, &delta(100, 110, 1.0), &mut totals).unwrap();
    assert!(orders(body).ends_with("} 1"));
    assert_eq!(totals.len(), 1);
}

#[test]
fn non_monotonic_delta_sums_are_reported_not_kept() {
    let mut payload =
        ExportMetricsServiceRequest::decode(request(AggregationTemporality::Delta).as_slice())
            .unwrap();
    let Some(Data::Sum(sum)) = payload.resource_metrics[0].scope_metrics[0].metrics[0]
        .data
        .as_mut()
    else {
        panic!("the first metric is a sum")
    };
    sum.is_monotonic = false;
    let (body, report) = encode(
        &Config::parse("{}").unwrap(),
        &payload.encode_to_vec(),
        &mut Default::default(),
    )
    .unwrap();
    assert_eq!(report.delta_points, 1);
    let write = WriteRequest::decode(body.unwrap().as_slice()).unwrap();
    assert!(series(&write).iter().all(|s| !s.starts_with("orders")));
}
