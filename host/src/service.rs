//! The running collector: builds pipelines from a config, starts receivers
//! and the telemetry endpoint, and shuts down in order on SIGINT/SIGTERM
//! (stop accepting, flush batches, drain exporter queues).

use std::time::Duration;

use tokio::sync::watch;

use crate::config::{Config, ConfigErrors, ReceiverConfig};
use crate::pipeline::{self, Prepared, Router, Routes};
use crate::plugin::PluginEngine;

/// How long shutdown waits for pipelines to drain before giving up.
const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// Why the collector could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid configuration:\n{0}")]
    Config(#[from] ConfigErrors),
    #[error("{0}")]
    Plugin(#[from] crate::plugin::LoadError),
    #[error("receiver {id}: {reason}")]
    Receiver { id: String, reason: String },
    #[error("telemetry endpoint {address}: {source}")]
    Telemetry {
        address: String,
        source: std::io::Error,
    },
}

/// Checks a config the way `run` would use it, starting nothing: every
/// plugin is compiled and configured (its `init` sees its settings).
pub fn validate(config: Config) -> Result<Prepared, ConfigErrors> {
    let engine = PluginEngine::new().map_err(|e| {
        ConfigErrors(vec![crate::config::ConfigError {
            file: config.file.clone(),
            path: String::new(),
            line: None,
            message: e.to_string(),
        }])
    })?;
    pipeline::prepare(config, &engine)
}

/// Runs the collector until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), ServiceError> {
    let engine = PluginEngine::new()?;
    let receivers = config.receivers.clone();
    let used_receivers: std::collections::BTreeSet<_> = config
        .pipelines
        .values()
        .flat_map(|p| p.receivers.iter().cloned())
        .collect();
    let telemetry_address = config.telemetry.metrics_address.clone();
    let source = config.file.display().to_string();

    let prepared = tokio::task::block_in_place(|| pipeline::prepare(config, &engine))?;
    for plugin in &prepared.plugins {
        tracing::info!(
            plugin = plugin.name,
            source = plugin.source,
            size_kb = plugin.bytes / 1024,
            compile_ms = plugin.compile_ms as u64,
            "loaded plugin"
        );
    }
    let topology = pipeline::start(prepared)?;
    let router = Router::default();
    router.swap(topology.routes);

    let (stop, stopped) = watch::channel(false);
    let mut running = Vec::new();
    for id in used_receivers {
        let ReceiverConfig::Otlp(otlp) = &receivers[&id];
        let name = id.to_string();
        let mut on_stop = stopped.clone();
        let shutdown = async move {
            let _ = on_stop.wait_for(|stop| *stop).await;
        };
        let receiver = crate::receiver::start(&name, otlp, router.for_receiver(&name), shutdown)
            .await
            .map_err(|e| ServiceError::Receiver {
                id: name.clone(),
                reason: e.to_string(),
            })?;
        if let Some(addr) = receiver.grpc_addr {
            tracing::info!(receiver = name, transport = "grpc", address = %addr, "listening");
        }
        if let Some(addr) = receiver.http_addr {
            tracing::info!(receiver = name, transport = "http", address = %addr, "listening");
        }
        running.push(receiver);
    }
    if let Some(address) = telemetry_address {
        let bound = crate::telemetry::server::start(&address, stopped.clone())
            .await
            .map_err(|source| ServiceError::Telemetry {
                address: address.clone(),
                source,
            })?;
        tracing::info!(transport = "telemetry", address = %bound, "listening");
    }
    tracing::info!(config = source, "ready");

    wait_for_signal().await;
    tracing::info!("shutting down: no new requests; flushing batches and exporter queues");
    let _ = stop.send(true);
    for receiver in running {
        if tokio::time::timeout(DRAIN_DEADLINE, receiver.wait())
            .await
            .is_err()
        {
            tracing::warn!("a client kept its connection open past {DRAIN_DEADLINE:?}; closing");
        }
    }
    drop(router.swap(Routes::default()));
    drop(router);
    if tokio::time::timeout(DRAIN_DEADLINE, topology.tasks.drain())
        .await
        .is_err()
    {
        tracing::error!(
            "pipelines did not drain within {DRAIN_DEADLINE:?}; exiting with data still held"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("cannot listen for SIGTERM");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
