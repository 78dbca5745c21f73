//! Builds running pipelines from a validated [`Config`]: compiles each
//! plugin once, starts an instance pool per configured component (which
//! checks its config), then wires gates, batchers and exporters.
//!
//! `service.pipelines` and each tenant's pipelines are *scopes*: a
//! component used in two scopes gets two pools, two queues and two memory
//! gates (tenants share compiled plugins, never instances or budgets). A
//! tenant's components are labelled `id@tenant` in metrics.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wasmtime::component::Component;

use super::batcher;
use super::chain::{Chain, PluginStage};
use super::connector::{ConnectorRun, ConnectorStage, Receiving, drain_levels};
use super::durable;
use super::exporter::{DeliverySettings, ExporterHandle};
use super::memory::MemoryGate;
use super::pipeline::Pipeline;
use super::router::{Routes, Table, TenantRoutes};
use super::stateful::{StatefulRun, StatefulStage};
use super::tail::Tail;
use crate::auth::Authenticator;
use crate::config::resourcedetection;
use crate::config::tenancy::PluginLimitOverrides;
use crate::config::{
    ComponentId, Config, ConfigError, ConfigErrors, PipelineConfig, PipelineId, ProcessorConfig,
    ReceiverConfig,
};
use crate::plugin::{
    CompiledFrom, ConnectorFactory, Destination as PluginDestination, ExporterPool, LoadError,
    PluginEngine, PluginSource, ProcessorPool, builtin_bytes, sha256_hex,
};
use crate::tenant::{RateLimiter, Tenancy};
use crate::transport::{
    Destination, FileSink, NetworkExporterConfig, NetworkSink, ScrapeConfig, ScrapeEndpoint,
};

/// A compiled plugin, for the start-up (and reload) report.
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    pub name: String,
    pub source: String,
    pub bytes: usize,
    pub compile_ms: u128,
    /// Compiled now, or reused from this process or the disk cache.
    pub from: CompiledFrom,
    pub sha256: String,
}

/// Everything a config needs that can fail, made ready without starting
/// anything: `weir validate` stops here.
pub struct Prepared {
    config: Config,
    processors: HashMap<Scoped, ProcessorPool>,
    exporters: HashMap<Scoped, (ExporterPool, DestinationSpec)>,
    connectors: HashMap<Scoped, ConnectorFactory>,
    auth: HashMap<String, HashMap<&'static str, Authenticator>>,
    pub plugins: Vec<LoadedPlugin>,
}

/// A scope's connectors, and the pipelines each emits into once built.
type Stages = BTreeMap<ComponentId, (Arc<ConnectorStage>, Vec<Receiving>)>;

/// `None` for `service.pipelines`, `Some(tenant)` for a tenant's.
type Scope = Option<String>;
/// A component within a scope.
type Scoped = (Scope, ComponentId);

/// The pipelines of every scope, with the config path they are under and
/// the plugin limits their instances get.
fn scopes(config: &Config) -> Vec<ScopeView<'_>> {
    let mut out = vec![ScopeView {
        scope: None,
        path: "service.pipelines".into(),
        pipelines: &config.pipelines,
        limits: PluginLimitOverrides::default(),
    }];
    for (name, tenant) in &config.tenants {
        out.push(ScopeView {
            scope: Some(name.clone()),
            path: format!("tenants.{name}.pipelines"),
            pipelines: &tenant.pipelines,
            limits: tenant.plugin_limits,
        });
    }
    out
}

struct ScopeView<'c> {
    scope: Scope,
    path: String,
    pipelines: &'c BTreeMap<PipelineId, PipelineConfig>,
    limits: PluginLimitOverrides,
}

/// A component's name in metrics and logs: `id`, or `id@tenant`.
fn label(scope: &Scope, id: &ComponentId) -> String {
    match scope {
        None => id.to_string(),
        Some(tenant) => format!("{id}@{tenant}"),
    }
}

