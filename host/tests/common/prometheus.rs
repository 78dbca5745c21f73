//! A real Prometheus (Debian's `prometheus` binary) as a child process, and
//! queries of its HTTP API.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::curl;

/// A Prometheus child process, killed when dropped.
pub struct Prometheus {
    child: Child,
    pub port: u16,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `prometheus` binary, or `None` (the test is skipped; in CI that is
/// an error, since `.ci/run` installs it).
pub fn binary() -> Option<String> {
    let out = Command::new("sh")
        .args(["-c", "command -v prometheus"])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if path.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus is not installed; .ci/run installs it (apt-get install prometheus)"
        );
        eprintln!("SKIPPED: the `prometheus` binary is not installed (apt-get install prometheus)");
        return None;
    }
    Some(path)
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scrape config: every `(job, target)` scraped every `interval`.
pub fn scrape_config(interval: &str, jobs: &[(&str, String)]) -> String {
    scrape_config_with(interval, jobs, false)
}

/// Like [`scrape_config`]; with `honor_labels` the target's own `job` and
/// `instance` labels win over the scrape's (as the Go collector's
/// `prometheus` exporter docs advise).
pub fn scrape_config_with(interval: &str, jobs: &[(&str, String)], honor_labels: bool) -> String {
    let mut config =
        format!("global: {{scrape_interval: {interval}, scrape_timeout: {interval}}}\n");
    if !jobs.is_empty() {
        config.push_str("scrape_configs:\n");
    }
    for (job, target) in jobs {
        config.push_str(&format!(
            "  - job_name: {job}\n    honor_labels: {honor_labels}\n    static_configs: [{{targets: ['{target}']}}]\n"
        ));
    }
    config
}

/// Starts Prometheus in `dir` with `config` (its YAML) and the remote-write
/// receiver on, and waits until it is ready.
pub fn start(binary: &str, dir: &Path, config: &str) -> Prometheus {
    let port = free_port();
    let config_file = dir.join("prometheus.yml");
    std::fs::write(&config_file, config).unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config_file.display()))
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

impl Prometheus {
    /// Runs an instant query; each result's labels and value.
    pub fn query(&self, promql: &str) -> Vec<(serde_json::Value, f64)> {
        let out = curl(&[
            "-G",
            &format!("http://127.0.0.1:{}/api/v1/query", self.port),
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
    pub fn wait_query(&self, promql: &str) -> Vec<(serde_json::Value, f64)> {
        self.wait_until(promql, |r| !r.is_empty())
    }

    /// Waits until the result of `promql` satisfies `done`, and returns it.
    pub fn wait_until(
        &self,
        promql: &str,
        mut done: impl FnMut(&[(serde_json::Value, f64)]) -> bool,
    ) -> Vec<(serde_json::Value, f64)> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.query(promql);
            if done(&r) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "no expected result for {promql}; last: {r:?}\ntargets: {}",
                self.targets()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The scrape targets and their health (for failure messages).
    pub fn targets(&self) -> String {
        let out = curl(&[&format!("http://127.0.0.1:{}/api/v1/targets", self.port)]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
