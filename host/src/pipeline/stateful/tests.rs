//! A stateful stage with the `chaos` test plugin in its stateful mode:
//! instances per tenant, tick and flush per tenant, a trap that loses one
//! tenant's state only.

use std::sync::Arc;

use super::StatefulStage;
use crate::Signal;
use crate::plugin::{CallContext, PluginEngine, PluginLimits};
use crate::telemetry::{ComponentLabels, metrics};
use crate::test_util;

fn stage(pipeline: &str) -> Arc<StatefulStage> {
    let engine = PluginEngine::new().unwrap();
    let bytes = std::fs::read(concat!(env!("WEIR_PLUGIN_DIR"), "/chaos.wasm")).unwrap();
    let component = engine.compile("chaos", &bytes).unwrap();
    let pool = engine
        .processor_pool(
            "chaos",
            "chaos",
            &component,
            r#"{"stateful": true, "release_on_tick": false}"#.into(),
            PluginLimits::default(),
            crate::plugin::Grants::default(),
        )
        .unwrap();
    assert!(pool.is_stateful());
    Arc::new(StatefulStage::new("chaos", Arc::from(pipeline), pool))
}

fn ctx(tenant: &str) -> CallContext {
    CallContext {
        tenant: tenant.into(),
        ..Default::default()
    }
}

fn spans(n: usize) -> Vec<u8> {
    test_util::encode(&test_util::traces(n, 1))
}

fn items(outputs: &[(Signal, Vec<u8>)]) -> usize {
    outputs
        .iter()
        .map(|(signal, payload)| weir_wire::count_items(*signal, payload).unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_tenant_has_its_own_instance_and_a_trap_loses_only_its_state() {
    let stage = stage("traces/stateful-unit");
    for (tenant, n) in [("a", 2), ("b", 3)] {
        let held = stage.process(ctx(tenant), Signal::Traces, spans(n)).await;
        assert_eq!(held.unwrap().len(), 0, "held, nothing returned");
    }
    // Ticks release nothing in this mode; nothing is lost by them.
    assert!(stage.tick(0).await.is_empty());

    // Tenant a's instance traps: its two held spans are gone, b's are not.
    let mut poison = spans(1);
    poison.extend_from_slice(b"weir-chaos:trap");
    assert!(
        stage
            .process(ctx("a"), Signal::Traces, poison)
            .await
            .is_err()
    );
    let lost = metrics()
        .plugin_state_lost
        .get_or_create(&ComponentLabels {
            pipeline: "traces/stateful-unit".into(),
            component: "chaos".into(),
        })
        .get();
    assert_eq!(lost, 1);

    // a starts afresh with its next batch.
    stage
        .process(ctx("a"), Signal::Traces, spans(4))
        .await
        .unwrap();
    let mut flushed: Vec<(String, usize)> = stage
        .flush()
        .await
        .into_iter()
        .map(|(tenant, outputs)| (tenant.to_string(), items(&outputs)))
        .collect();
    flushed.sort();
    assert_eq!(flushed, [("a".to_string(), 4), ("b".to_string(), 3)]);
    // A flushed instance holds nothing more.
    assert!(stage.flush().await.is_empty());
}