#[derive(Clone)]
enum DestinationSpec {
    Stdout,
    File(PathBuf),
    /// The sink is built while preparing, so TLS files are checked by `weir validate`.
    Network(Arc<NetworkSink>, DeliverySettings),
    /// Bound when started (`weir validate` binds nothing).
    Scrape(ScrapeConfig),
}

/// Running pipelines: the routing table and the tasks to wait for on shutdown.
pub struct Topology {
    pub routes: Routes,
    pub tasks: Tasks,
}

/// Tasks that drain when their inputs close, and the stateful stages and
/// connectors to flush in between, each with its pipeline's drain level
/// (0 unless a connector feeds the pipeline).
pub struct Tasks {
    batchers: Vec<(usize, JoinHandle<()>)>,
    stateful: Vec<(usize, StatefulRun)>,
    connectors: Vec<(usize, ConnectorRun)>,
    exporters: Vec<JoinHandle<()>>,
}

impl Tasks {
    /// Waits until every batch held has been exported (the routes that feed
    /// these tasks must have been dropped first). In order: timers stop;
    /// then level by level (pipelines fed by connectors after the
    /// pipelines feeding them): batchers flush (into the stages after
    /// them), stateful stages flush (their output going on down the same
    /// pipelines), connectors flush into their receiving pipelines and let
    /// go of them; last, exporter queues drain.
    pub async fn drain(mut self) {
        for (_, run) in &mut self.stateful {
            run.stop_ticking().await;
        }
        for (_, run) in &mut self.connectors {
            run.stop_ticking().await;
        }
        let deepest = (self.batchers.iter().map(|(l, _)| *l))
            .chain(self.stateful.iter().map(|(l, _)| *l))
            .chain(self.connectors.iter().map(|(l, _)| *l))
            .max()
            .unwrap_or(0);
        for level in 0..=deepest {
            let at = |l: &usize| *l == level;
            let (now, later): (Vec<_>, Vec<_>) =
                self.batchers.into_iter().partition(|(l, _)| at(l));
            self.batchers = later;
            for (_, task) in now {
                let _ = task.await;
            }
            let (now, later): (Vec<_>, Vec<_>) =
                self.stateful.into_iter().partition(|(l, _)| at(l));
            self.stateful = later;
            for (_, run) in now {
                run.flush().await;
            }
            let (now, later): (Vec<_>, Vec<_>) =
                self.connectors.into_iter().partition(|(l, _)| at(l));
            self.connectors = later;
            for (_, run) in now {
                run.flush().await;
            }
        }
        for task in self.exporters {
            let _ = task.await;
        }
    }
}

