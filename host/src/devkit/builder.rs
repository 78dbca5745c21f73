//! `weir plugin build`: runs the project's `build` command and checks the
//! component it names is there. A Rust crate without a `weir-plugin.toml`
//! is built with cargo for `wasm32-wasip2`, its component found from
//! `cargo metadata`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::DevkitError;
use super::manifest::{MANIFEST, Manifest};

/// Builds the project in `dir`; returns the component's path.
pub fn build(dir: &Path) -> Result<PathBuf, DevkitError> {
    let manifest = if !dir.join(MANIFEST).exists() && dir.join("Cargo.toml").is_file() {
        cargo_manifest(dir)?
    } else {
        Manifest::read(dir)?
    };
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

/// What a `weir-plugin.toml` would say for a plain cargo crate: its lib
/// target's name is the `.wasm` file's.
fn cargo_manifest(dir: &Path) -> Result<Manifest, DevkitError> {
    let command = "cargo metadata --no-deps --format-version 1";
    let out = Command::new("cargo")
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(dir)
        .output()
        .map_err(|source| DevkitError::Spawn {
            command: command.into(),
            source,
        })?;
    let fail = |reason: String| DevkitError::Manifest {
        path: dir.join("Cargo.toml"),
        reason,
    };
    if !out.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| fail(e.to_string()))?;
    // In a workspace, `--no-deps` lists every member: take this folder's.
    let own = std::fs::canonicalize(dir.join("Cargo.toml")).map_err(|e| fail(e.to_string()))?;
    let lib = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| Path::new(m) == own)
        })
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .find(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .and_then(|t| t["name"].as_str())
        .ok_or_else(|| fail("no `cdylib` target to build a component from".into()))?
        .replace('-', "_");
    // Absolute: a workspace member builds into the workspace's target dir.
    let target = metadata["target_directory"]
        .as_str()
        .ok_or_else(|| fail("cargo metadata named no target_directory".into()))?;
    Ok(Manifest {
        name: lib.clone(),
        kind: "processor".into(),
        build: "cargo build --release --target wasm32-wasip2".into(),
        output: Path::new(target)
            .join("wasm32-wasip2")
            .join("release")
            .join(format!("{lib}.wasm")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_without_a_manifest_is_built_by_cargo_into_its_workspace_target() {
        let stamp = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/stamp");
        let manifest = cargo_manifest(&stamp).unwrap();
        assert!(manifest.build.starts_with("cargo build"));
        assert!(
            manifest
                .output
                .ends_with("wasm32-wasip2/release/stamp.wasm"),
            "{:?}",
            manifest.output
        );
        assert!(manifest.output.is_absolute());
    }
}
