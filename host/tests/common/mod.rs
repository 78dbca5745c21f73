//! Helpers for end-to-end tests: the real `weir` binary as a child process,
//! TLS material made by `weir certs generate`, and real clients (the
//! OpenTelemetry Python SDK, curl).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod grpc;
pub mod https;
pub mod otlp;
pub mod plain;
pub mod prometheus;
pub mod seqlogs;
pub mod sink;

pub const WEIR: &str = env!("CARGO_BIN_EXE_weir");
/// Where the host's build put the plugins (test plugins such as `chaos` too).
pub const PLUGIN_DIR: &str = env!("WEIR_PLUGIN_DIR");

/// How long a collector may take to start (it compiles its plugins).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A running `weir` child process.
pub struct Weir {
    child: Child,
    pub dir: PathBuf,
    pub grpc: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub telemetry: Option<SocketAddr>,
    /// The `health_check` extension's address, when one is enabled.
    pub health: Option<SocketAddr>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Weir {
    /// Writes `config` to `dir/config.yaml` and runs `weir --config` in `dir`
    /// until it logs `ready`.
    pub fn start(dir: &Path, config: &str) -> Weir {
        Weir::start_within(dir, config, START_TIMEOUT)
    }

    /// Like [`Weir::start`], waiting up to `timeout` for `ready` (plugins
    /// of many megabytes, such as Python or JavaScript components, take
    /// longer to compile).
    pub fn start_within(dir: &Path, config: &str, timeout: Duration) -> Weir {
        let path = dir.join("config.yaml");
        std::fs::write(&path, config).unwrap();
        Weir::spawn(dir, &["--config", path.to_str().unwrap()], &[], timeout)
    }

    /// Runs `weir ARGS` in `dir` until it logs `ready`.
    pub fn start_with(dir: &Path, args: &[&str]) -> Weir {
        Weir::start_with_env(dir, args, &[])
    }

    /// Runs `weir ARGS` in `dir` with extra environment variables until it
    /// logs `ready`.
    pub fn start_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Weir {
        Weir::spawn(dir, args, env, START_TIMEOUT)
    }

    fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Weir {
        let mut child = Command::new(WEIR)
            .args(args)
            .current_dir(dir)
            // Compiled plugins cached per test build, not in ~/.cache.
            .env(
                "WEIR_PLUGIN_CACHE",
                concat!(env!("CARGO_TARGET_TMPDIR"), "/plugin-cache"),
            )
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start weir");
        let stdout = collect(child.stdout.take().unwrap(), None);
        let (ready_tx, ready_rx) = mpsc::channel();
        let stderr = collect(child.stderr.take().unwrap(), Some(ready_tx));
        let deadline = Instant::now() + timeout;
        let mut weir = Weir {
            child,
            dir: dir.to_path_buf(),
            grpc: None,
            http: None,
            telemetry: None,
            health: None,
            stdout,
            stderr,
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ready_rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = field(&line, "address") {
                        let addr: SocketAddr = addr.parse().unwrap();
                        match field(&line, "transport").as_deref() {
                            Some("grpc") => weir.grpc = Some(addr),
                            Some("http") => weir.http = Some(addr),
                            Some("telemetry") => weir.telemetry = Some(addr),
                            Some("health") => weir.health = Some(addr),
                            _ => {}
                        }
                    }
                    if line.contains(" ready") {
                        return weir;
                    }
                }
                Err(_) => {
                    let status = weir.child.try_wait().unwrap();
                    panic!(
                        "weir did not become ready (exit: {status:?}); stderr:\n{}",
                        weir.stderr()
                    );
                }
            }
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// The process id (to read `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmRSS` and `VmHWM` (peak) of the process, in KiB.
    pub fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// `kill -9`: no shutdown, no flush; waits until the process is gone.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The collector's own metrics (Prometheus text).
    pub fn metrics(&self) -> String {
        let addr = self.telemetry.expect("telemetry endpoint");
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(stream, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    }

    /// The value of the metric line starting with `prefix` (name and labels), or 0.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        metric_value(&self.metrics(), name, labels)
    }

    /// Waits until `check` holds, up to `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, mut check: impl FnMut(&Weir) -> bool) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if check(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for {what}; stderr:\n{}", self.stderr());
    }

    /// Sends a signal (`HUP`, `TERM`, ...) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(self) -> std::process::ExitStatus {
        self.stop_with("TERM")
    }

    /// Sends `signal` (`TERM`, `INT`), then waits up to 60 s for the exit.
    pub fn stop_with(mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args([format!("-{signal}"), pid])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "weir did not stop on SIG{signal}; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Weir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `key=value` or `key="value"` from a log line.
fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    let rest = &line[start..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => &quoted[..quoted.find('"')?],
        None => rest.split_whitespace().next()?,
    };
    Some(value.to_string())
}

fn collect(
    reader: impl Read + Send + 'static,
    notify: Option<mpsc::Sender<String>>,
) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if let Some(tx) = &notify {
                let _ = tx.send(line.clone());
            }
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// Sums the samples of `name` whose labels include all of `labels`.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Runs `weir certs generate` into `dir`.
pub fn generate_certs(dir: &Path, client_cn: &str) {
    let out = Command::new(WEIR)
        .args([
            "certs",
            "generate",
            "--out",
            dir.to_str().unwrap(),
            "--client-cn",
            client_cn,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "certs generate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Python SDK client script.
pub fn python_client() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/send_otlp.py")
}

/// Runs the Python SDK client with only OTEL_* variables to configure it.
pub fn python_send(env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new("python3");
    cmd.arg(python_client()).args(args);
    // A user's shell has neither; with them set, `requests` ignores the
    // exporter's own CA file.
    cmd.env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("cannot run python3")
}

/// Runs curl with the given arguments (and no CA bundle from the environment).
pub fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "30"])
        .args(args)
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .expect("cannot run curl")
}
