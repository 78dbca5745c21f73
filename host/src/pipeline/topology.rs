//! Builds running pipelines from a validated [`Config`]: compiles each
//! plugin once, starts an instance pool per configured component (which
//! checks its config), then wires gates, batchers and exporters.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wasmtime::component::Component;

use super::batcher;
use super::chain::{Chain, PluginStage};
use super::exporter::{DeliverySettings, ExporterHandle};
use super::memory::MemoryGate;
use super::pipeline::Pipeline;
use super::router::Routes;
use super::tail::Tail;
use crate::config::{ComponentId, Config, ConfigError, ConfigErrors, ProcessorConfig};
use crate::plugin::{
    Destination as PluginDestination, ExporterPool, PluginEngine, PluginSource, ProcessorPool,
    builtin_bytes,
};
use crate::transport::{Destination, FileSink, NetworkExporterConfig, NetworkSink};

/// A compiled plugin, for the start-up (and reload) report.
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    pub name: String,
    pub source: String,
    pub bytes: usize,
    pub compile_ms: u128,
    /// Reused from an earlier load of the same bytes.
    pub cached: bool,
    pub sha256: String,
}

/// Everything a config needs that can fail, made ready without starting
/// anything: `weir validate` stops here.
pub struct Prepared {
    config: Config,
    processors: HashMap<ComponentId, ProcessorPool>,
    exporters: HashMap<ComponentId, (ExporterPool, DestinationSpec)>,
    pub plugins: Vec<LoadedPlugin>,
}

#[derive(Clone)]
enum DestinationSpec {
    Stdout,
    File(PathBuf),
    /// The sink is built while preparing, so TLS files are checked by `weir validate`.
    Network(Arc<NetworkSink>, DeliverySettings),
}

/// Running pipelines: the routing table and the tasks to wait for on shutdown.
pub struct Topology {
    pub routes: Routes,
    pub tasks: Tasks,
}

/// Tasks that drain when their inputs close: batchers first, then exporters.
pub struct Tasks {
    batchers: Vec<JoinHandle<()>>,
    exporters: Vec<JoinHandle<()>>,
}