/// Compiles plugins and starts instance pools for every component a pipeline uses.
pub fn prepare(config: Config, engine: &PluginEngine) -> Result<Prepared, ConfigErrors> {
    let mut errors = Vec::new();
    let mut error = |path: String, message: String| {
        // A plugin refusing its settings names the setting first
        // (`metric_statements[0].statements[1]: ...`): point at its line.
        let (path, message) = setting_error(path, message);
        errors.push(ConfigError {
            file: config.lines.file_of(&path, &config.file),
            line: config.lines.line_of(&path),
            path,
            message,
        });
    };
    let views = scopes(&config);
    let used =
        |list: fn(&PipelineConfig) -> &Vec<ComponentId>| -> Vec<(Scoped, PluginLimitOverrides)> {
            let mut ids: Vec<(Scoped, PluginLimitOverrides)> = views
                .iter()
                .flat_map(|v| {
                    v.pipelines
                        .values()
                        .flat_map(|p| list(p).iter().cloned())
                        .map(|id| ((v.scope.clone(), id), v.limits))
                })
                .collect();
            ids.sort_by(|a, b| a.0.cmp(&b.0));
            ids.dedup_by(|a, b| a.0 == b.0);
            ids
        };
    let mut compiled: BTreeMap<String, Component> = BTreeMap::new();
    let mut plugins = Vec::new();
    let mut compile = |name: &str, error: &mut dyn FnMut(String, String)| -> Option<Component> {
        if let Some(c) = compiled.get(name) {
            return Some(c.clone());
        }
        let spec = &config.plugins[name];
        let (bytes, source): (std::borrow::Cow<'static, [u8]>, String) = match &spec.source {
            PluginSource::Builtin(b) => (builtin_bytes(b)?.into(), "built-in".into()),
            PluginSource::File(path) => match std::fs::read(path) {
                Ok(bytes) => (bytes.into(), path.display().to_string()),
                Err(e) => {
                    error(
                        format!("plugins.{name}.path"),
                        format!("cannot read {}: {e}", path.display()),
                    );
                    return None;
                }
            },
        };
        if let Some(expected) = &spec.sha256 {
            let actual = sha256_hex(&bytes);
            if &actual != expected {
                let e = LoadError::Digest {
                    name: format!("{name} ({source})"),
                    expected: expected.clone(),
                    actual,
                };
                error(format!("plugins.{name}.sha256"), e.to_string());
                return None;
            }
        }
        let started = Instant::now();
        match engine.compile_cached(name, &bytes) {
            Ok(c) => {
                plugins.push(LoadedPlugin {
                    name: name.to_string(),
                    source,
                    bytes: bytes.len(),
                    compile_ms: started.elapsed().as_millis(),
                    from: c.from,
                    sha256: c.sha256,
                });
                compiled.insert(name.to_string(), c.component.clone());
                Some(c.component)
            }
            Err(e) => {
                error(format!("plugins.{name}"), e.to_string());
                None
            }
        }
    };

    let mut processors = HashMap::new();
    for ((scope, id), overrides) in used(|p| &p.processors) {
        let Some((
            ProcessorConfig::Plugin {
                plugin,
                config: block,
            },
            at,
        )) = config.processor_in(scope.as_deref(), &id)
        else {
            continue;
        };
        let Some(component) = compile(plugin, &mut error) else {
            continue;
        };
        let limits = overrides.apply(config.plugins[plugin].limits);
        // Plugins cannot read the environment or the host name: the host
        // detects here (on every load and reload) and hands the result on.
        let block = if plugin == "resourcedetection" {
            match resourcedetection::resolve(block, &resourcedetection::ThisMachine) {
                Ok(resolved) => resolved,
                Err(message) => {
                    error(format!("processors.{id}"), message);
                    continue;
                }
            }
        } else {
            block.clone()
        };
        match engine.processor_pool(
            plugin,
            &label(&scope, &id),
            &component,
            block.to_string(),
            limits,
            config.plugins[plugin].grants.clone(),
        ) {
            Ok(pool) => {
                processors.insert((scope, id), pool);
            }
            Err(e) => error(at, e.to_string()),
        }
    }

    let mut exporters = HashMap::new();
    for ((scope, id), overrides) in used(|p| &p.exporters) {
        let Some((exporter, at)) = config.exporter_in(scope.as_deref(), &id) else {
            continue; // Refused at load: the pipeline names no such exporter.
        };
        let Some(component) = compile(&exporter.plugin, &mut error) else {
            continue;
        };
        let limits = overrides.apply(config.plugins[&exporter.plugin].limits);
        let pool = match engine.exporter_pool(
            &exporter.plugin,
            &label(&scope, &id),
            &component,
            exporter.config.to_string(),
            limits,
            config.plugins[&exporter.plugin].grants.clone(),
        ) {
            Ok(pool) => pool,
            Err(e) => {
                error(at, e.to_string());
                continue;
            }
        };
        let destination = match pool.info().destination {
            PluginDestination::Stdout => DestinationSpec::Stdout,
            PluginDestination::File => match exporter.config.get("path").and_then(|p| p.as_str()) {
                Some(path) if !path.is_empty() => DestinationSpec::File(PathBuf::from(path)),
                _ => {
                    error(
                        format!("{at}.path"),
                        "expected the path of the file to write".into(),
                    );
                    continue;
                }
            },
            PluginDestination::Network => {
                let sink = NetworkExporterConfig::from_block(&exporter.config).and_then(|c| {
                    let sink = NetworkSink::new(&c).map_err(|e| e.to_string())?;
                    let settings = DeliverySettings {
                        storage: durable::resolve(&c.sending_queue, &config)?,
                        queue: c.sending_queue,
                        retry: c.retry_on_failure,
                    };
                    Ok((sink, settings))
                });
                match sink {
                    Ok((sink, settings)) => DestinationSpec::Network(Arc::new(sink), settings),
                    Err(message) => {
                        error(at, message);
                        continue;
                    }
                }
            }
            PluginDestination::Scrape => match ScrapeConfig::from_block(&exporter.config) {
                Ok(config) => DestinationSpec::Scrape(config),
                Err(message) => {
                    error(format!("exporters.{id}"), message);
                    continue;
                }
            },
        };
        exporters.insert((scope, id), (pool, destination));
    }

    let mut connectors = HashMap::new();
    let connector_ids = |p: &PipelineConfig| -> Vec<ComponentId> {
        p.to_connectors
            .iter()
            .chain(&p.from_connectors)
            .map(|c| c.id.clone())
            .collect()
    };
    let mut wanted: Vec<(Scoped, PluginLimitOverrides)> = views
        .iter()
        .flat_map(|v| {
            v.pipelines
                .values()
                .flat_map(connector_ids)
                .map(|id| ((v.scope.clone(), id), v.limits))
        })
        .collect();
    wanted.sort_by(|a, b| a.0.cmp(&b.0));
    wanted.dedup_by(|a, b| a.0 == b.0);
    for ((scope, id), overrides) in wanted {
        let connector = &config.connectors[&id];
        let Some(component) = compile(&connector.plugin, &mut error) else {
            continue;
        };
        let limits = overrides.apply(config.plugins[&connector.plugin].limits);
        match engine.connector_factory(
            &connector.plugin,
            &label(&scope, &id),
            &component,
            connector.config.to_string(),
            limits,
            config.plugins[&connector.plugin].grants.clone(),
        ) {
            Ok(factory) => {
                connectors.insert((scope, id), factory);
            }
            Err(e) => error(format!("connectors.{id}"), e.to_string()),
        }
    }

    for view in &views {
        for (pipeline_id, pipeline) in view.pipelines {
            let signal = pipeline_id.signal;
            for (side, uses, wants) in [
                ("exporters", &pipeline.to_connectors, "consume"),
                ("receivers", &pipeline.from_connectors, "emit"),
            ] {
                for c in uses {
                    let Some(factory) = connectors.get(&(view.scope.clone(), c.id.clone())) else {
                        continue;
                    };
                    let info = factory.info();
                    let can = if side == "exporters" {
                        info.consumes
                    } else {
                        info.emits
                    };
                    if !signals_contain(can, signal) {
                        error(
                            format!("{}.{pipeline_id}.{side}[{}]", view.path, c.index),
                            format!(
                                "connector `{}` does not {wants} {signal}; it can {wants} {}",
                                c.id,
                                signal_names(can)
                            ),
                        );
                    }
                }
            }
            for (i, id) in pipeline.exporters.iter().enumerate() {
                if let Some((pool, _)) = exporters.get(&(view.scope.clone(), id.clone()))
                    && !signals_contain(pool.info().signals, pipeline_id.signal)
                {
                    error(
                        format!("{}.{pipeline_id}.exporters[{i}]", view.path),
                        format!("exporter `{id}` does not handle {}", pipeline_id.signal),
                    );
                }
            }
        }
    }

    // Authenticators read their files here, so a bad htpasswd refuses the config.
    let mut auth: HashMap<String, HashMap<&'static str, Authenticator>> = HashMap::new();
    // Each extension is built once (its files read once, a bad one reported
    // once), whichever protocols name it.
    let mut built: HashMap<&str, Option<Authenticator>> = HashMap::new();
    for (id, receiver) in &config.receivers {
        let ReceiverConfig::Otlp(otlp) = receiver else {
            continue; // Native receivers take no requests to authenticate.
        };
        let protocols = [
            (
                "grpc",
                otlp.protocols.grpc.as_ref().and_then(|g| g.auth.as_ref()),
            ),
            (
                "http",
                otlp.protocols.http.as_ref().and_then(|h| h.auth.as_ref()),
            ),
        ];
        for (transport, settings) in protocols {
            let Some(settings) = settings else { continue };
            let Some(extension) = ComponentId::parse(&settings.authenticator)
                .ok()
                .and_then(|ext| config.extensions.get(&ext))
            else {
                continue;
            };
            let name = settings.authenticator.as_str();
            let authenticator = built.entry(name).or_insert_with(|| {
                // `Ok(None)` was refused at load (`check_auth_references`): not an authenticator.
                Authenticator::build(extension).unwrap_or_else(|e| {
                    error(format!("extensions.{name}"), e.to_string());
                    None
                })
            });
            if let Some(a) = authenticator {
                auth.entry(id.to_string())
                    .or_default()
                    .insert(transport, a.clone());
            }
        }
    }
    drop(views);

    if errors.is_empty() {
        Ok(Prepared {
            config,
            processors,
            exporters,
            connectors,
            auth,
            plugins,
        })
    } else {
        Err(ConfigErrors(errors))
    }
}

