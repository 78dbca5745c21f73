//! The `transform` plugin (OTTL) on a 1,024-span batch with five typical
//! statements, against the `attributes` plugin on the same batch: with five
//! comparable actions, and with the single insert of `plugin_call`. The
//! ratio transform / attributes is what the issue asks for.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use weir::Signal;
use weir::plugin::{CallContext, PluginEngine, PluginLimits, ProcessorPool, builtin_bytes};
use weir::test_util;

const SPANS: usize = 1024;

/// Five statements of the kinds users write: tag, copy from the resource,
/// drop a key, redact with a regex, and a conditional copy.
const TRANSFORM: &str = r#"{"trace_statements": [{"context": "span", "statements": [
    "set(attributes[\"org_name\"], \"XPLG-benchmarker-dev-tag-test\")",
    "set(attributes[\"service\"], resource.attributes[\"service.name\"])",
    "delete_key(attributes, \"attr.9\")",
    "replace_pattern(attributes[\"attr.1\"], \"value-([0-9]+)\", \"v$1\")",
    "set(attributes[\"route\"], name) where kind == SPAN_KIND_SERVER"
]}]}"#;

/// Five actions of the attributes processor, as close as it can get.
const ATTRIBUTES_5: &str = r#"{"actions": [
    {"key": "org_name", "value": "XPLG-benchmarker-dev-tag-test", "action": "insert"},
    {"key": "service", "value": "bench", "action": "upsert"},
    {"key": "attr.9", "action": "delete"},
    {"key": "attr.1", "value": "v0", "action": "update"},
    {"key": "route", "from_attribute": "attr.0", "action": "upsert"}
]}"#;

const ATTRIBUTES_1: &str =
    r#"{"actions":[{"key":"org_name","value":"XPLG-benchmarker-dev-tag-test","action":"insert"}]}"#;

fn pool(engine: &PluginEngine, plugin: &str, config: &str) -> ProcessorPool {
    let component = engine
        .compile(plugin, builtin_bytes(plugin).unwrap())
        .unwrap();
    engine
        .processor_pool(
            plugin,
            plugin,
            &component,
            config.into(),
            PluginLimits::default(),
            weir::plugin::Grants::default(),
        )
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let payload = test_util::encode(&test_util::traces(SPANS, 10));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = PluginEngine::new().unwrap();
    let transform = pool(&engine, "transform", TRANSFORM);
    let attributes_5 = pool(&engine, "attributes", ATTRIBUTES_5);
    let attributes_1 = pool(&engine, "attributes", ATTRIBUTES_1);
    let ctx = CallContext::default();

    // The statements did what they say on every span.
    let out = runtime
        .block_on(transform.process(&ctx, Signal::Traces, payload.clone()))
        .unwrap();
    let request = ExportTraceServiceRequest::decode(out[0].1.as_slice()).unwrap();
    let spans: Vec<_> = request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect();
    assert_eq!(spans.len(), SPANS);
    for span in spans {
        let get = |k: &str| {
            span.attributes
                .iter()
                .find(|kv| kv.key == k)
                .map(|kv| kv.value.clone().unwrap())
        };
        assert_eq!(
            get("service"),
            Some(test_util::kv("s", "bench").value.unwrap())
        );
        assert_eq!(
            get("route"),
            Some(test_util::kv("s", &span.name).value.unwrap())
        );
        assert!(get("attr.9").is_none() && get("org_name").is_some());
    }

    let mut group = c.benchmark_group("transform_vs_attributes_1024_spans");
    group.throughput(Throughput::Elements(SPANS as u64));
    for (name, pool) in [
        ("transform_5_statements", &transform),
        ("attributes_5_actions", &attributes_5),
        ("attributes_1_insert", &attributes_1),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime
                    .block_on(pool.process(&ctx, Signal::Traces, payload.clone()))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
