//! `weir plugin build`: runs the project's `build` command and checks the
//! component it names is there.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::DevkitError;
use super::manifest::Manifest;

/// Builds the project in `dir`; returns the component's path.
pub fn build(dir: &Path) -> Result<PathBuf, DevkitError> {
    let manifest = Manifest::read(dir)?;
    let status = Command::new("sh")
        .arg("-c")
        .arg(&manifest.build)
        .current_dir(dir)
        .status()
        .map_err(|source| DevkitError::Spawn {
            command: manifest.build.clone(),
            source,
        })?;
    if !status.success() {
        return Err(DevkitError::BuildFailed {
            command: manifest.build,
            status,
            dir: dir.to_path_buf(),
        });
    }
    // A cargo build's output lives in its target dir, which
    // CARGO_TARGET_DIR may move.
    let cargo = manifest.build.trim_start().starts_with("cargo ");
    let output = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) if cargo && manifest.output.starts_with("target") => PathBuf::from(target)
            .join(
                manifest
                    .output
                    .strip_prefix("target")
                    .expect("checked above"),
            ),
        _ => dir.join(&manifest.output),
    };
    if !output.is_file() {
        return Err(DevkitError::NoOutput {
            command: manifest.build,
            output,
        });
    }
    Ok(output)
}