impl Tasks {
    /// Waits until every batch held has been exported (the routes that feed
    /// these tasks must have been dropped first).
    pub async fn drain(self) {
        for task in self.batchers {
            let _ = task.await;
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
        errors.push(ConfigError {
            file: config.file.clone(),
            path,
            line: None,
            message,
        });
    };
    let used = |list: fn(&crate::config::PipelineConfig) -> &Vec<ComponentId>| -> Vec<ComponentId> {
        let mut ids: Vec<ComponentId> = config
            .pipelines
            .values()
            .flat_map(|p| list(p).iter().cloned())
            .collect();
        ids.sort();
        ids.dedup();
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
        let started = Instant::now();
        match engine.compile_cached(name, &bytes) {
            Ok(c) => {
                plugins.push(LoadedPlugin {
                    name: name.to_string(),
                    source,
                    bytes: bytes.len(),
                    compile_ms: started.elapsed().as_millis(),
                    cached: c.cached,
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
    for id in used(|p| &p.processors) {
        let Some(ProcessorConfig::Plugin {
            plugin,
            config: block,
        }) = config.processors.get(&id)
        else {
            continue;
        };
        let Some(component) = compile(plugin, &mut error) else {
            continue;
        };
        let limits = config.plugins[plugin].limits;
        match engine.processor_pool(
            plugin,
            &id.to_string(),
            &component,
            block.to_string(),
            limits,
        ) {
            Ok(pool) => {
                processors.insert(id, pool);
            }
            Err(e) => error(format!("processors.{id}"), e.to_string()),
        }
    }

    let mut exporters = HashMap::new();
    for id in used(|p| &p.exporters) {
        let exporter = &config.exporters[&id];
        let Some(component) = compile(&exporter.plugin, &mut error) else {
            continue;
        };
        let limits = config.plugins[&exporter.plugin].limits;
        let pool = match engine.exporter_pool(
            &exporter.plugin,
            &id.to_string(),
            &component,
            exporter.config.to_string(),
            limits,
        ) {
            Ok(pool) => pool,
            Err(e) => {
                error(format!("exporters.{id}"), e.to_string());
                continue;
            }
        };
        let destination = match pool.info().destination {
            PluginDestination::Stdout => DestinationSpec::Stdout,
            PluginDestination::File => match exporter.config.get("path").and_then(|p| p.as_str()) {
                Some(path) if !path.is_empty() => DestinationSpec::File(PathBuf::from(path)),
                _ => {
                    error(
                        format!("exporters.{id}.path"),
                        "expected the path of the file to write".into(),
                    );
                    continue;
                }
            },
            PluginDestination::Network => {
                let sink = NetworkExporterConfig::from_block(&exporter.config).and_then(|c| {
                    let sink = NetworkSink::new(&c).map_err(|e| e.to_string())?;
                    let settings = DeliverySettings {
                        queue: c.sending_queue,
                        retry: c.retry_on_failure,
                    };
                    Ok((sink, settings))
                });
                match sink {
                    Ok((sink, settings)) => DestinationSpec::Network(Arc::new(sink), settings),
                    Err(message) => {
                        error(format!("exporters.{id}"), message);
                        continue;
                    }
                }
            }
        };
        exporters.insert(id, (pool, destination));
    }

    for (pipeline_id, pipeline) in &config.pipelines {
        for (i, id) in pipeline.exporters.iter().enumerate() {
            if let Some((pool, _)) = exporters.get(id)
                && !signals_contain(pool.info().signals, pipeline_id.signal)
            {
                error(
                    format!("service.pipelines.{pipeline_id}.exporters[{i}]"),
                    format!("exporter `{id}` does not handle {}", pipeline_id.signal),
                );
            }
        }
    }

    if errors.is_empty() {
        Ok(Prepared {
            config,
            processors,
            exporters,
            plugins,
        })
    } else {
        Err(ConfigErrors(errors))
    }
}

fn signals_contain(signals: crate::plugin::Signals, signal: crate::Signal) -> bool {
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
        ..
    } = prepared;
    let environment: Arc<str> = Arc::from(config.environment.as_str());
    let mut errors = Vec::new();

    let mut exporter_handles = HashMap::new();
    let mut exporter_tasks = Vec::new();
    for (id, (pool, spec)) in exporters {
        let (destination, settings) = match spec {
            DestinationSpec::Stdout => (Destination::Stdout, DeliverySettings::local()),
            DestinationSpec::Network(sink, settings) => (Destination::Network(sink), settings),
            DestinationSpec::File(path) => match FileSink::shared(&path) {
                Ok(sink) => (Destination::File(sink), DeliverySettings::local()),
                Err(e) => {
                    errors.push(ConfigError {
                        file: config.file.clone(),
                        path: format!("exporters.{id}.path"),
                        line: None,
                        message: e.to_string(),
                    });
                    continue;
                }
            },
        };
        let (handle, task) = ExporterHandle::start(
            &id.to_string(),
            pool,
            destination,
            settings,
            environment.clone(),
        );
        exporter_handles.insert(id, handle);
        exporter_tasks.push(task);
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }

    let mut gates: HashMap<ComponentId, Arc<MemoryGate>> = HashMap::new();
    let mut routes = Routes::default();
    let mut batchers = Vec::new();
    for (pipeline_id, pipeline) in &config.pipelines {
        let name: Arc<str> = Arc::from(pipeline_id.to_string());
        let mut gate = None;
        let mut head = Vec::new();
        let mut tail = Vec::new();
        let mut batch_config = None;
        for id in &pipeline.processors {
            match &config.processors[id] {
                ProcessorConfig::MemoryLimiter(c) => {
                    gate = Some(
                        gates
                            .entry(id.clone())
                            .or_insert_with(|| MemoryGate::new(&id.to_string(), c))
                            .clone(),
                    );
                }
                ProcessorConfig::Batch(c) => batch_config = Some(c.clone()),
                ProcessorConfig::Plugin { .. } => {
                    let stage = PluginStage {
                        id: id.to_string(),
                        pool: processors[id].clone(),
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
                .map(|id| exporter_handles[id].clone())
                .collect(),
        });
        let batcher = batch_config.map(|c| {
            let (tx, rx) = mpsc::channel(1024);
            batchers.push(tokio::spawn(batcher::run(
                c,
                name.clone(),
                rx,
                tail.clone(),
            )));
            tx
        });
        let running = Arc::new(Pipeline {
            id: name.clone(),
            gate,
            head: chain(head),
            batcher,
            tail,
        });
        for receiver in &pipeline.receivers {
            routes
                .table
                .entry((receiver.to_string(), pipeline_id.signal))
                .or_default()
                .push(running.clone());
        }
    }
    Ok(Topology {
        routes,
        tasks: Tasks {
            batchers,
            exporters: exporter_tasks,
        },
    })
}
