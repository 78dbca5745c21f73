//! `weir plugin inspect`: what a component is (its world and exports), what
//! it imports and how Weir treats each import, and — by starting it in the
//! sandbox with a config — the signals it handles and whether it is
//! stateful.

use std::fmt;

use super::capabilities::{Grants, ImportRule, imports};
use super::engine::{PluginEngine, sha256_hex};
use super::error::LoadError;
use super::limits::PluginLimits;

const PROCESSOR_EXPORT: &str = "weir:plugin/processor@0.1.0";
const EXPORTER_EXPORT: &str = "weir:plugin/exporter@0.1.0";

/// What `inspect` found.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub bytes: usize,
    pub sha256: String,
    /// `processor-plugin`, `exporter-plugin`, or `None` when it exports
    /// neither interface.
    pub world: Option<&'static str>,
    pub exports: Vec<String>,
    pub imports: Vec<(String, ImportRule)>,
    /// What starting it with the config said, or why it did not start.
    pub started: Result<Started, String>,
}

/// What a plugin says about itself at `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub signals: Vec<&'static str>,
    /// Processors only.
    pub stateful: Option<bool>,
    /// Exporters only: `stdout`, `file` or `network`.
    pub destination: Option<&'static str>,
}

impl Inspection {
    /// Whether Weir would load it (with this config).
    pub fn loads(&self) -> bool {
        self.started.is_ok()
    }
}

/// Compiles `bytes` and starts one instance with `config_json` and `grants`,
/// as a pipeline would.
pub fn inspect(
    engine: &PluginEngine,
    name: &str,
    bytes: &[u8],
    config_json: &str,
    grants: &Grants,
) -> Result<Inspection, LoadError> {
    let component = engine.compile(name, bytes)?;
    let wasmtime = engine.wasmtime();
    let exports: Vec<String> = component
        .component_type()
        .exports(wasmtime)
        .map(|(n, _)| n.to_string())
        .collect();
    let world = if exports.iter().any(|e| e == PROCESSOR_EXPORT) {
        Some("processor-plugin")
    } else if exports.iter().any(|e| e == EXPORTER_EXPORT) {
        Some("exporter-plugin")
    } else {
        None
    };
    let imports = imports(wasmtime, &component)
        .into_iter()
        .map(|i| {
            let rule = ImportRule::of(&i);
            (i, rule)
        })
        .collect();
    let limits = PluginLimits::default();
    let started = match world {
        Some("processor-plugin") => engine
            .processor_pool(
                name,
                name,
                &component,
                config_json.into(),
                limits,
                grants.clone(),
            )
            .map(|pool| {
                let info = pool.info();
                Started {
                    signals: signal_names(info.signals),
                    stateful: Some(info.stateful),
                    destination: None,
                }
            })
            .map_err(|e| e.to_string()),
        Some(_) => engine
            .exporter_pool(
                name,
                name,
                &component,
                config_json.into(),
                limits,
                grants.clone(),
            )
            .map(|pool| {
                use super::bindings::types::Destination;
                let info = pool.info();
                Started {
                    signals: signal_names(info.signals),
                    stateful: None,
                    destination: Some(match info.destination {
                        Destination::Stdout => "stdout",
                        Destination::File => "file",
                        Destination::Network => "network",
                        Destination::Scrape => "scrape",
                    }),
                }
            })
            .map_err(|e| e.to_string()),
        None => Err(format!(
            "it exports neither {PROCESSOR_EXPORT} nor {EXPORTER_EXPORT}"
        )),
    };
    Ok(Inspection {
        bytes: bytes.len(),
        sha256: sha256_hex(bytes),
        world,
        exports,
        imports,
        started,
    })
}

fn signal_names(signals: super::bindings::types::Signals) -> Vec<&'static str> {
    use super::bindings::types::Signals;
    [
        (Signals::TRACES, "traces"),
        (Signals::METRICS, "metrics"),
        (Signals::LOGS, "logs"),
    ]
    .into_iter()
    .filter(|(s, _)| signals.contains(*s))
    .map(|(_, n)| n)
    .collect()
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "size:     {} bytes", self.bytes)?;
        writeln!(f, "sha256:   {}", self.sha256)?;
        writeln!(
            f,
            "world:    {}",
            self.world
                .map(|w| format!("weir:plugin/{w}@0.1.0"))
                .unwrap_or_else(|| "none of weir:plugin@0.1.0".into())
        )?;
        writeln!(f, "exports:")?;
        for export in &self.exports {
            writeln!(f, "  {export}")?;
        }
        writeln!(f, "imports:")?;
        let width = self.imports.iter().map(|(i, _)| i.len()).max().unwrap_or(0);
        for (import, rule) in &self.imports {
            writeln!(f, "  {import:width$}  {}", rule.describe())?;
        }
        match &self.started {
            Ok(started) => {
                writeln!(f, "signals:  {}", started.signals.join(", "))?;
                if let Some(stateful) = started.stateful {
                    writeln!(f, "stateful: {stateful}")?;
                }
                if let Some(destination) = started.destination {
                    writeln!(f, "destination: {destination}")?;
                }
                write!(f, "loads:    yes")
            }
            Err(reason) => write!(f, "loads:    no: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_processor_is_described() {
        let engine = PluginEngine::without_disk_cache().unwrap();
        let bytes = crate::plugin::builtin_bytes("tail_sampling").unwrap();
        let config = r#"{"policies": [{"name": "all", "type": "always_sample"}]}"#;
        let found = inspect(&engine, "tail_sampling", bytes, config, &Grants::default()).unwrap();
        assert_eq!(found.world, Some("processor-plugin"));
        assert!(found.exports.iter().any(|e| e == PROCESSOR_EXPORT));
        assert!(
            found
                .imports
                .iter()
                .any(|(i, r)| i.starts_with("weir:plugin/host") && *r == ImportRule::HostApi),
            "{:?}",
            found.imports
        );
        let started = found.started.clone().unwrap();
        assert_eq!(started.stateful, Some(true));
        assert_eq!(started.signals, vec!["traces"]);
        assert!(found.to_string().contains("loads:    yes"), "{found}");
    }

    #[test]
    fn a_bad_config_is_reported_as_not_loading() {
        let engine = PluginEngine::without_disk_cache().unwrap();
        let bytes = crate::plugin::builtin_bytes("file").unwrap();
        let found = inspect(&engine, "file", bytes, r#"{"nope": 1}"#, &Grants::default()).unwrap();
        assert_eq!(found.world, Some("exporter-plugin"));
        assert!(!found.loads());
    }
}
