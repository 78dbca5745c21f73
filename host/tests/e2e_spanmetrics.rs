//! The `spanmetrics` connector end to end: the Python SDK sends spans of
//! known names, kinds, statuses and durations to `weir`; the traces
//! pipeline hands them to its file exporter and to the connector; the
//! connector's calls and duration histograms go through a metrics pipeline
//! to the `prometheusremotewrite` exporter and into a real Prometheus
//! (Debian's `prometheus`, with its remote-write receiver), where the test
//! reads them back by their dimensions and checks every count.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Weir;
use common::prometheus::{self, Prometheus};

/// A Prometheus that only receives remote writes (nothing to scrape).
fn start_prometheus(binary: &str, dir: &Path) -> Prometheus {
    prometheus::start(binary, dir, "global: {scrape_interval: 1h}\n")
}

/// Waits until the single value of `promql` is `want` (a cumulative
/// series grows as flushes land), or fails with what it last saw.
fn wait_value(prometheus: &Prometheus, promql: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = prometheus.query(promql);
        if r.len() == 1 && r[0].1 == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{promql}: expected one series of {want}, got {r:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The one value of `promql` now.
fn value(prometheus: &Prometheus, promql: &str) -> f64 {
    let r = prometheus.query(promql);
    assert_eq!(r.len(), 1, "{promql}: {r:?}");
    r[0].1
}

fn send_spans(weir: &Weir, service: &str, spans: &[&str]) {
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/send_spans.py"))
        .args(["--service", service])
        .args(spans)
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{}", weir.http.unwrap()),
        )
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

fn config(prometheus_port: u16, flush: &str, traces_file: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 100ms}}
exporters:
  file/traces: {{path: {traces}}}
  prometheusremotewrite:
    endpoint: http://127.0.0.1:{prometheus_port}/api/v1/write
    retry_on_failure: {{initial_interval: 100ms}}
connectors:
  spanmetrics:
    dimensions: [{{name: http.method, default: GET}}]
    metrics_flush_interval: {flush}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [spanmetrics, file/traces]}}
    metrics: {{receivers: [spanmetrics], processors: [batch], exporters: [prometheusremotewrite]}}
"#,
        traces = traces_file.display()
    )
}

/// Spans of service `checkout`: (name:kind:status:ms[:attributes]).
const SPANS: &[&str] = &[
    "GET /cart:server:unset:3",
    "GET /cart:server:unset:7",
    "GET /cart:server:unset:120",
    "POST /pay:server:error:900:http.method=POST",
    "POST /pay:server:error:1500:http.method=POST",
    "SELECT:client:ok:1",
];

