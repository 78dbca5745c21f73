//! The `prometheusremotewrite` exporter against a real Prometheus (Debian's
//! `prometheus`, run with its remote-write receiver on loopback): metrics
//! sent by the Python SDK through `weir` are read back from Prometheus's
//! query API with the expected names, labels and values.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Weir, curl};

/// A Prometheus child process, killed when dropped.
struct Prometheus {
    child: Child,
    port: u16,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prometheus_binary() -> Option<String> {
    let out = Command::new("sh")
        .args(["-c", "command -v prometheus"])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!path.is_empty()).then_some(path)
}

fn start_prometheus(binary: &str, dir: &Path) -> Prometheus {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global: {scrape_interval: 1h}\n").unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-remote-write-receiver")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("cannot start prometheus");
    let prometheus = Prometheus { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://127.0.0.1:{port}/-/ready"),
        ]);
        if String::from_utf8_lossy(&out.stdout) == "200" {
            return prometheus;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus did not become ready:\n{}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs an instant query; each result's labels and value.
fn query(port: u16, promql: &str) -> Vec<(serde_json::Value, f64)> {
    let out = curl(&[
        "-G",
        &format!("http://127.0.0.1:{port}/api/v1/query"),
        "--data-urlencode",
        &format!("query={promql}"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(v["status"], "success", "{v}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let value = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
            (r["metric"].clone(), value)
        })
        .collect()
}

/// Waits until `promql` returns something.
fn wait_query(port: u16, promql: &str) -> Vec<(serde_json::Value, f64)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = query(port, promql);
        if !r.is_empty() {
            return r;
        }
        assert!(Instant::now() < deadline, "no result for {promql}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn metrics_from_the_python_sdk_land_in_prometheus() {
    let Some(binary) = prometheus_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus is not installed; .ci/run installs it (apt-get install prometheus)"
        );
        eprintln!("SKIPPED: the `prometheus` binary is not installed (apt-get install prometheus)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prometheus = start_prometheus(&binary, dir.path());
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
    let port = prometheus.port;

    // Counter: `_total`, attributes as labels, job from service.name.
    let mut orders = wait_query(port, "shop_orders_total");
    orders.sort_by(|a, b| a.0["region"].as_str().cmp(&b.0["region"].as_str()));
    assert_eq!(orders.len(), 2, "{orders:?}");
    assert_eq!(orders[0].0["region"], "eu");
    assert_eq!(orders[0].1, 5.0);
    assert_eq!(orders[1].0["region"], "us");
    assert_eq!(orders[1].1, 7.0);
    assert_eq!(orders[0].0["job"], "shop");
    assert_eq!(orders[0].0["cluster"], "e2e");

    // Gauge: the `{item}` annotation adds no suffix.
    let depth = wait_query(port, r#"queue_depth{queue="a"}"#);
    assert_eq!(depth.len(), 1);
    assert_eq!(depth[0].1, 42.0);

    // Histogram: unit suffix, cumulative buckets, sum and count.
    let bucket = |le: &str| {
        let r = wait_query(
            port,
            &format!(r#"http_server_duration_milliseconds_bucket{{route="/buy",le="{le}"}}"#),
        );
        r[0].1
    };
    assert_eq!(bucket("5"), 1.0);
    assert_eq!(bucket("50"), 2.0);
    assert_eq!(bucket("500"), 3.0);
    assert_eq!(bucket("+Inf"), 3.0);
    assert_eq!(
        wait_query(port, "http_server_duration_milliseconds_sum")[0].1,
        555.0
    );
    assert_eq!(
        wait_query(port, "http_server_duration_milliseconds_count")[0].1,
        3.0
    );

    // target_info carries the other resource attributes.
    let info = wait_query(port, r#"target_info{job="shop"}"#);
    assert_eq!(info[0].0["run_id"], "r7");
    assert_eq!(info[0].0["telemetry_sdk_language"], "python");
    assert_eq!(info[0].1, 1.0);

    assert_eq!(weir.metric("weir_exporter_failed_items_total", &[]), 0.0);
    assert_eq!(
        weir.metric("weir_exporter_permanent_failures_total", &[]),
        0.0
    );
}
