//! One `attributes` plugin call (insert one attribute on every span) on a
//! 1,024-span batch, against the same edit done natively in Rust: on the
//! wire format (what the plugin does, compiled natively) and by prost
//! decode + insert + encode (what a plugin that rebuilds the tree does).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use weir::Signal;
use weir::plugin::{CallContext, PluginEngine, PluginLimits, builtin_bytes};
use weir::test_util;

const SPANS: usize = 1024;
#[path = "common/attributes_insert.rs"]
mod attributes_insert;
use attributes_insert::{CONFIG, inserted_value, native_wire_insert};

/// The same insert by decoding and re-encoding the whole request.
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
    // The allocator set up as the collector's `main` does.
    weir::malloc::tune();
    let payload = test_util::encode(&test_util::traces(SPANS, 10));
    let value = inserted_value();
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
            weir::plugin::Grants::default(),
        )
        .unwrap();
    let ctx = CallContext::default();

    // Every way makes the same request (field order aside).
    let canonical = |bytes: &[u8]| {
        ExportTraceServiceRequest::decode(bytes)
            .unwrap()
            .encode_to_vec()
    };
    let from_plugin = runtime
        .block_on(pool.process(&ctx, Signal::Traces, payload.clone()))
        .unwrap();
    assert_eq!(
        canonical(&from_plugin[0].1),
        native_insert(&payload),
        "plugin and native edits differ"
    );
    assert_eq!(
        canonical(&native_wire_insert(&payload, &value)),
        native_insert(&payload),
        "wire and prost edits differ"
    );

    let mut group = c.benchmark_group("attributes_insert_1024_spans");
    group.throughput(Throughput::Elements(SPANS as u64));
    // Both timed per call, without what is not the edit: the copy of the
    // batch the call takes ownership of (the pipeline hands its own over)
    // and dropping the result happen outside the timed part, for both.
    group.bench_function("wasm_plugin_call", |b| {
        b.iter_batched(
            || payload.clone(),
            |batch| {
                runtime
                    .block_on(pool.process(&ctx, Signal::Traces, batch))
                    .unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("native_wire_edit", |b| {
        b.iter_batched(
            || (),
            |()| native_wire_insert(&payload, &value),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("native_prost_decode_encode", |b| {
        b.iter(|| native_insert(&payload))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
