//! One `attributes` plugin call (insert one attribute on every span) on a
//! 1,024-span batch, against the same edit done natively in Rust (prost
//! decode, insert, encode) — the sandbox's cost as a ratio.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use weir::Signal;
use weir::plugin::{CallContext, PluginEngine, PluginLimits, builtin_bytes};
use weir::test_util;

const SPANS: usize = 1024;
const CONFIG: &str =
    r#"{"actions":[{"key":"org_name","value":"XPLG-benchmarker-dev-tag-test","action":"insert"}]}"#;

/// The attributes processor's `insert`, natively.
fn native_insert(payload: &[u8]) -> Vec<u8> {
    let mut request = ExportTraceServiceRequest::decode(payload).expect("valid request");
    for rs in &mut request.resource_spans {
        for ss in &mut rs.scope_spans {
            for span in &mut ss.spans {
                if !span.attributes.iter().any(|kv| kv.key == "org_name") {
                    span.attributes
                        .push(test_util::kv("org_name", "XPLG-benchmarker-dev-tag-test"));
                }
            }
        }
    }
    request.encode_to_vec()
}

fn bench(c: &mut Criterion) {
    let payload = test_util::encode(&test_util::traces(SPANS, 10));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = PluginEngine::new().unwrap();
    let component = engine
        .compile("attributes", builtin_bytes("attributes").unwrap())
        .unwrap();
    let pool = engine
        .processor_pool(
            "attributes",
            "attributes",
            &component,
            CONFIG.into(),
            PluginLimits::default(),
        )
        .unwrap();
    let ctx = CallContext::default();

    // Both sides make the same bytes.
    let from_plugin = runtime
        .block_on(pool.process(&ctx, Signal::Traces, payload.clone()))
        .unwrap();
    assert_eq!(
        from_plugin[0].1,
        native_insert(&payload),
        "plugin and native edits differ"
    );

    let mut group = c.benchmark_group("attributes_insert_1024_spans");
    group.throughput(Throughput::Elements(SPANS as u64));
    group.bench_function("wasm_plugin_call", |b| {
        b.iter(|| {
            runtime
                .block_on(pool.process(&ctx, Signal::Traces, payload.clone()))
                .unwrap()
        })
    });
    group.bench_function("native_rust", |b| b.iter(|| native_insert(&payload)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
