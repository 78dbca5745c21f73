//! OTLP test traffic: trace requests built with the protobuf types, posted
//! over plain HTTP/1.1 (many requests, no process per request), and the
//! spans the `file` exporter wrote.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};
use prost::Message;

/// A trace id for trace `n` that looks random (splitmix64), so hash-based
/// sampling sees a realistic spread.
pub fn trace_id(n: u64) -> [u8; 16] {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&mix(n).to_be_bytes());
    id[8..].copy_from_slice(&mix(n ^ 0xdead_beef_cafe).to_be_bytes());
    id
}

/// Span `k` of trace `n`, named `t{n}-{k}`, lasting `duration_ms`, with an
/// ERROR status when `error`.
pub fn span(n: u64, k: u64, duration_ms: u64, error: bool) -> Span {
    let start = 1_764_000_000_000_000_000 + n * 1_000;
    Span {
        trace_id: trace_id(n).to_vec(),
        span_id: (n * 16 + k + 1).to_be_bytes().to_vec(),
        name: format!("t{n}-{k}"),
        start_time_unix_nano: start,
        end_time_unix_nano: start + duration_ms * 1_000_000,
        status: error.then(|| Status {
            code: status::StatusCode::Error as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One request holding `spans` under one resource (`service.name=load`).
pub fn request(spans: Vec<Span>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("load".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// POSTs an OTLP/protobuf body to `http://addr/v1/traces`; the status code.
pub fn post_traces(addr: SocketAddr, body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Posts and insists on 200.
pub fn send(addr: SocketAddr, spans: Vec<Span>) {
    let status = post_traces(addr, &request(spans));
    assert_eq!(status, 200, "the collector refused a request");
}

/// Every exported request (one line of the file exporter each), as the
/// span names it held.
pub fn exported_requests(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut names = Vec::new();
            for rs in v["resourceSpans"].as_array().unwrap() {
                for ss in rs["scopeSpans"].as_array().unwrap() {
                    for s in ss["spans"].as_array().unwrap() {
                        names.push(s["name"].as_str().unwrap().to_string());
                    }
                }
            }
            names
        })
        .collect()
}

/// The span names in the file, in order.
pub fn exported_spans(path: &Path) -> Vec<String> {
    exported_requests(path).into_iter().flatten().collect()
}

/// The trace number of a span named `t{n}-{k}`.
pub fn trace_of(name: &str) -> u64 {
    name[1..name.find('-').unwrap()].parse().unwrap()
}
