//! What a plugin may reach besides the `weir:plugin/host` interface:
//! nothing, unless its config grants it (`plugins.<type>.allow`).
//!
//! The rule, import by import (a component lists its imports; see
//! `weir plugin inspect`):
//!
//! - `weir:plugin/*`: the host interface, always given.
//! - WASI interfaces that language runtimes import whether or not the
//!   plugin's code uses them are linked, but **neutralised** unless granted:
//!   `wasi:cli/*` (an empty environment, no arguments, empty stdin, stdout
//!   discarded, stderr kept only to explain a trap), `wasi:filesystem/*` (no
//!   preopened directories), `wasi:clocks/*` (frozen at 0: the Unix epoch
//!   and a monotonic clock that never advances; the host's `now-unix-nanos`
//!   is the plugin's clock), `wasi:sockets/*` (creating a TCP or UDP socket
//!   and name lookup are refused), `wasi:io/*` (streams and polling of the
//!   above) and `wasi:random/*` (random bytes, which hash maps need).
//! - Any other import (`wasi:http/outgoing-handler`, an unknown interface)
//!   cannot be neutralised and is never granted: the plugin is refused at
//!   load, naming the import.
//!
//! Grants: `allow.env` lists environment variables the plugin sees (with the
//! collector's values; unset ones stay unset), `allow.files` directories it
//! may open files under (at the same path, read-only unless
//! `read_only: false`), and `allow.clocks: true` gives it the real clocks.
//! There is no network grant: an exporter's I/O is the host's.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, WasiCtx};

use super::error::LoadError;

/// `plugins.<type>.allow`: what the plugin is granted beyond the host API.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Grants {
    /// Environment variables the plugin may read, by name.
    pub env: Vec<String>,
    /// Directories the plugin may open files under.
    pub files: Vec<FileGrant>,
    /// The real wall and monotonic clocks (default: frozen at 0).
    pub clocks: bool,
}

/// One directory a plugin may open files under.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileGrant {
    /// The directory, seen by the plugin at the same path.
    pub path: PathBuf,
    /// Default true: the plugin can read but not create, write or delete.
    #[serde(default = "yes")]
    pub read_only: bool,
}

fn yes() -> bool {
    true
}

/// How Weir treats one import of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportRule {
    /// `weir:plugin/*`.
    HostApi,
    /// Linked with nothing behind it unless granted.
    Neutralised,
    /// Never provided: the plugin is refused.
    Refused,
}

impl ImportRule {
    pub fn of(import: &str) -> ImportRule {
        const NEUTRALISED: &[&str] = &[
            "wasi:cli/",
            "wasi:filesystem/",
            "wasi:clocks/",
            "wasi:sockets/",
            "wasi:io/",
            "wasi:random/",
        ];
        if import.starts_with("weir:plugin/") {
            ImportRule::HostApi
        } else if NEUTRALISED.iter().any(|p| import.starts_with(p)) {
            ImportRule::Neutralised
        } else {
            ImportRule::Refused
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ImportRule::HostApi => "host API",
            ImportRule::Neutralised => "linked, denied unless granted",
            ImportRule::Refused => "refused: Weir never provides it",
        }
    }
}

/// The names of a component's imports (`wasi:cli/environment@0.2.6`, ...).
pub fn imports(engine: &Engine, component: &Component) -> Vec<String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Refuses a component with an import Weir never provides, naming it.
pub fn check_imports(engine: &Engine, component: &Component, name: &str) -> Result<(), LoadError> {
    let refused: Vec<String> = imports(engine, component)
        .into_iter()
        .filter(|i| ImportRule::of(i) == ImportRule::Refused)
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(LoadError::Capability {
        name: name.into(),
        imports: refused.join(", "),
    })
}

impl Grants {
    /// The WASI context of one instance: what is granted, nothing more.
    pub fn wasi_ctx(&self, stderr: MemoryOutputPipe) -> wasmtime::Result<WasiCtx> {
        let mut builder = WasiCtx::builder();
        builder
            .stderr(stderr)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for name in &self.env {
            if let Ok(value) = std::env::var(name) {
                builder.env(name, value);
            }
        }
        for grant in &self.files {
            let perms = if grant.read_only {
                FsPerms::ReadOnly
            } else {
                FsPerms::ReadWrite
            };
            builder.preopened_dir(&grant.path, grant.path.to_string_lossy(), perms)?;
        }
        if !self.clocks {
            builder.wall_clock(Frozen).monotonic_clock(Frozen);
        }
        Ok(builder.build())
    }
}

/// A clock stopped at 0.
struct Frozen;

impl HostWallClock for Frozen {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for Frozen {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_sorted_by_rule() {
        assert_eq!(
            ImportRule::of("weir:plugin/host@0.1.0"),
            ImportRule::HostApi
        );
        for neutral in [
            "wasi:cli/environment@0.2.6",
            "wasi:filesystem/preopens@0.2.0",
            "wasi:clocks/wall-clock@0.2.3",
            "wasi:sockets/tcp-create-socket@0.2.0",
            "wasi:io/streams@0.2.6",
            "wasi:random/random@0.2.6",
        ] {
            assert_eq!(
                ImportRule::of(neutral),
                ImportRule::Neutralised,
                "{neutral}"
            );
        }
        for refused in [
            "wasi:http/outgoing-handler@0.2.0",
            "acme:spy/upload",
            "wasi:clix/x",
        ] {
            assert_eq!(ImportRule::of(refused), ImportRule::Refused, "{refused}");
        }
    }

    #[test]
    fn file_grants_default_to_read_only() {
        let grants: Grants =
            serde_json::from_str(r#"{"env": ["A"], "files": [{"path": "/tmp"}]}"#).unwrap();
        assert!(grants.files[0].read_only);
        assert!(!grants.clocks);
        assert!(serde_json::from_str::<Grants>(r#"{"network": true}"#).is_err());
    }
}
