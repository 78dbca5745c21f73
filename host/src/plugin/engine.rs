//! The one wasmtime engine of the process, its linkers and its epoch clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::bindings::{ExporterPlugin, ExporterPluginPre, ProcessorPlugin, ProcessorPluginPre};
use super::capabilities::{Grants, check_imports};
use super::disk_cache::DiskCache;
use super::error::LoadError;
use super::limits::PluginLimits;
use super::pool::{ExporterPool, ProcessorPool};
use super::state::PluginState;

/// How often the epoch advances; call deadlines are counted in these ticks.
/// Each tick wakes a thread: at 10 ms that thread was ~14% of an idle
/// collector's CPU (10k spans/s); 20 ms halves it and keeps a deadline
/// within 20 ms of its configured time.
pub const EPOCH_TICK: Duration = Duration::from_millis(20);

/// Set (to anything) to write `/tmp/perf-PID.map` for JIT-compiled plugin
/// code, so `perf` can name it.
pub const PERFMAP_ENV: &str = "WEIR_PLUGIN_PERFMAP";

/// Compiles components and makes instance pools for configured components.
#[derive(Clone)]
pub struct PluginEngine {
    engine: Engine,
    processor_linker: Arc<Linker<PluginState>>,
    exporter_linker: Arc<Linker<PluginState>>,
    /// Compiled components by the SHA-256 of their bytes: a reload reuses
    /// every plugin that did not change.
    compiled: Arc<Mutex<HashMap<[u8; 32], Component>>>,
    /// Compiled components on disk, across restarts (`WEIR_PLUGIN_CACHE`).
    disk: Option<DiskCache>,
    _clock: Arc<EpochClock>,
}

/// A compiled component and where it came from.
pub struct Compiled {
    pub component: Component,
    pub from: CompiledFrom,
    /// Hex SHA-256 of the component's bytes.
    pub sha256: String,
}

/// Where a compiled component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompiledFrom {
    /// Compiled now.
    Compiler,
    /// Compiled earlier by this process (a reload).
    Memory,
    /// Compiled by an earlier run, read from the disk cache.
    Disk,
}

impl CompiledFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            CompiledFrom::Compiler => "compiled",
            CompiledFrom::Memory => "memory",
            CompiledFrom::Disk => "disk_cache",
        }
    }
}

