//! A real Prometheus (Debian's `prometheus`) scraping weir: the collector's
//! own `/metrics`, read back through Prometheus's query API.

mod common;

use common::otlp::{send, span};
use common::{Weir, prometheus};

#[test]
fn prometheus_scrapes_the_collectors_own_metrics() {
    let Some(binary) = prometheus::binary() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The Go collector's `readers` shape for the admin endpoint; port 0
    // picks a free one.
    let weir = Weir::start(
        dir.path(),
        r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
processors:
  batch: {timeout: 50ms}
exporters:
  file/out: {path: out.jsonl}
service:
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: 0}}}
  pipelines:
    traces/scraped: {receivers: [otlp], processors: [batch], exporters: [file/out]}
"#,
    );
    let telemetry = weir.telemetry.expect("the admin endpoint is served");
    let http = weir.http.unwrap();
    for n in 0..3 {
        send(http, (0..4).map(|k| span(n, k, 5, false)).collect());
    }
    weir.wait_for(
        "12 spans exported",
        std::time::Duration::from_secs(60),
        |w| {
            w.metric(
                "weir_exporter_sent_items_total",
                &[("exporter", "file/out")],
            ) == 12.0
        },
    );

    let prometheus = prometheus::start(
        &binary,
        dir.path(),
        &prometheus::scrape_config("1s", &[("weir", telemetry.to_string())]),
    );
    let up = prometheus.wait_until(r#"up{job="weir"}"#, |r| r.iter().any(|(_, v)| *v == 1.0));
    assert_eq!(up.len(), 1, "{up:?}");

    let accepted = prometheus.wait_query(
        r#"weir_receiver_accepted_items_total{job="weir",receiver="otlp",transport="http",signal="traces"}"#,
    );
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert_eq!(accepted[0].1, 12.0);
    assert_eq!(accepted[0].0["instance"], telemetry.to_string());

    let sent = prometheus
        .wait_query(r#"weir_exporter_sent_items_total{exporter="file/out",signal="traces"}"#);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1, 12.0);

    let batches = prometheus
        .wait_query(r#"sum(weir_batches_sent_total{pipeline="traces/scraped",component="batch"})"#);
    assert!(batches[0].1 >= 1.0, "{batches:?}");

    // Gauges and info metrics come through as samples too.
    let config = prometheus.wait_query("weir_config_info");
    assert_eq!(config.len(), 1, "{config:?}");
    assert_eq!(config[0].1, 1.0);

    // Nothing in the exposition was refused by the scraper.
    let scraped = prometheus.wait_query(r#"scrape_samples_scraped{job="weir"}"#);
    assert!(scraped[0].1 > 5.0, "{scraped:?}");
    let health = prometheus.targets();
    assert!(health.contains(r#""health":"up""#), "{health}");
    assert!(health.contains(r#""lastError":"""#), "{health}");
}

/// `line` without its `instance="..."` label (the Python SDK makes up a
/// `service.instance.id` per run).
fn without_instance(line: &str) -> String {
    match line.find("instance=\"") {
        Some(start) => {
            let value = start + "instance=\"".len();
            let end = value + line[value..].find('"').unwrap() + 1;
            let end = if line[end..].starts_with(',') {
                end + 1
            } else {
                end
            };
            format!("{}{}", &line[..start], &line[end..])
        }
        None => line.to_string(),
    }
}

/// `GET http://addr/metrics`: the status line and headers, and the body.
fn get_metrics(addr: &str) -> (String, String) {
    let out = common::curl(&["-i", &format!("http://{addr}/metrics")]);
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}

/// Sends the Python SDK's counter, gauge and histogram
/// (`send_metric_kinds.py`) for service `shop`, with extra arguments.
fn send_metric_kinds(weir: &Weir, args: &[&str]) {
    let out = std::process::Command::new("python3")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/clients/send_metric_kinds.py"),
        )
        .args(["--service", "shop", "--run-id", "r7"])
        .args(args)
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
}

#[test]
fn the_prometheus_exporter_serves_pipeline_metrics_to_a_real_prometheus() {
    let Some(binary) = prometheus::binary() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("127.0.0.1:{}", prometheus::free_port());
    let short = format!("127.0.0.1:{}", prometheus::free_port());
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 50ms}}
exporters:
  prometheus:
    endpoint: {endpoint}
    const_labels: {{cluster: e2e}}
  prometheus/short:
    endpoint: {short}
    namespace: short
    metric_expiration: 5s
    send_timestamps: true
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    metrics: {{receivers: [otlp], processors: [batch], exporters: [prometheus, prometheus/short]}}
"#
    );
    let weir = Weir::start(dir.path(), &config);
    assert!(
        weir.stderr().contains(&format!("address={endpoint}")),
        "{}",
        weir.stderr()
    );
    send_metric_kinds(&weir, &[]);
    weir.wait_for("the batch kept", std::time::Duration::from_secs(60), |w| {
        w.metric(
            "weir_exporter_sent_items_total",
            &[("exporter", "prometheus")],
        ) > 0.0
            && w.metric(
                "weir_exporter_sent_items_total",
                &[("exporter", "prometheus/short")],
            ) > 0.0
    });

    // The exposition itself, as a plain GET sees it.
    let (head, body) = get_metrics(&endpoint);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    for line in [
        "# HELP shop_orders_total orders taken",
        "# TYPE shop_orders_total counter",
        r#"shop_orders_total{cluster="e2e",job="shop",region="eu"} 5"#,
        r#"shop_orders_total{cluster="e2e",job="shop",region="us"} 7"#,
        "# TYPE queue_depth gauge",
        r#"queue_depth{cluster="e2e",job="shop",queue="a"} 42"#,
        "# TYPE http_server_duration_milliseconds histogram",
        r#"http_server_duration_milliseconds_bucket{cluster="e2e",job="shop",le="+Inf",route="/buy"} 3"#,
        r#"http_server_duration_milliseconds_sum{cluster="e2e",job="shop",route="/buy"} 555"#,
        r#"http_server_duration_milliseconds_count{cluster="e2e",job="shop",route="/buy"} 3"#,
    ] {
        assert!(
            body.lines().any(|l| without_instance(l) == line),
            "no `{line}` in:\n{body}"
        );
    }

    // The other endpoint: namespace and timestamps (checked at once: its
    // series expire after 5s).
    let (_, body) = get_metrics(&short);
    let line = body
        .lines()
        .map(without_instance)
        .find(|l| l.starts_with(r#"short_queue_depth{job="shop",queue="a"} 42 "#))
        .unwrap_or_else(|| panic!("no timestamped short_queue_depth in:\n{body}"));
    let ms: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (now_ms - ms).abs() < 120_000,
        "timestamp {ms} vs now {now_ms}"
    );
    // A real Prometheus scrapes it.
    let prometheus = prometheus::start(
        &binary,
        dir.path(),
        &prometheus::scrape_config_with("1s", &[("collector", endpoint.clone())], true),
    );
    let mut orders = prometheus.wait_query("shop_orders_total");
    orders.sort_by(|a, b| a.0["region"].as_str().cmp(&b.0["region"].as_str()));
    assert_eq!(orders.len(), 2, "{orders:?}");
    assert_eq!(orders[0].0["region"], "eu");
    assert_eq!(orders[0].1, 5.0);
    assert_eq!(orders[1].0["region"], "us");
    assert_eq!(orders[1].1, 7.0);
    assert_eq!(orders[0].0["job"], "shop");
    assert_eq!(orders[0].0["cluster"], "e2e");

    let depth = prometheus.wait_query(r#"queue_depth{queue="a",job="shop"}"#);
    assert_eq!(depth.len(), 1, "{depth:?}");
    assert_eq!(depth[0].1, 42.0);

    let bucket = |le: &str| {
        prometheus.wait_query(&format!(
            r#"http_server_duration_milliseconds_bucket{{route="/buy",le="{le}"}}"#
        ))[0]
            .1
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
    // Prometheus reads the histogram as one: quantiles come out of it.
    let p50 = prometheus.wait_query(
        "histogram_quantile(0.5, sum by (le) (http_server_duration_milliseconds_bucket))",
    );
    assert!(p50[0].1 > 5.0 && p50[0].1 <= 50.0, "{p50:?}");

    let info = prometheus.wait_query(r#"target_info{job="shop"}"#);
    assert_eq!(info[0].0["run_id"], "r7");
    assert_eq!(info[0].1, 1.0);
    let up = prometheus.wait_query(r#"up{job="collector"}"#);
    assert_eq!(up[0].1, 1.0, "{}", prometheus.targets());

    // Series not updated for `metric_expiration` are no longer served.
    weir.wait_for(
        "the short series to expire",
        std::time::Duration::from_secs(30),
        |_| !get_metrics(&short).1.contains("short_queue_depth"),
    );

    // A reload that keeps the endpoint keeps it bound, with its series;
    // what arrives afterwards carries the new config's labels.
    std::fs::write(
        dir.path().join("config.yaml"),
        config.replace("cluster: e2e", "cluster: e2e-2"),
    )
    .unwrap();
    let out = common::curl(&[
        "-X",
        "POST",
        &format!("http://{}/reload", weir.telemetry.unwrap()),
    ]);
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(!answer.contains("refused"), "{answer}");
    weir.wait_for("the reload", std::time::Duration::from_secs(60), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= 1.0
    });
    send_metric_kinds(&weir, &[]);
    let relabelled = prometheus.wait_query(r#"shop_orders_total{cluster="e2e-2",region="eu"}"#);
    assert_eq!(relabelled[0].1, 5.0);
    let body = get_metrics(&endpoint).1;
    assert!(body.contains(r#"cluster="e2e","#), "{body}");
    assert!(body.contains(r#"cluster="e2e-2","#), "{body}");

    // Delta temporality: the exporter adds points up into running totals,
    // as the Go exporter does (two rounds of 5 and 7, and of 3 durations).
    send_metric_kinds(&weir, &["--service", "delta", "--delta", "--rounds", "2"]);
    let eu = prometheus.wait_query(r#"shop_orders_total{job="delta",region="eu"}"#);
    assert_eq!(eu[0].1, 10.0, "{eu:?}");
    let body = get_metrics(&endpoint).1;
    for line in [
        r#"shop_orders_total{cluster="e2e-2",job="delta",region="us"} 14"#,
        r#"http_server_duration_milliseconds_bucket{cluster="e2e-2",job="delta",le="5",route="/buy"} 2"#,
        r#"http_server_duration_milliseconds_count{cluster="e2e-2",job="delta",route="/buy"} 6"#,
        r#"http_server_duration_milliseconds_sum{cluster="e2e-2",job="delta",route="/buy"} 1110"#,
    ] {
        assert!(
            body.lines().any(|l| without_instance(l) == line),
            "no `{line}` in:\n{body}"
        );
    }
    assert_eq!(
        weir.metric(
            "weir_plugin_counter_total",
            &[("name", "delta_points_dropped")]
        ),
        0.0
    );
    assert_eq!(weir.metric("weir_exporter_failed_items_total", &[]), 0.0);
}
