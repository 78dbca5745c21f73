//! The collector's moving parts and how a reload swaps them: the new config
//! is parsed, validated, its certificates read and its plugins compiled (the
//! unchanged ones come from the cache) off to the side; only then are the
//! new pipelines swapped into the router. The old pipelines stop taking new
//! batches, flush and drain in the background. Receivers whose settings did
//! not change keep their listeners.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::receivers::Receivers;
use super::{ConfigSource, ReloadRequest, ServiceError};
use crate::config::{ComponentId, Config, ExtensionConfig, ReceiverConfig};
use crate::pipeline::{self, LoadedPlugin, Router, Routes, Tasks};
use crate::plugin::{PluginEngine, PluginSource};
use crate::telemetry::health::{self, Health};
use crate::telemetry::{ConfigLabels, metrics};

/// A running collector.
pub struct Collector {
    engine: PluginEngine,
    source: ConfigSource,
    config: Config,
    hash: String,
    router: Router,
    receivers: Receivers,
    tasks: Option<Tasks>,
    /// Pipelines replaced by a reload, flushing what they hold.
    draining: JoinSet<()>,
    stop_telemetry: watch::Sender<bool>,
    /// What the `health_check` extension answers.
    health: std::sync::Arc<Health>,
}

impl Collector {
    /// Builds the pipelines, starts receivers and the telemetry endpoint
    /// (whose `POST /reload` sends to `reloads`).
    pub async fn start(
        source: ConfigSource,
        config: Config,
        hash: String,
        reloads: mpsc::Sender<ReloadRequest>,
    ) -> Result<Self, ServiceError> {
        let engine = PluginEngine::new()?;
        let prepared = tokio::task::block_in_place(|| pipeline::prepare(config.clone(), &engine))?;
        log_plugins(&prepared.plugins);
        let topology = pipeline::start(prepared)?;
        let router = Router::default();
        router.swap(topology.routes);
        let mut receivers = Receivers::default();
        receivers.apply(&wanted_receivers(&config), &router).await?;

        let (stop_telemetry, stopped) = watch::channel(false);
        if let Some(address) = &config.telemetry.metrics_address {
            let bound = crate::telemetry::server::start(address, stopped, Some(reloads))
                .await
                .map_err(|reason| ServiceError::Telemetry {
                    address: address.clone(),
                    reason,
                })?;
            tracing::info!(transport = "telemetry", address = %bound, "listening");
        }
        let health = Health::new();
        for (id, extension) in config.enabled_extensions() {
            if let ExtensionConfig::HealthCheck(check) = extension {
                let bound = health::start(check, health.clone(), stop_telemetry.subscribe())
                    .await
                    .map_err(|reason| ServiceError::Telemetry {
                        address: format!("{} ({id})", check.endpoint),
                        reason,
                    })?;
                tracing::info!(extension = %id, transport = "health", address = %bound, "listening");
            }
        }
        health.set_ready(true);
        metrics()
            .config_info
            .get_or_create(&ConfigLabels { hash: hash.clone() })
            .set(1);
        Ok(Collector {
            engine,
            source,
            config,
            hash,
            router,
            receivers,
            tasks: Some(topology.tasks),
            draining: JoinSet::new(),
            stop_telemetry,
            health,
        })
    }

    pub fn source(&self) -> &ConfigSource {
        &self.source
    }

    /// Loads the config again and swaps it in, or keeps the running one and
    /// says why. Counted either way.
    pub async fn reload(&mut self, reason: &str) -> Result<String, String> {
        let started = Instant::now();
        match self.swap().await {
            Ok(()) => {
                metrics().config_reload_success.inc();
                let ms = started.elapsed().as_millis() as u64;
                tracing::info!(reason, config = %self.source, hash = self.hash, reload_ms = ms, "configuration reloaded");
                Ok(format!(
                    "reloaded {} in {ms} ms (config {})",
                    self.source, self.hash
                ))
            }
            Err(e) => {
                metrics().config_reload_failures.inc();
                tracing::error!(reason, config = %self.source, "reload refused, the running configuration stays:\n{e}");
                Err(e)
            }
        }
    }

