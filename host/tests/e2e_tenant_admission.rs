//! A tenant known from the request's headers is admitted or refused before
//! its body is read: over its rate limit (429 with Retry-After, over HTTP
//! and gRPC) or unknown (403), a request is refused even when its body is
//! garbage that decoding would have refused with 400, and a kept-alive
//! HTTP connection still carries the next request.

mod common;

use std::time::Duration;

use common::plain::{Conn, spans_json};
use common::*;

#[test]
fn over_limit_and_unknown_tenants_are_refused_before_the_body_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Weir::start(
        dir.path(),
        r#"
receivers:
  otlp: {protocols: {http: {endpoint: 127.0.0.1:0}, grpc: {endpoint: 127.0.0.1:0}}}
exporters:
  file: {path: out.json}
tenancy: {sources: [{from: header}], unknown: refuse}
tenants:
  slow:
    rate_limit: {items_per_second: 1, burst: 5}
    pipelines: {traces: {receivers: [otlp], exporters: [file]}}
service:
  telemetry: {metrics: {address: 127.0.0.1:0}}
"#,
    );
    let mut conn = Conn::new(weir.http.unwrap());
    let post = |conn: &mut Conn, tenant: &str, body: &[u8]| {
        conn.post_json("/v1/traces", &[("X-Scope-OrgID", tenant)], body)
            .unwrap()
    };
    // Garbage from a tenant with room is decoded, and refused as such.
    let reply = post(&mut conn, "slow", b"{not json");
    assert_eq!(reply.status, 400, "{}", reply.body);
    // 10 spans from a bucket of 5: passes, and leaves it in debt.
    let reply = post(&mut conn, "slow", spans_json(&["a"; 10]).as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Now the same garbage is refused for the rate, before any decoding,
    // with a hint of about the 6 s the debt takes to repay.
    let reply = post(&mut conn, "slow", b"{not json");
    assert_eq!(reply.status, 429, "{}", reply.body);
    let hint: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((5..=7).contains(&hint), "Retry-After {hint}");
    // An unknown tenant: 403, body unread.
    let reply = post(&mut conn, "mallory", b"{not json");
    assert_eq!(reply.status, 403, "{}", reply.body);
    // The connection still works after bodies that were never decoded.
    let reply = post(&mut conn, "slow", spans_json(&["b"]).as_bytes());
    assert_eq!(reply.status, 429, "{}", reply.body);

    // gRPC: RESOURCE_EXHAUSTED for a message that is not even protobuf.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/grpc_raw.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(weir.grpc.unwrap().to_string())
        .arg("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        .args(["--repeat", "ff:64", "--header", "x-scope-orgid=slow"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.starts_with("RESOURCE_EXHAUSTED"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rate_limited = weir.metric(
        "weir_tenant_requests_total",
        &[("tenant", "slow"), ("outcome", "rate_limited")],
    );
    assert!(rate_limited >= 3.0, "{}", weir.metrics());
    weir.wait_for("the 10 spans exported", Duration::from_secs(30), |_| {
        common::plain::span_names(&dir.path().join("out.json")).len() == 10
    });
}
