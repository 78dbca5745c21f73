//! Tenants end to end, against the real binary: tenants identified by the
//! client certificate's CN over mTLS, or by the user basic auth verified
//! (bcrypt htpasswd file) and bearer tokens; each tenant's pipeline writes
//! its own file, which holds only its data; unknown tenants are refused
//! with 403; a tenant flooding past its rate limit through a plugin that
//! traps on every call gets 429s with retry hints while another tenant
//! loses nothing.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::plain::{Conn, span_names, spans_json};
use common::*;

fn names(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}-{i}")).collect()
}

#[test]
fn two_tenants_by_client_certificate_each_get_only_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Three client certificates (three development CAs, trusted together).
    let mut cas = String::new();
    for (sub, cn) in [("a", "team-a"), ("b", "team-b"), ("c", "team-c")] {
        generate_certs(&root.join(sub), cn);
        cas.push_str(&std::fs::read_to_string(root.join(sub).join("ca.crt")).unwrap());
    }
    std::fs::write(root.join("cas.crt"), cas).unwrap();
    let config = r#"
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0, tls: {cert_file: a/server.crt, key_file: a/server.key, client_ca_file: cas.crt}}
processors:
  batch: {timeout: 100ms}
exporters:
  file/a: {path: a.json}
  file/b: {path: b.json}
tenancy:
  sources: [{from: client_cert, field: cn}]
  unknown: refuse
tenants:
  team-a:
    pipelines:
      traces: {receivers: [otlp], processors: [batch], exporters: [file/a]}
  team-b:
    pipelines:
      traces: {receivers: [otlp], processors: [batch], exporters: [file/b]}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
"#;
    let weir = Weir::start(root, config);
    let http = weir.http.unwrap();
    // Every client trusts the server's CA (a) and presents its own certificate.
    let client = |sub: &str| https::HttpsClient::new(&root.join("a"), &root.join(sub));
    let (a, b, c) = (client("a"), client("b"), client("c"));
    const REQUESTS: usize = 8;
    const SPANS: usize = 5;
    for r in 0..REQUESTS {
        for (client, prefix) in [(&a, "a"), (&b, "b")] {
            let body = spans_json(&names(prefix, r * SPANS..(r + 1) * SPANS));
            let status = client
                .post(http, "/v1/traces", "application/json", body.as_bytes())
                .unwrap();
            assert_eq!(status, 200, "{prefix} request {r}");
        }
    }
    // team-c has a good certificate but no tenant entry: refused, not defaulted.
    let body = spans_json(&names("c", 0..SPANS));
    let status = c
        .post(http, "/v1/traces", "application/json", body.as_bytes())
        .unwrap();
    assert_eq!(status, 403);

    let want =
        |prefix| -> BTreeSet<String> { names(prefix, 0..REQUESTS * SPANS).into_iter().collect() };
    for (file, prefix) in [("a.json", "a"), ("b.json", "b")] {
        let path = root.join(file);
        weir.wait_for(&format!("{file} complete"), Duration::from_secs(30), |_| {
            span_names(&path).len() >= REQUESTS * SPANS
        });
        let got = span_names(&path);
        assert_eq!(got.len(), REQUESTS * SPANS, "{file}: no duplicates");
        assert_eq!(
            got.into_iter().collect::<BTreeSet<_>>(),
            want(prefix),
            "{file} holds exactly its tenant's spans"
        );
    }
    let m = weir.metrics();
    for tenant in ["team-a", "team-b"] {
        assert_eq!(
            metric_value(
                &m,
                "weir_tenant_items_total",
                &[("tenant", tenant), ("outcome", "accepted")]
            ),
            (REQUESTS * SPANS) as f64,
            "{m}"
        );
    }
    assert_eq!(
        metric_value(&m, "weir_tenant_unidentified_requests_total", &[]),
        1.0
    );
    assert_eq!(
        metric_value(
            &m,
            "weir_receiver_requests_total",
            &[("outcome", "forbidden")]
        ),
        1.0
    );
    // The exporter's deliveries are counted per tenant, under the tenant's own exporter.
    assert_eq!(
        metric_value(
            &m,
            "weir_tenant_exported_items_total",
            &[("tenant", "team-a"), ("exporter", "file/a@team-a")]
        ),
        (REQUESTS * SPANS) as f64
    );
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A gRPC Export of traces with a real gRPC client (Python grpcio) and
/// request metadata: `OK ...` or `<STATUS_CODE> <details>`.
fn grpc_export(
    addr: std::net::SocketAddr,
    dir: &Path,
    headers: &[&str],
    spans: &[String],
) -> String {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: spans
                    .iter()
                    .map(|name| Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        name: name.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let file = dir.join("grpc-request.bin");
    std::fs::write(&file, request.encode_to_vec()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/grpc_raw.py");
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(script)
        .arg(addr.to_string())
        .arg("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        .arg("--file")
        .arg(&file);
    for h in headers {
        cmd.arg("--header").arg(h);
    }
    let out = cmd.output().expect("cannot run python3");
    assert!(
        out.status.success(),
        "grpc_raw: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn basic_auth_and_bearer_tokens_name_the_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A bcrypt htpasswd file, as `htpasswd -B` writes it.
    let htpasswd = format!(
        "alice:{}\nbob:{}\ncarol:{}\n",
        bcrypt::hash("wonderland", 10).unwrap(),
        bcrypt::hash("builder", 10).unwrap(),
        bcrypt::hash("unlisted", 10).unwrap(),
    );
    std::fs::write(root.join("users.htpasswd"), htpasswd).unwrap();
    let config = r#"
extensions:
  basicauth/users: {htpasswd: {file: users.htpasswd}}
  bearertokenauth/ci: {token: t0ps3cret-token}
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0, auth: {authenticator: basicauth/users}}
      grpc: {endpoint: 127.0.0.1:0, auth: {authenticator: bearertokenauth/ci}}
processors:
  batch: {timeout: 100ms}
exporters:
  file/alice: {path: alice.json}
  file/bob: {path: bob.json}
tenancy:
  sources: [{from: auth_user}, {from: header}]
  unknown: refuse
tenants:
  alice:
    pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [file/alice]}}
  bob:
    pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [file/bob]}}