/// The hex SHA-256 of a component's bytes (what `sha256:` pins name).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PluginEngine {
    /// An engine with the disk cache the environment names (see
    /// `disk_cache`).
    pub fn new() -> Result<Self, LoadError> {
        let mut engine = Self::without_disk_cache()?;
        engine.disk = DiskCache::from_env(&engine.engine);
        Ok(engine)
    }

    /// The engine underneath, for inspecting components.
    pub fn wasmtime(&self) -> &Engine {
        &self.engine
    }

    /// An engine that compiles every component it has not seen in this
    /// process.
    pub fn without_disk_cache() -> Result<Self, LoadError> {
        let mut config = Config::new();
        // Deadlines: a looping plugin is stopped at its next epoch check.
        config.epoch_interruption(true);
        // `perf record` then names guest functions (from the component's
        // name section; a stripped plugin shows `wasm[0]::function[N]`).
        if std::env::var_os(PERFMAP_ENV).is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(|e| LoadError::Start {
            name: "engine".into(),
            reason: format!("{e:#}"),
        })?;
        let link_err = |world: &'static str| {
            move |e: wasmtime::Error| LoadError::Link {
                name: "host".into(),
                world,
                reason: format!("{e:#}"),
            }
        };
        let mut processor_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut processor_linker)
            .map_err(link_err("processor"))?;
        ProcessorPlugin::add_to_linker::<_, HasSelf<_>>(&mut processor_linker, |s| s)
            .map_err(link_err("processor"))?;
        let mut exporter_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut exporter_linker)
            .map_err(link_err("exporter"))?;
        ExporterPlugin::add_to_linker::<_, HasSelf<_>>(&mut exporter_linker, |s| s)
            .map_err(link_err("exporter"))?;
        let clock = EpochClock::start(engine.clone());
        Ok(PluginEngine {
            engine,
            processor_linker: Arc::new(processor_linker),
            exporter_linker: Arc::new(exporter_linker),
            compiled: Arc::default(),
            disk: None,
            _clock: clock,
        })
    }

    /// Compiles a component (the costly step: ~100-500 ms), or returns the
    /// one compiled before from the same bytes.
    pub fn compile(&self, name: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        self.compile_cached(name, bytes).map(|c| c.component)
    }

    /// Like [`compile`](Self::compile), saying which cache served it:
    /// this process's, the disk's, or none.
    pub fn compile_cached(&self, name: &str, bytes: &[u8]) -> Result<Compiled, LoadError> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(bytes).into();
        let sha256 = sha256_hex(bytes);
        if let Some(component) = self.compiled.lock().expect("cache lock").get(&digest) {
            return Ok(Compiled {
                component: component.clone(),
                from: CompiledFrom::Memory,
                sha256,
            });
        }
        let (component, from) = match self
            .disk
            .as_ref()
            .and_then(|d| d.load(&self.engine, &sha256))
        {
            Some(component) => (component, CompiledFrom::Disk),
            None => {
                let component =
                    Component::new(&self.engine, bytes).map_err(|e| LoadError::Compile {
                        name: name.into(),
                        reason: format!("{e:#}"),
                    })?;
                if let Some(disk) = &self.disk {
                    disk.store(&sha256, &component);
                }
                (component, CompiledFrom::Compiler)
            }
        };
        self.compiled
            .lock()
            .expect("cache lock")
            .insert(digest, component.clone());
        Ok(Compiled {
            component,
            from,
            sha256,
        })
    }

    /// A pool of processor instances for one configured component; starts
    /// the first instance, so a bad config is reported now.
    pub fn processor_pool(
        &self,
        plugin: &str,
        component_id: &str,
        component: &Component,
        config_json: String,
        limits: PluginLimits,
        grants: Grants,
    ) -> Result<ProcessorPool, LoadError> {
        check_imports(&self.engine, component, plugin)?;
        let pre = self
            .processor_linker
            .instantiate_pre(component)
            .and_then(ProcessorPluginPre::new)
            .map_err(|e| LoadError::Link {
                name: plugin.into(),
                world: "processor-plugin",
                reason: format!("{e:#}"),
            })?;
        ProcessorPool::start(
            self.engine.clone(),
            pre,
            component_id,
            config_json,
            limits,
            grants,
        )
    }

    /// A pool of exporter instances for one configured component.
    pub fn exporter_pool(
        &self,
        plugin: &str,
        component_id: &str,
        component: &Component,
        config_json: String,
        limits: PluginLimits,
        grants: Grants,
    ) -> Result<ExporterPool, LoadError> {
        check_imports(&self.engine, component, plugin)?;
        let pre = self
            .exporter_linker
            .instantiate_pre(component)
            .and_then(ExporterPluginPre::new)
            .map_err(|e| LoadError::Link {
                name: plugin.into(),
                world: "exporter-plugin",
                reason: format!("{e:#}"),
            })?;
        ExporterPool::start(
            self.engine.clone(),
            pre,
            component_id,
            config_json,
            limits,
            grants,
        )
    }

    /// The instance factory of one configured connector; starts the first
    /// instance, so a bad config is reported now. A connector imports what
    /// a processor does (WASI, `host`), so it links with the same linker.
    pub fn connector_factory(
        &self,
        plugin: &str,
        component_id: &str,
        component: &Component,
        config_json: String,
        limits: PluginLimits,
        grants: Grants,
    ) -> Result<super::ConnectorFactory, LoadError> {
        check_imports(&self.engine, component, plugin)?;
        let pre = self
            .processor_linker
            .instantiate_pre(component)
            .and_then(super::bindings::ConnectorPluginPre::new)
            .map_err(|e| LoadError::Link {
                name: plugin.into(),
                world: "connector-plugin",
                reason: format!("{e:#}"),
            })?;
        super::ConnectorFactory::start(
            self.engine.clone(),
            pre,
            component_id,
            config_json,
            limits,
            grants,
        )
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochClock {
    stop: Arc<AtomicBool>,
}

impl EpochClock {
    fn start(engine: Engine) -> Arc<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("weir-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("cannot start the epoch thread");
        Arc::new(EpochClock { stop })
    }
}

impl Drop for EpochClock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
