//! Exporter throughput:
//!
//! - `encode/*`: one `encode` call of each network exporter plugin (in the
//!   sandbox) on a 1,024-item batch (10 attributes per item);
//! - `export/*`: encode, then send to a loopback HTTP server (keep-alive,
//!   HTTP/1.1, the exporter's default compression), one batch at a time;
//!   `export_x8/*` keeps eight batches in flight, as `num_consumers` would.
//!
//! Throughput is reported per item (spans, data points, log records).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use weir::Signal;
use weir::plugin::{CallContext, ExporterPool, PluginEngine, PluginLimits, builtin_bytes};
use weir::test_util;
use weir::transport::{NetworkExporterConfig, NetworkSink, OutgoingRequest, SendOutcome};

const ITEMS: usize = 1024;

/// A loopback server answering 200 to everything, after reading the body.
async fn loopback() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

struct Case {
    plugin: &'static str,
    signal: Signal,
    payload: Vec<u8>,
    config: serde_json::Value,
}

fn cases(endpoint: &str) -> Vec<Case> {
    let traces = test_util::encode(&test_util::traces(ITEMS, 10));
    let metrics = test_util::encode(&test_util::metrics(ITEMS, 10));
    let logs = test_util::encode(&test_util::logs(ITEMS, 10));
    let cfg = |extra: serde_json::Value| {
        let mut c =
            serde_json::json!({"endpoint": endpoint, "retry_on_failure": {"enabled": false}});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    vec![
        Case {
            plugin: "otlp",
            signal: Signal::Traces,
            payload: traces.clone(),
            config: cfg(serde_json::json!({})),
        },
        Case {
            plugin: "otlphttp",
            signal: Signal::Traces,
            payload: traces.clone(),
            config: cfg(serde_json::json!({})),
        },
        Case {
            plugin: "otlphttp",
            signal: Signal::Logs,
            payload: logs.clone(),
            config: cfg(serde_json::json!({"encoding": "json"})),
        },
        Case {
            plugin: "loki",
            signal: Signal::Logs,
            payload: logs.clone(),
            config: cfg(serde_json::json!({"labels": {"resource": {"host.name": "host"}}})),
        },
        Case {
            plugin: "prometheusremotewrite",
            signal: Signal::Metrics,
            payload: metrics,
            config: cfg(serde_json::json!({})),
        },
    ]
}

fn name(case: &Case) -> String {
    let variant = case
        .config
        .get("encoding")
        .and_then(|e| e.as_str())
        .unwrap_or("");
    format!(
        "{}{}{}/{}",
        case.plugin,
        if variant.is_empty() { "" } else { "_" },
        variant,
        case.signal
    )
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(loopback());
    let engine = PluginEngine::new().unwrap();
    let ctx = CallContext::default();
    let mut prepared: Vec<(String, Case, ExporterPool, Arc<NetworkSink>)> = Vec::new();
    for case in cases(&format!("http://{addr}")) {
        let component = engine
            .compile(case.plugin, builtin_bytes(case.plugin).unwrap())
            .unwrap();
        let pool = engine
            .exporter_pool(
                case.plugin,
                case.plugin,
                &component,
                case.config.to_string(),
                PluginLimits::default(),
                weir::plugin::Grants::default(),
            )
            .unwrap();
        let sink =
            NetworkSink::new(&NetworkExporterConfig::from_block(&case.config).unwrap()).unwrap();
        prepared.push((name(&case), case, pool, Arc::new(sink)));
    }

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(ITEMS as u64));
    for (name, case, pool, _) in &prepared {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime
                    .block_on(pool.encode(&ctx, case.signal, case.payload.clone()))
                    .unwrap()
            })
        });
    }
    group.finish();

    async fn export(pool: &ExporterPool, sink: &NetworkSink, ctx: &CallContext, case: &Case) {
        let outgoing = pool
            .encode(ctx, case.signal, case.payload.clone())
            .await
            .unwrap();
        for out in outgoing {
            let request = OutgoingRequest {
                path: out.path,
                headers: out.headers,
                body: Bytes::from(out.body),
            };
            assert_eq!(sink.send(&request).await, SendOutcome::Sent);
        }
    }

    // The gRPC exporter has no gRPC loopback server here: encode only.
    prepared.retain(|(_, case, _, _)| case.plugin != "otlp");
    let mut group = c.benchmark_group("export");
    group.throughput(Throughput::Elements(ITEMS as u64));
    for (name, case, pool, sink) in &prepared {
        group.bench_function(name, |b| {
            b.iter(|| runtime.block_on(export(pool, sink, &ctx, case)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("export_x8");
    group.throughput(Throughput::Elements(8 * ITEMS as u64));
    for (name, case, pool, sink) in &prepared {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let calls = (0..8).map(|_| export(pool, sink, &ctx, case));
                    futures_util::future::join_all(calls).await
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
