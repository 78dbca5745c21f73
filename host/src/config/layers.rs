//! Per-environment configs: `weir --config config/collector.yaml --env prod`
//! reads the base file, then deep-merges `config/environments/prod.yaml` over
//! it. Maps merge key by key; any other value (a list, a scalar) in the
//! overlay replaces the base's, as the Go collector does when it merges
//! several `--config` files.

use std::path::{Path, PathBuf};

use super::tree::{Node, Value};

/// The folder, beside the base config, that holds one file per environment.
pub const ENVIRONMENTS_DIR: &str = "environments";

/// The overlay file for `environment` next to `base`, if the base has an
/// `environments/` folder. `Ok(None)` when there is no environment or no such
/// folder (the base runs alone); an error when the folder exists but holds no
/// file for that name, so a typo in `--env` does not silently run the base.
pub fn environment_file(base: &Path, environment: &str) -> Result<Option<PathBuf>, String> {
    if environment.is_empty() {
        return Ok(None);
    }
    let dir = base
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(ENVIRONMENTS_DIR);
    if !dir.is_dir() {
        return Ok(None);
    }
    for ext in ["yaml", "yml"] {
        let file = dir.join(format!("{environment}.{ext}"));
        if file.is_file() {
            return Ok(Some(file));
        }
    }
    let mut known: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let path = e.path();
                    let ext = path.extension()?.to_str()?;
                    matches!(ext, "yaml" | "yml")
                        .then(|| path.file_stem()?.to_str().map(String::from))?
                })
                .collect()
        })
        .unwrap_or_default();
    known.sort();
    Err(format!(
        "environment `{environment}` has no file {}/{environment}.yaml (environments: {})",
        dir.display(),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
}

/// Marks every node of `tree` as coming from the overlay file.
pub fn mark_overlay(tree: &mut Node) {
    tree.overlay = true;
    match &mut tree.value {
        Value::Seq(items) => items.iter_mut().for_each(mark_overlay),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, n)| mark_overlay(n)),
        _ => {}
    }
}

/// Deep-merges `overlay` into `base`: maps key by key, anything else replaced.
pub fn merge(base: &mut Node, overlay: Node) {
    match (&mut base.value, overlay.value) {
        (Value::Map(base_entries), Value::Map(overlay_entries)) => {
            for (key, value) in overlay_entries {
                match base_entries.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, existing)) => merge(existing, value),
                    None => base_entries.push((key, value)),
                }
            }
        }
        (_, value) => {
            base.value = value;
            base.line = overlay.line;
            base.overlay = overlay.overlay;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay(text: &str) -> Node {
        let mut node = Node::parse(text).unwrap();
        mark_overlay(&mut node);
        node
    }

    #[test]
    fn maps_merge_and_other_values_replace() {
        let mut base = Node::parse(
            "processors:\n  batch: {timeout: 1s}\n  sampler: {percent: 100}\nservice:\n  pipelines:\n    traces: {processors: [batch, sampler]}\n",
        )
        .unwrap();
        merge(
            &mut base,
            overlay(
                "processors:\n  sampler: {percent: 10}\nservice:\n  pipelines:\n    traces: {processors: [sampler]}\n",
            ),
        );
        assert_eq!(
            base.to_json(),
            serde_json::json!({
                "processors": {"batch": {"timeout": "1s"}, "sampler": {"percent": 10}},
                "service": {"pipelines": {"traces": {"processors": ["sampler"]}}}
            })
        );
        assert!(base.is_from_overlay("processors.sampler.percent"));
        assert!(!base.is_from_overlay("processors.batch.timeout"));
        assert_eq!(base.line_of("processors.sampler.percent"), Some(2));
    }

    #[test]
    fn environment_file_beside_the_base() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("collector.yaml");
        std::fs::write(&base, "").unwrap();
        // No environments folder: the base runs alone, whatever the name.
        assert_eq!(environment_file(&base, "prod").unwrap(), None);

        std::fs::create_dir(dir.path().join("environments")).unwrap();
        std::fs::write(dir.path().join("environments/prod.yaml"), "").unwrap();
        std::fs::write(dir.path().join("environments/dev.yml"), "").unwrap();
        assert_eq!(
            environment_file(&base, "prod").unwrap(),
            Some(dir.path().join("environments/prod.yaml"))
        );
        assert_eq!(
            environment_file(&base, "dev").unwrap(),
            Some(dir.path().join("environments/dev.yml"))
        );
        assert_eq!(environment_file(&base, "").unwrap(), None);
        let err = environment_file(&base, "prdo").unwrap_err();
        assert!(err.contains("environments: dev, prod"), "{err}");
    }
}