#[test]
fn spans_become_call_counts_and_duration_buckets_in_prometheus() {
    let Some(binary) = prometheus::binary() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prometheus = start_prometheus(&binary, dir.path());
    let traces = dir.path().join("traces.json");
    let weir = Weir::start(dir.path(), &config(prometheus.port, "500ms", &traces));
    send_spans(&weir, "checkout", SPANS);

    // Calls: one series per service, span name, kind, status and method.
    let calls = |span: &str, kind: &str, status: &str, method: &str| {
        format!(
            r#"traces_span_metrics_calls_total{{service_name="checkout",span_name="{span}",span_kind="{kind}",status_code="{status}",http_method="{method}"}}"#
        )
    };
    wait_value(&prometheus, "sum(traces_span_metrics_calls_total)", 6.0);
    assert_eq!(
        value(
            &prometheus,
            &calls("GET /cart", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET", "GET")
        ),
        3.0
    );
    assert_eq!(
        value(
            &prometheus,
            &calls("POST /pay", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR", "POST")
        ),
        2.0
    );
    assert_eq!(
        value(
            &prometheus,
            &calls("SELECT", "SPAN_KIND_CLIENT", "STATUS_CODE_OK", "GET")
        ),
        1.0
    );
    assert_eq!(prometheus.query("traces_span_metrics_calls_total").len(), 3);

    // Duration buckets (cumulative `le`, milliseconds, the default bounds).
    let bucket = |span: &str, le: &str| {
        value(
            &prometheus,
            &format!(
                r#"traces_span_metrics_duration_milliseconds_bucket{{span_name="{span}",le="{le}"}}"#
            ),
        )
    };
    for (le, want) in [
        ("2", 0.0),
        ("4", 1.0),
        ("8", 2.0),
        ("100", 2.0),
        ("200", 3.0),
        ("+Inf", 3.0),
    ] {
        assert_eq!(bucket("GET /cart", le), want, "GET /cart le={le}");
    }
    for (le, want) in [("800", 0.0), ("1000", 1.0), ("1400", 1.0), ("2000", 2.0)] {
        assert_eq!(bucket("POST /pay", le), want, "POST /pay le={le}");
    }
    assert_eq!(bucket("SELECT", "2"), 1.0);
    assert_eq!(
        value(
            &prometheus,
            r#"traces_span_metrics_duration_milliseconds_sum{span_name="GET /cart"}"#
        ),
        130.0
    );
    assert_eq!(
        value(
            &prometheus,
            r#"traces_span_metrics_duration_milliseconds_count{span_name="POST /pay"}"#
        ),
        2.0
    );

    // The same spans still reach the traces pipeline's own exporter.
    let mut names = common::otlp::exported_spans(&traces);
    names.sort();
    assert_eq!(
        names,
        [
            "GET /cart",
            "GET /cart",
            "GET /cart",
            "POST /pay",
            "POST /pay",
            "SELECT"
        ]
    );
    // The connector's output is counted where it entered.
    let emitted = weir.metric(
        "weir_connector_emitted_items_total",
        &[("pipeline", "metrics"), ("component", "spanmetrics")],
    );
    assert!(emitted >= 6.0, "emitted {emitted} data points");
}

#[test]
fn the_last_counts_are_flushed_to_prometheus_on_shutdown() {
    let Some(binary) = prometheus::binary() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prometheus = start_prometheus(&binary, dir.path());
    let traces = dir.path().join("traces.json");
    // The timer would not fire within the test: only the shutdown flush
    // can deliver these counts.
    let weir = Weir::start(dir.path(), &config(prometheus.port, "1h", &traces));
    send_spans(&weir, "checkout", SPANS);
    weir.wait_for("the traces to be exported", Duration::from_secs(60), |_| {
        common::otlp::exported_spans(&traces).len() == SPANS.len()
    });
    assert!(
        prometheus
            .query("traces_span_metrics_calls_total")
            .is_empty()
    );
    let status = weir.stop();
    assert!(status.success(), "{status:?}");
    wait_value(
        &prometheus,
        r#"traces_span_metrics_calls_total{span_name="GET /cart"}"#,
        3.0,
    );
    wait_value(
        &prometheus,
        r#"traces_span_metrics_duration_milliseconds_bucket{span_name="POST /pay",le="1000"}"#,
        1.0,
    );
    assert_eq!(
        value(&prometheus, "sum(traces_span_metrics_calls_total)"),
        6.0
    );
}

#[test]
fn a_connector_on_a_pipeline_of_a_signal_it_cannot_take_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(
        &path,
        r#"
receivers:
  otlp:
    protocols: {http: {endpoint: 127.0.0.1:0}}
exporters:
  debug:
connectors:
  spanmetrics:
service:
  pipelines:
    logs: {receivers: [otlp], exporters: [spanmetrics]}
    traces: {receivers: [spanmetrics], exporters: [debug]}
"#,
    )
    .unwrap();
    let out = Command::new(common::WEIR)
        .args(["validate", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains(
            "config.yaml:11: service.pipelines.logs.exporters[0]: connector `spanmetrics` does not consume logs; it can consume traces"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "config.yaml:12: service.pipelines.traces.receivers[0]: connector `spanmetrics` does not emit traces; it can emit metrics"
        ),
        "{text}"
    );
}

/// An OTLP/JSON traces request of `service` with one 5 ms span per name.
fn traces_json(service: &str, names: &[&str]) -> String {
    let spans: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"{n}","kind":2,"startTimeUnixNano":"1000000000","endTimeUnixNano":"1005000000"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

#[test]
fn each_tenant_has_its_own_series_and_gets_its_own_metrics() {
    let dir = tempfile::tempdir().unwrap();
    // Delta: each tenant's instance emits once, what it saw since the
    // last flush, so the exported points per tenant are exact.
    let weir = Weir::start(
        dir.path(),
        r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
processors:
  batch: {timeout: 100ms}
exporters:
  file/traces: {path: traces.json}
  file/metrics: {path: metrics.json}
connectors:
  spanmetrics:
    aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA
    metrics_flush_interval: 300ms
tenancy:
  sources: [{from: header}]
  unknown: refuse
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [spanmetrics, file/traces]}
    metrics: {receivers: [spanmetrics], processors: [batch], exporters: [file/metrics]}
"#,
    );
    let mut http = common::plain::Conn::new(weir.http.unwrap());
    for (tenant, body) in [
        ("acme", traces_json("shop", &["a", "b", "a"])),
        ("globex", traces_json("shop", &["a"])),
    ] {
        let reply = http
            .post_json("/v1/traces", &[("X-Scope-OrgID", tenant)], body.as_bytes())
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let exported = |w: &Weir, tenant: &str| {
        w.metric(
            "weir_tenant_exported_items_total",
            &[
                ("tenant", tenant),
                ("exporter", "file/metrics"),
                ("signal", "metrics"),
            ],
        )
    };
    // acme: two series (a, b) → 2 call points + 2 histogram points;
    // globex: one series → 1 + 1. A shared instance would mix them.
    weir.wait_for("both tenants' metrics", Duration::from_secs(60), |w| {
        exported(w, "acme") >= 4.0 && exported(w, "globex") >= 2.0
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(exported(&weir, "acme"), 4.0);
    assert_eq!(exported(&weir, "globex"), 2.0);
    // And what was exported counts the spans: 3 + 1 calls in all.
    let text = std::fs::read_to_string(dir.path().join("metrics.json")).unwrap();
    let mut calls = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for rm in v["resourceMetrics"].as_array().unwrap() {
            for sm in rm["scopeMetrics"].as_array().unwrap() {
                for m in sm["metrics"].as_array().unwrap() {
                    if m["name"] == "traces.span.metrics.calls" {
                        for p in m["sum"]["dataPoints"].as_array().unwrap() {
                            calls += p["asInt"].as_str().unwrap().parse::<u64>().unwrap();
                        }
                    }
                }
            }
        }
    }
    assert_eq!(calls, 4, "{text}");
}

#[test]
fn a_reload_flushes_the_old_connector_into_the_old_metrics_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    // The timer never fires within the test: only a flush delivers.
    let config = |metrics_file: &str| {
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 100ms}}
exporters:
  file/traces: {{path: traces.json}}
  file/metrics: {{path: {metrics_file}}}
connectors:
  spanmetrics: {{metrics_flush_interval: 1h}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [spanmetrics, file/traces]}}
    metrics: {{receivers: [spanmetrics], processors: [batch], exporters: [file/metrics]}}
"#
        )
    };
    let weir = Weir::start(dir.path(), &config("old.json"));
    let mut http = common::plain::Conn::new(weir.http.unwrap());
    let reply = http
        .post_json(
            "/v1/traces",
            &[],
            traces_json("shop", &["a", "a", "b"]).as_bytes(),
        )
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let traces = dir.path().join("traces.json");
    weir.wait_for("the traces", Duration::from_secs(60), |_| {
        common::otlp::exported_spans(&traces).len() == 3
    });
    std::fs::write(dir.path().join("config.yaml"), config("new.json")).unwrap();
    weir.signal("HUP");
    weir.wait_for("the reload", Duration::from_secs(60), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= 1.0
    });
    let calls_in = |file: &str| -> Vec<(String, u64)> {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap_or_default();
        let mut out = Vec::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for rm in v["resourceMetrics"].as_array().unwrap() {
                for sm in rm["scopeMetrics"].as_array().unwrap() {
                    for m in sm["metrics"].as_array().unwrap() {
                        if m["name"] != "traces.span.metrics.calls" {
                            continue;
                        }
                        for p in m["sum"]["dataPoints"].as_array().unwrap() {
                            let span = p["attributes"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .find(|a| a["key"] == "span.name")
                                .unwrap()["value"]["stringValue"]
                                .as_str()
                                .unwrap()
                                .to_string();
                            let n = p["asInt"].as_str().unwrap().parse().unwrap();
                            out.push((span, n));
                        }
                    }
                }
            }
        }
        out.sort();
        out
    };
    weir.wait_for("the old connector's flush", Duration::from_secs(60), |_| {
        !calls_in("old.json").is_empty()
    });
    assert_eq!(
        calls_in("old.json"),
        [("a".to_string(), 2), ("b".to_string(), 1)]
    );
    // The new connector starts from nothing, and has nothing to say yet.
    assert!(weir.stop().success());
    assert!(calls_in("new.json").is_empty());
}
