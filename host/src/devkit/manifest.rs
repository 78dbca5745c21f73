//! `weir-plugin.toml`: how a plugin project is built, whatever its language.
//!
//! ```toml
//! name = "my-tagger"
//! kind = "processor"            # or "exporter"
//! build = "cargo build --release --target wasm32-wasip2"   # run with `sh -c` in the project folder
//! output = "target/wasm32-wasip2/release/my_tagger.wasm"   # the component, relative to the folder
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::DevkitError;

/// The manifest's file name.
pub const MANIFEST: &str = "weir-plugin.toml";

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub kind: String,
    /// A shell command (`sh -c`) run in the project folder.
    pub build: String,
    /// The component the build writes, relative to the project folder.
    pub output: PathBuf,
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Manifest, DevkitError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| DevkitError::Read {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| DevkitError::Manifest {
            path,
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_and_refuses_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MANIFEST),
            "name = \"x\"\nkind = \"processor\"\nbuild = \"make\"\noutput = \"x.wasm\"\n",
        )
        .unwrap();
        let m = Manifest::read(dir.path()).unwrap();
        assert_eq!(m.output, PathBuf::from("x.wasm"));
        std::fs::write(dir.path().join(MANIFEST), "name = \"x\"\ncolour = 1\n").unwrap();
        let err = Manifest::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("weir-plugin.toml"), "{err}");
    }
}