    async fn swap(&mut self) -> Result<(), String> {
        let (config, hash) = self.source.load().map_err(|e| e.to_string())?;
        let wanted = wanted_receivers(&config);
        // Everything that can fail is checked before anything is swapped.
        for (id, receiver) in &wanted {
            if let ReceiverConfig::Otlp(otlp) = receiver {
                crate::receiver::check_tls(&id.to_string(), otlp).map_err(|e| e.to_string())?;
            }
        }
        let prepared =
            tokio::task::block_in_place(|| pipeline::prepare(config.clone(), &self.engine))
                .map_err(|e| e.to_string())?;
        log_plugins(&prepared.plugins);
        let topology = pipeline::start(prepared).map_err(|e| e.to_string())?;

        let old_routes = self.router.swap(topology.routes);
        let old_tasks = self.tasks.replace(topology.tasks);
        self.draining
            .spawn(drain(old_routes, old_tasks, self.config.shutdown_timeout));
        self.receivers
            .apply(&wanted, &self.router)
            .await
            .map_err(|e| e.to_string())?;

        if hash != self.hash {
            metrics().config_info.remove(&ConfigLabels {
                hash: self.hash.clone(),
            });
            metrics()
                .config_info
                .get_or_create(&ConfigLabels { hash: hash.clone() })
                .set(1);
        }
        self.config = config;
        self.hash = hash;
        Ok(())
    }

    /// Files whose change should reload: the config, the plugins it names
    /// and the receivers' TLS files.
    pub fn watched_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self.source.files();
        for spec in self.config.plugins.values() {
            if let PluginSource::File(path) = &spec.source {
                paths.push(path.clone());
            }
        }
        for receiver in wanted_receivers(&self.config).values() {
            let ReceiverConfig::Otlp(otlp) = receiver else {
                continue;
            };
            let protocols = &otlp.protocols;
            let tls = [
                protocols.grpc.as_ref().and_then(|g| g.tls.as_ref()),
                protocols.http.as_ref().and_then(|h| h.tls.as_ref()),
            ];
            for tls in tls.into_iter().flatten() {
                paths.push(tls.cert_file.clone());
                paths.push(tls.key_file.clone());
                paths.extend(tls.client_ca_file.clone());
            }
        }
        // Authenticators' files: a changed htpasswd or token file takes effect without a restart.
        for extension in self.config.extensions.values() {
            match extension {
                ExtensionConfig::BasicAuth(c) => paths.extend(c.htpasswd.file.clone()),
                ExtensionConfig::BearerTokenAuth(c) => paths.extend(c.filename.clone()),
                ExtensionConfig::HealthCheck(_) | ExtensionConfig::FileStorage(_) => {}
            }
        }
        paths.sort();
        paths.dedup();
        paths
    }

    /// Stops accepting, then flushes and drains every pipeline (bounded by
    /// `service.shutdown_timeout`; persistent queues keep what is left).
    pub async fn shutdown(mut self) {
        let deadline = self.config.shutdown_timeout;
        tracing::info!(
            timeout = ?deadline,
            "shutting down: no new requests; flushing batches and exporter queues"
        );
        self.health.set_ready(false);
        self.receivers.stop_all().await;
        let routes = self.router.swap(Routes::default());
        self.draining
            .spawn(drain(routes, self.tasks.take(), deadline));
        while self.draining.join_next().await.is_some() {}
        let _ = self.stop_telemetry.send(true);
        tracing::info!("stopped");
    }
}

/// Lets the pipelines of a replaced routing table finish: once the last
/// in-flight request drops the table, batchers flush and exporters drain.
async fn drain(routes: std::sync::Arc<Routes>, tasks: Option<Tasks>, deadline: Duration) {
    drop(routes);
    if let Some(tasks) = tasks
        && tokio::time::timeout(deadline, tasks.drain()).await.is_err()
    {
        tracing::error!(
            "pipelines did not drain within {deadline:?}; what in-memory queues held is lost \
             (persistent queues keep theirs for the next start)"
        );
    }
}

/// The receivers some pipeline (of the service or a tenant) uses, with their settings.
fn wanted_receivers(config: &Config) -> BTreeMap<ComponentId, ReceiverConfig> {
    config
        .pipelines
        .values()
        .chain(config.tenants.values().flat_map(|t| t.pipelines.values()))
        .flat_map(|p| p.receivers.iter())
        .map(|id| (id.clone(), config.receivers[id].clone()))
        .collect()
}

fn log_plugins(plugins: &[LoadedPlugin]) {
    for plugin in plugins {
        tracing::info!(
            plugin = plugin.name,
            source = plugin.source,
            size_kb = plugin.bytes / 1024,
            compile_ms = plugin.compile_ms as u64,
            from = plugin.from.as_str(),
            sha256 = &plugin.sha256[..16],
            "loaded plugin"
        );
    }
}