/// `traces, metrics` for the signals in a set (`nothing` when empty).
fn signal_names(signals: crate::plugin::Signals) -> String {
    let names: Vec<&str> = [
        crate::Signal::Traces,
        crate::Signal::Metrics,
        crate::Signal::Logs,
    ]
    .into_iter()
    .filter(|s| signals_contain(signals, *s))
    .map(|s| s.as_str())
    .collect();
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(", ")
    }
}

pub(super) fn signals_contain(signals: crate::plugin::Signals, signal: crate::Signal) -> bool {
    use crate::plugin::Signals;
    signals.contains(match signal {
        crate::Signal::Traces => Signals::TRACES,
        crate::Signal::Metrics => Signals::METRICS,
        crate::Signal::Logs => Signals::LOGS,
    })
}

/// Starts exporters, batchers and pipelines (must run inside tokio).
pub fn start(prepared: Prepared) -> Result<Topology, ConfigErrors> {
    let Prepared {
        config,
        processors,
        exporters,
        mut connectors,
        auth,
        ..
    } = prepared;
    let environment: Arc<str> = Arc::from(config.environment.as_str());
    let mut errors = Vec::new();

    let mut exporter_handles = HashMap::new();
    let mut exporter_tasks = Vec::new();
    for ((scope, id), (pool, spec)) in exporters {
        let (destination, settings) = match spec {
            DestinationSpec::Stdout => (Destination::Stdout, DeliverySettings::local()),
            DestinationSpec::Network(sink, settings) => (Destination::Network(sink), settings),
            DestinationSpec::Scrape(scrape) => match ScrapeEndpoint::shared(&scrape) {
                Ok(endpoint) => (Destination::Scrape(endpoint), DeliverySettings::local()),
                Err(e) => {
                    errors.push(ConfigError {
                        file: config.file.clone(),
                        path: format!("exporters.{id}.endpoint"),
                        line: None,
                        message: e.to_string(),
                    });
                    continue;
                }
            },
            DestinationSpec::File(path) => match FileSink::shared(&path) {
                Ok(sink) => (Destination::File(sink), DeliverySettings::local()),
                Err(e) => {
                    let at = config
                        .exporter_in(scope.as_deref(), &id)
                        .map_or_else(|| format!("exporters.{id}"), |(_, at)| at);
                    errors.push(ConfigError {
                        file: config.file.clone(),
                        path: format!("{at}.path"),
                        line: None,
                        message: e.to_string(),
                    });
                    continue;
                }
            },
        };
        let (handle, task) = match ExporterHandle::start(
            &label(&scope, &id),
            pool,
            destination,
            settings,
            environment.clone(),
        ) {
            Ok(started) => started,
            Err(e) => {
                errors.push(ConfigError {
                    file: config.file.clone(),
                    path: format!("exporters.{id}.sending_queue.storage"),
                    line: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        exporter_handles.insert((scope, id), handle);
        exporter_tasks.push(task);
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }

    let mut gates: HashMap<Scoped, Arc<MemoryGate>> = HashMap::new();
    let mut routes = Routes {
        auth,
        tenancy: Tenancy::new(
            &config.tenancy,
            (!config.tenants.is_empty()).then(|| config.tenants.keys().cloned().collect()),
        ),
        ..Routes::default()
    };
    let mut batchers = Vec::new();
    let mut stateful = Vec::new();
    let mut connector_runs = Vec::new();
    for view in scopes(&config) {
        let mut table = Table::new();
        // This scope's connectors, and the pipelines they emit into once built.
        let mut stages = Stages::new();
        let levels = drain_levels(view.pipelines);
        for (pipeline_id, pipeline) in view.pipelines {
            let level = levels.get(pipeline_id).copied().unwrap_or(0);
            let mut stage_of = |stages: &mut Stages, id: &ComponentId| {
                if !stages.contains_key(id) {
                    let factory = connectors.remove(&(view.scope.clone(), id.clone()))?;
                    let stage =
                        ConnectorStage::new(&label(&view.scope, id), factory, environment.clone());
                    stages.insert(id.clone(), (Arc::new(stage), Vec::new()));
                }
                Some(stages[id].0.clone())
            };
            let feeds: Vec<Arc<ConnectorStage>> = pipeline
                .to_connectors
                .iter()
                .filter_map(|c| stage_of(&mut stages, &c.id))
                .collect();
            let name: Arc<str> = Arc::from(pipeline_id.to_string());
            let scoped = |id: &ComponentId| (view.scope.clone(), id.clone());
            let mut gate = None;
            let mut head = Vec::new();
            let mut tail = Vec::new();
            let mut batch_config = None;
            for id in &pipeline.processors {
                let Some((processor, _)) = config.processor_in(view.scope.as_deref(), id) else {
                    continue; // Refused at load: the pipeline names no such processor.
                };
                match processor {
                    ProcessorConfig::MemoryLimiter(c) => {
                        gate = Some(
                            gates
                                .entry(scoped(id))
                                .or_insert_with(|| MemoryGate::new(&label(&view.scope, id), c))
                                .clone(),
                        );
                    }
                    ProcessorConfig::Batch(c) => batch_config = Some(c.clone()),
                    ProcessorConfig::Plugin { .. } => {
                        let pool = processors[&scoped(id)].clone();
                        // A stateful plugin gets instances of its own per
                        // tenant, not the pool's.
                        let stateful = pool.is_stateful().then(|| {
                            Arc::new(StatefulStage::new(
                                &label(&view.scope, id),
                                name.clone(),
                                pool.clone(),
                            ))
                        });
                        let stage = PluginStage {
                            id: label(&view.scope, id),
                            pool,
                            stateful,
                        };
                        if batch_config.is_some() {
                            tail.push(stage)
                        } else {
                            head.push(stage)
                        }
                    }
                }
            }
            let chain = |stages| Chain {
                pipeline: name.clone(),
                environment: environment.clone(),
                stages,
                error_mode: pipeline.error_mode,
            };
            let tail = Arc::new(Tail {
                chain: chain(tail),
                exporters: pipeline
                    .exporters
                    .iter()
                    .map(|id| exporter_handles[&scoped(id)].clone())
                    .collect(),
                connectors: feeds,
            });
            let batcher = batch_config.map(|c| {
                let (tx, rx) = mpsc::channel(1024);
                batchers.push((
                    level,
                    tokio::spawn(batcher::run(c, name.clone(), rx, tail.clone())),
                ));
                tx
            });
            let running = Arc::new(Pipeline {
                id: name.clone(),
                gate,
                head: chain(head),
                batcher,
                tail,
            });
            let tick_interval = running
                .head
                .stateful_stages()
                .iter()
                .chain(&running.tail.chain.stateful_stages())
                .map(|(_, stage)| stage.tick_interval())
                .min();
            if let Some(interval) = tick_interval {
                stateful.push((level, StatefulRun::start(&running, interval)));
            }
            for c in &pipeline.from_connectors {
                if stage_of(&mut stages, &c.id).is_some() {
                    let (_, receiving) = stages.get_mut(&c.id).expect("made above");
                    receiving.push(Receiving {
                        id: pipeline_id.to_string(),
                        signal: pipeline_id.signal,
                        pipeline: running.clone(),
                    });
                }
            }
            for receiver in &pipeline.receivers {
                table
                    .entry((receiver.to_string(), pipeline_id.signal))
                    .or_default()
                    .push(running.clone());
            }
        }
        // A connector drains after the deepest pipeline feeding it.
        for (id, (stage, receiving)) in stages {
            let level = view
                .pipelines
                .iter()
                .filter(|(_, p)| p.to_connectors.iter().any(|c| c.id == id))
                .filter_map(|(pid, _)| levels.get(pid).copied())
                .max()
                .unwrap_or(0);
            stage.connect(receiving);
            connector_runs.push((level, ConnectorRun::start(stage)));
        }
        match view.scope {
            None => routes.table = table,
            Some(name) => {
                let tenant = &config.tenants[&name];
                let own = TenantRoutes {
                    table,
                    limiter: tenant.rate_limit.as_ref().map(RateLimiter::new),
                    gate: tenant
                        .memory_limit_mib
                        .map(|mib| MemoryGate::for_tenant(&name, mib)),
                };
                routes.tenants.insert(Arc::from(name.as_str()), own);
            }
        }
    }
    Ok(Topology {
        routes,
        tasks: Tasks {
            batchers,
            stateful,
            connectors: connector_runs,
            exporters: exporter_tasks,
        },
    })
}

/// Splits a plugin's `invalid-config` message that starts with the key path
/// of the setting at fault (`actions[0].key: ...`) into a longer config
/// path and the rest; other messages stay as they are.
fn setting_error(path: String, message: String) -> (String, String) {
    let Some((setting, rest)) = message.split_once(": ") else {
        return (path, message);
    };
    let is_key_path = !setting.is_empty()
        && setting.starts_with(|c: char| c.is_ascii_alphabetic())
        && setting
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-' | '/'));
    let component = path.starts_with("processors.")
        || path.starts_with("exporters.")
        || (path.starts_with("tenants.")
            && (path.contains(".processors.") || path.contains(".exporters.")));
    if is_key_path && component {
        (format!("{path}.{setting}"), rest.to_owned())
    } else {
        (path, message)
    }
}

#[cfg(test)]
mod tests {
    use super::setting_error;

    #[test]
    fn a_plugin_setting_error_extends_the_config_path() {
        let (path, message) = setting_error(
            "processors.transform".into(),
            "metric_statements[0].statements[1]: statement `x`: column 1: unknown path".into(),
        );
        assert_eq!(
            path,
            "processors.transform.metric_statements[0].statements[1]"
        );
        assert_eq!(message, "statement `x`: column 1: unknown path");
        let (path, message) = setting_error(
            "processors.transform".into(),
            "config is not valid JSON: EOF".into(),
        );
        assert_eq!(
            (path.as_str(), message.as_str()),
            ("processors.transform", "config is not valid JSON: EOF")
        );
        let (path, _) = setting_error("plugins.stamp".into(), "color: unknown".into());
        assert_eq!(path, "plugins.stamp");
    }
}