service:
  extensions: [basicauth/users, bearertokenauth/ci]
  telemetry: {metrics: {address: "127.0.0.1:0"}}
"#;
    let weir = Weir::start(root, config);
    let mut http = Conn::new(weir.http.unwrap());
    let post = |conn: &mut Conn, auth: Option<&str>, names: &[String]| {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", *a)).collect();
        conn.post_json("/v1/traces", &headers, spans_json(names).as_bytes())
            .unwrap()
    };
    let alice = basic("alice", "wonderland");
    let bob = basic("bob", "builder");
    for r in 0..4 {
        assert_eq!(
            post(
                &mut http,
                Some(alice.as_str()),
                &names("alice", r * 3..r * 3 + 3)
            )
            .status,
            200
        );
        assert_eq!(
            post(
                &mut http,
                Some(bob.as_str()),
                &names("bob", r * 3..r * 3 + 3)
            )
            .status,
            200
        );
    }
    // Wrong password, unknown user, no credentials, not Basic: 401.
    for auth in [
        Some(basic("alice", "wrong-password")),
        Some(basic("mallory", "wonderland")),
        None,
        Some("Bearer t0ps3cret-token".to_string()),
    ] {
        let reply = post(&mut http, auth.as_deref(), &names("intruder", 0..1));
        assert_eq!(reply.status, 401, "{auth:?}: {}", reply.body);
    }
    // carol authenticates but is no tenant: 403.
    let reply = post(
        &mut http,
        Some(basic("carol", "unlisted").as_str()),
        &names("carol", 0..1),
    );
    assert_eq!(reply.status, 403, "{}", reply.body);

    // gRPC with a bearer token; the tenant from the X-Scope-OrgID header.
    let grpc = weir.grpc.unwrap();
    let ok = grpc_export(
        grpc,
        root,
        &["authorization=Bearer t0ps3cret-token", "x-scope-orgid=bob"],
        &names("grpc-bob", 0..3),
    );
    assert!(ok.starts_with("OK"), "{ok}");
    let refused = grpc_export(
        grpc,
        root,
        &["authorization=Bearer wrong-token", "x-scope-orgid=bob"],
        &names("grpc-bad", 0..3),
    );
    assert!(refused.starts_with("UNAUTHENTICATED"), "{refused}");
    let unknown = grpc_export(
        grpc,
        root,
        &[
            "authorization=Bearer t0ps3cret-token",
            "x-scope-orgid=mallory",
        ],
        &names("grpc-mallory", 0..3),
    );
    assert!(unknown.starts_with("PERMISSION_DENIED"), "{unknown}");

    let expect = |file: &str, mut want: Vec<String>| {
        let path = root.join(file);
        weir.wait_for(file, Duration::from_secs(30), |_| {
            span_names(&path).len() >= want.len()
        });
        let mut got = span_names(&path);
        got.sort();
        want.sort();
        assert_eq!(got, want, "{file}");
    };
    expect("alice.json", names("alice", 0..12));
    let mut bob_spans = names("bob", 0..12);
    bob_spans.extend(names("grpc-bob", 0..3));
    expect("bob.json", bob_spans);

    let m = weir.metrics();
    let failures = |transport: &str, reason: &str| {
        metric_value(
            &m,
            "weir_receiver_auth_failures_total",
            &[("transport", transport), ("reason", reason)],
        )
    };
    assert_eq!(failures("http", "invalid"), 2.0, "{m}");
    assert_eq!(failures("http", "missing"), 1.0);
    assert_eq!(failures("http", "malformed"), 1.0);
    assert_eq!(failures("grpc", "invalid"), 1.0);
    assert_eq!(
        metric_value(
            &m,
            "weir_receiver_requests_total",
            &[("outcome", "unauthenticated")]
        ),
        5.0
    );
    // No secret reaches the logs, even at debug.
    let logs = format!("{}\n{}", weir.stderr(), weir.stdout());
    for secret in [
        "wonderland",
        "wrong-password",
        "t0ps3cret",
        "wrong-token",
        "builder",
    ] {
        assert!(!logs.contains(secret), "`{secret}` leaked into the logs");
    }
}

