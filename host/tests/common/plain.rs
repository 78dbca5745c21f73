//! A small keep-alive HTTP/1.1 client over plain TCP, for tests and
//! benchmarks that send many OTLP/JSON requests and need the status, the
//! response headers (Retry-After) and each request's latency; plus OTLP/JSON
//! span builders and a reader of the file exporter's output.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// One response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub latency: Duration,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive connection (reconnects when the server closed it).
pub struct Conn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Self {
        Conn { addr, stream: None }
    }

    /// POSTs an OTLP/JSON body to `path` with extra headers.
    pub fn post_json(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, String> {
        match self.try_post(path, headers, body) {
            Ok(r) => Ok(r),
            // A kept-alive connection the server closed: once more on a new one.
            Err(_) => {
                self.stream = None;
                self.try_post(path, headers, body)
            }
        }
    }

    fn try_post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, String> {
        let started = Instant::now();
        if self.stream.is_none() {
            let tcp = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
                .map_err(|e| e.to_string())?;
            tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            tcp.set_nodelay(true).unwrap();
            self.stream = Some(BufReader::new(tcp));
        }
        let reader = self.stream.as_mut().unwrap();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let stream = reader.get_mut();
        stream
            .write_all(head.as_bytes())
            .map_err(|e| e.to_string())?;
        stream.write_all(body).map_err(|e| e.to_string())?;
        let mut status_line = String::new();
        if reader
            .read_line(&mut status_line)
            .map_err(|e| e.to_string())?
            == 0
        {
            return Err("connection closed".into());
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut response_headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).map_err(|e| e.to_string())?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                response_headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let length: usize = response_headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).map_err(|e| e.to_string())?;
        if response_headers
            .iter()
            .any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close"))
        {
            self.stream = None;
        }
        Ok(Reply {
            status,
            headers: response_headers,
            body: String::from_utf8_lossy(&body).to_string(),
            latency: started.elapsed(),
        })
    }
}

/// An OTLP/JSON traces request with one span per name.
pub fn spans_json<S: AsRef<str>>(names: &[S]) -> String {
    let spans: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"{}"}}"#,
                n.as_ref()
            )
        })
        .collect();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

/// The span names in a file exporter's OTLP/JSON lines output.
pub fn span_names(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut names = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    names.push(s["name"].as_str().unwrap_or_default().to_string());
                }
            }
        }
    }
    names
}

/// The `p`th percentile (0..=100) of some latencies.
pub fn percentile(latencies: &[Duration], p: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Sends only the head of an OTLP/HTTP logs request declaring `length`
/// bytes of body (plus `headers`), and returns the answer, lower-cased: what
/// the server says before it has read any of the body.
pub fn head_only(addr: SocketAddr, headers: &[(&str, &str)], length: usize) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = String::from("POST /v1/logs HTTP/1.1\r\nHost: weir\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Type: application/x-protobuf\r\nContent-Length: {length}\r\n\r\n"
    ));
    tcp.write_all(head.as_bytes()).unwrap();
    let mut response = [0u8; 2048];
    let n = tcp.read(&mut response).expect("an answer before the body");
    String::from_utf8_lossy(&response[..n]).to_ascii_lowercase()
}
