//! The `prometheusremotewrite` exporter against a real Prometheus (Debian's
//! `prometheus`, run with its remote-write receiver on loopback): metrics
//! sent by the Python SDK through `weir` are read back from Prometheus's
//! query API with the expected names, labels and values.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Weir, prometheus};

#[test]
fn metrics_from_the_python_sdk_land_in_prometheus() {
    let Some(binary) = prometheus::binary() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prometheus = prometheus::start(&binary, dir.path(), &prometheus::scrape_config("1h", &[]));
    let weir = Weir::start(
        dir.path(),
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 100ms}}
exporters:
  prometheusremotewrite:
    endpoint: http://127.0.0.1:{}/api/v1/write
    external_labels: {{cluster: e2e}}
    retry_on_failure: {{initial_interval: 100ms}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    metrics: {{receivers: [otlp], processors: [batch], exporters: [prometheusremotewrite]}}
"#,
            prometheus.port
        ),
    );
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/send_metric_kinds.py"))
        .args(["--service", "shop", "--run-id", "r7"])
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{}", weir.http.unwrap()),
        )
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Counter: `_total`, attributes as labels, job from service.name.
    let mut orders = prometheus.wait_query("shop_orders_total");
    orders.sort_by(|a, b| a.0["region"].as_str().cmp(&b.0["region"].as_str()));
    assert_eq!(orders.len(), 2, "{orders:?}");
    assert_eq!(orders[0].0["region"], "eu");
    assert_eq!(orders[0].1, 5.0);
    assert_eq!(orders[1].0["region"], "us");
    assert_eq!(orders[1].1, 7.0);
    assert_eq!(orders[0].0["job"], "shop");
    assert_eq!(orders[0].0["cluster"], "e2e");

    // Gauge: the `{item}` annotation adds no suffix.
    let depth = prometheus.wait_query(r#"queue_depth{queue="a"}"#);
    assert_eq!(depth.len(), 1);
    assert_eq!(depth[0].1, 42.0);

    // Histogram: unit suffix, cumulative buckets, sum and count.
    let bucket = |le: &str| {
        let r = prometheus.wait_query(&format!(
            r#"http_server_duration_milliseconds_bucket{{route="/buy",le="{le}"}}"#
        ));
        r[0].1
    };
    assert_eq!(bucket("5"), 1.0);
    assert_eq!(bucket("50"), 2.0);
    assert_eq!(bucket("500"), 3.0);
    assert_eq!(bucket("+Inf"), 3.0);
    assert_eq!(
        prometheus.wait_query("http_server_duration_milliseconds_sum")[0].1,
        555.0
    );
    assert_eq!(
        prometheus.wait_query("http_server_duration_milliseconds_count")[0].1,
        3.0
    );

    // target_info carries the other resource attributes.
    let info = prometheus.wait_query(r#"target_info{job="shop"}"#);
    assert_eq!(info[0].0["run_id"], "r7");
    assert_eq!(info[0].0["telemetry_sdk_language"], "python");
    assert_eq!(info[0].1, 1.0);

    assert_eq!(weir.metric("weir_exporter_failed_items_total", &[]), 0.0);
    assert_eq!(
        weir.metric("weir_exporter_permanent_failures_total", &[]),
        0.0
    );
}