#[test]
fn a_flooding_tenant_with_a_trapping_plugin_does_not_touch_another() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 100ms}}
  chaos:
plugins:
  chaos: {{path: {plugins}/chaos.wasm, limits: {{timeout: 500ms}}}}
exporters:
  file/flood: {{path: flood.json}}
  file/steady: {{path: steady.json}}
tenancy:
  sources: [{{from: header}}]
  unknown: refuse
tenants:
  flood:
    rate_limit: {{items_per_second: 400, burst: 400}}
    memory_limit_mib: 16
    pipelines: {{traces: {{receivers: [otlp], processors: [chaos, batch], exporters: [file/flood]}}}}
  steady:
    pipelines: {{traces: {{receivers: [otlp], processors: [chaos, batch], exporters: [file/steady]}}}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"#,
        plugins = PLUGIN_DIR
    );
    let weir = Weir::start(root, &config);
    let addr = weir.http.unwrap();
    const SECONDS: f64 = 3.0;
    // The flood: 10x its 400 items/s, every batch trapping the chaos plugin.
    let flood = std::thread::spawn(move || {
        let mut conn = Conn::new(addr);
        let body = spans_json(&vec!["weir-chaos:trap"; 40]);
        let started = Instant::now();
        let (mut sent, mut ok, mut limited, mut hinted) = (0usize, 0usize, 0usize, 0usize);
        while started.elapsed().as_secs_f64() < SECONDS {
            let due = (started.elapsed().as_secs_f64() * 4000.0 / 40.0) as usize;
            if sent > due {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            let reply = conn
                .post_json("/v1/traces", &[("X-Scope-OrgID", "flood")], body.as_bytes())
                .unwrap();
            sent += 1;
            match reply.status {
                200 => ok += 1,
                429 => {
                    limited += 1;
                    if reply
                        .header("retry-after")
                        .is_some_and(|s| s.parse::<u64>().is_ok())
                    {
                        hinted += 1;
                    }
                }
                other => panic!("flood got {other}: {}", reply.body),
            }
        }
        (sent, ok, limited, hinted, started.elapsed())
    });
    // The steady tenant: 20 requests/s of 10 spans.
    let mut conn = Conn::new(addr);
    let started = Instant::now();
    let mut sent = Vec::new();
    let mut r = 0;
    while started.elapsed().as_secs_f64() < SECONDS {
        let batch = names("steady", r * 10..r * 10 + 10);
        let reply = conn
            .post_json(
                "/v1/traces",
                &[("X-Scope-OrgID", "steady")],
                spans_json(&batch).as_bytes(),
            )
            .unwrap();
        assert_eq!(reply.status, 200, "steady request {r}: {}", reply.body);
        sent.extend(batch);
        r += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let (flood_sent, flood_ok, limited, hinted, took) = flood.join().unwrap();
    assert!(
        flood_sent as f64 >= 0.5 * 100.0 * SECONDS,
        "the flood ran: {flood_sent}"
    );
    assert!(
        limited > flood_sent / 2,
        "most of the flood is refused: {limited} of {flood_sent}"
    );
    assert_eq!(hinted, limited, "every 429 carries Retry-After");
    // At most the burst plus the rate over the run got in.
    let admitted = flood_ok * 40;
    assert!(
        admitted as f64 <= 400.0 + 400.0 * took.as_secs_f64() + 40.0,
        "admitted {admitted} in {took:?}"
    );

    let steady = root.join("steady.json");
    weir.wait_for("steady complete", Duration::from_secs(30), |_| {
        span_names(&steady).len() >= sent.len()
    });
    let mut got = span_names(&steady);
    got.sort();
    sent.sort();
    assert_eq!(
        got, sent,
        "the steady tenant lost nothing and got nothing else"
    );
    let flood_file = root.join("flood.json");
    weir.wait_for("flood exported", Duration::from_secs(30), |_| {
        span_names(&flood_file).len() >= admitted
    });
    assert!(
        span_names(&flood_file)
            .iter()
            .all(|n| n == "weir-chaos:trap")
    );

    let m = weir.metrics();
    let calls = |component: &str, outcome: &str| {
        metric_value(
            &m,
            "weir_plugin_calls_total",
            &[("component", component), ("outcome", outcome)],
        )
    };
    assert!(calls("chaos@flood", "trap") >= flood_ok as f64, "{m}");
    assert_eq!(calls("chaos@steady", "trap"), 0.0);
    assert!(calls("chaos@steady", "ok") >= r as f64);
    assert_eq!(
        metric_value(
            &m,
            "weir_tenant_requests_total",
            &[("tenant", "flood"), ("outcome", "rate_limited")]
        ),
        limited as f64
    );
}

#[test]
fn a_reload_adds_a_tenant_and_its_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let config = |tenants: &[&str]| {
        let mut text = String::from(
            r#"
receivers:
  otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}
processors:
  batch: {timeout: 100ms}
exporters:
"#,
        );
        for t in tenants {
            text.push_str(&format!("  file/{t}: {{path: {t}.json}}\n"));
        }
        text.push_str("tenancy: {sources: [{from: header}], unknown: refuse}\ntenants:\n");
        for t in tenants {
            text.push_str(&format!(
                "  {t}: {{pipelines: {{traces: {{receivers: [otlp], processors: [batch], exporters: [file/{t}]}}}}}}\n"
            ));
        }
        text.push_str("service:\n  telemetry: {metrics: {address: \"127.0.0.1:0\"}}\n");
        text
    };
    let weir = Weir::start(root, &config(&["one"]));
    let mut conn = Conn::new(weir.http.unwrap());
    let mut send = |tenant: &str, names: &[String]| {
        conn.post_json(
            "/v1/traces",
            &[("X-Scope-OrgID", tenant)],
            spans_json(names).as_bytes(),
        )
        .unwrap()
        .status
    };
    assert_eq!(send("one", &names("one", 0..3)), 200);
    assert_eq!(send("two", &names("two", 0..3)), 403);
    std::fs::write(root.join("config.yaml"), config(&["one", "two"])).unwrap();
    weir.signal("HUP");
    weir.wait_for("the reload", Duration::from_secs(60), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= 1.0
    });
    // The receiver kept its port; the new table knows `two`.
    assert_eq!(send("two", &names("two", 3..6)), 200);
    assert_eq!(send("one", &names("one", 3..6)), 200);
    for (tenant, want) in [("one", names("one", 0..6)), ("two", names("two", 3..6))] {
        let path = root.join(format!("{tenant}.json"));
        weir.wait_for(tenant, Duration::from_secs(30), |_| {
            span_names(&path).len() >= want.len()
        });
        let mut got = span_names(&path);
        got.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got, want, "{tenant}");
    }
}
