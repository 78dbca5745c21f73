//! Compiled components on disk, so a restart does not compile every plugin
//! again (~150-500 ms each with Cranelift; loading a compiled one takes
//! under a millisecond).
//!
//! An entry is named by the SHA-256 of the component's bytes and a hash of
//! the engine (wasmtime's version and every setting that changes the code
//! it makes), so another weir build or engine setting never reads it. A
//! compiled artifact is native code that wasmtime maps and runs without
//! checking it, so the cache is not trusted blindly: each file starts with
//! the SHA-256 of what follows, and an entry that does not match (a torn
//! write, a bit flip, an edit) is compiled again and rewritten. Entries are
//! written to a temporary file and renamed into place.
//!
//! Location: `WEIR_PLUGIN_CACHE` (a directory, or `off`), else
//! `$XDG_CACHE_HOME/weir/plugins`, else `$HOME/.cache/weir/plugins`; with
//! none of them set, no disk cache.
// `Component::deserialize` is unsafe: wasmtime trusts the bytes to be its
// own output. The digest check above is what makes that true here.
#![allow(unsafe_code)]

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The environment variable naming the cache directory (or `off`).
pub const CACHE_ENV: &str = "WEIR_PLUGIN_CACHE";

/// A directory of compiled components for one engine.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    engine_hash: u64,
}

impl DiskCache {
    /// The cache the environment asks for, if any.
    pub fn from_env(engine: &Engine) -> Option<DiskCache> {
        let dir = match std::env::var_os(CACHE_ENV) {
            Some(v) if v == "off" || v.is_empty() => return None,
            Some(v) => PathBuf::from(v),
            None => default_dir()?,
        };
        Some(DiskCache::new(engine, dir))
    }

    pub fn new(engine: &Engine, dir: PathBuf) -> DiskCache {
        // Hashed with the standard SipHash keys: stable for one weir build,
        // which is all the key needs (it is not shared between builds).
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        DiskCache {
            dir,
            engine_hash: hasher.finish(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, sha256_hex: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256_hex}-{:016x}.cwasm", self.engine_hash))
    }

    /// The compiled component for these bytes, if a sound entry exists.
    pub fn load(&self, engine: &Engine, sha256_hex: &str) -> Option<Component> {
        let path = self.entry(sha256_hex);
        let file = std::fs::read(&path).ok()?;
        if file.len() < 32 || Sha256::digest(&file[32..]).as_slice() != &file[..32] {
            tracing::warn!(path = %path.display(), "corrupt compiled-plugin cache entry; compiling again");
            return None;
        }
        // SAFETY: the bytes are what `store` wrote from `Component::serialize`
        // for this engine (the file name carries the engine's hash), and the
        // digest shows they are unchanged since.
        match unsafe { Component::deserialize(engine, &file[32..]) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "unusable compiled-plugin cache entry; compiling again");
                None
            }
        }
    }

    /// Writes a compiled component; a failure only costs the next start
    /// a compile, so it is logged, not returned.
    pub fn store(&self, sha256_hex: &str, component: &Component) {
        if let Err(e) = self.try_store(sha256_hex, component) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write the compiled-plugin cache");
        }
    }

    fn try_store(&self, sha256_hex: &str, component: &Component) -> wasmtime::Result<()> {
        let code = component.serialize()?;
        std::fs::create_dir_all(&self.dir)?;
        let path = self.entry(sha256_hex);
        let tmp = self.dir.join(format!(
            ".{sha256_hex}.{}.{}.tmp",
            std::process::id(),
            fastrand::u64(..)
        ));
        let mut file = Sha256::digest(&code).to_vec();
        file.extend_from_slice(&code);
        std::fs::write(&tmp, &file)?;
        std::fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        Ok(())
    }
}

fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("weir").join("plugins"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_round_trips_and_a_corrupt_one_is_refused() {
        let engine = Engine::default();
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(&engine, dir.path().to_path_buf());
        let bytes = crate::plugin::builtin_bytes("attributes").unwrap();
        let component = Component::new(&engine, bytes).unwrap();
        assert!(cache.load(&engine, "abc").is_none());
        cache.store("abc", &component);
        assert!(cache.load(&engine, "abc").is_some());

        let path = cache.entry("abc");
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            cache.load(&engine, "abc").is_none(),
            "a flipped bit is caught"
        );
        std::fs::write(&path, b"short").unwrap();
        assert!(cache.load(&engine, "abc").is_none());
    }

    #[test]
    fn another_engine_config_has_other_entries() {
        let a = Engine::default();
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let b = Engine::new(&config).unwrap();
        let dir = PathBuf::from("/x");
        assert_ne!(
            DiskCache::new(&a, dir.clone()).entry("abc"),
            DiskCache::new(&b, dir).entry("abc")
        );
    }
}
