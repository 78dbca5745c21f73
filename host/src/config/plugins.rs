//! The `plugins:` section: where each plugin type's component comes from,
//! its limits, what it is granted (`allow`) and its pin (`sha256`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::Errors;
use super::load::{entries, typed};
use super::model::{ComponentId, PluginSpec};
use super::tree::Node;
use crate::plugin::{
    BUILTIN_CONNECTORS, BUILTIN_EXPORTERS, BUILTIN_PROCESSORS, Grants, PluginLimits, PluginSource,
    builtin_limits,
};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    path: Option<PathBuf>,
    #[serde(default)]
    limits: PluginLimits,
    #[serde(default)]
    allow: Grants,
    sha256: Option<String>,
}

/// Built-in plugin types, then those declared (or overridden) under `plugins:`.
pub(super) fn plugins(section: Option<&Node>, errors: &mut Errors) -> BTreeMap<String, PluginSpec> {
    let mut out: BTreeMap<String, PluginSpec> = BUILTIN_PROCESSORS
        .iter()
        .chain(BUILTIN_EXPORTERS)
        .chain(BUILTIN_CONNECTORS)
        .map(|name| {
            (
                name.to_string(),
                PluginSpec {
                    source: PluginSource::Builtin(name),
                    limits: builtin_limits(name),
                    grants: Grants::default(),
                    sha256: None,
                },
            )
        })
        .collect();
    let Some(section) = section else { return out };
    for (name, node) in entries(section, "plugins", errors) {
        let path = format!("plugins.{name}");
        if ComponentId::parse(name)
            .map(|id| id.name.is_some())
            .unwrap_or(true)
        {
            errors.add(
                path,
                "a plugin type is a word of letters, digits and `_` (no `/`)",
            );
            continue;
        }
        let Some(raw) = typed::<RawPlugin>(node, &path, errors) else {
            continue;
        };
        let source = match (raw.path, out.get(name.as_str())) {
            (Some(file), _) => PluginSource::File(file),
            (None, Some(builtin)) => builtin.source.clone(),
            (None, None) => {
                errors.add(path, "expected `path` to the plugin's .wasm component");
                continue;
            }
        };
        let sha256 = match raw.sha256.as_deref().map(parse_pin) {
            None => None,
            Some(Ok(hex)) => Some(hex),
            Some(Err(())) => {
                errors.add(
                    format!("{path}.sha256"),
                    "expected 64 hex digits (optionally after `sha256:`), as `sha256sum` prints them",
                );
                continue;
            }
        };
        for (i, grant) in raw.allow.files.iter().enumerate() {
            if !grant.path.is_dir() {
                errors.add(
                    format!("{path}.allow.files[{i}].path"),
                    format!(
                        "expected a directory the plugin may open files under; {} is not one",
                        grant.path.display()
                    ),
                );
            }
        }
        out.insert(
            name.clone(),
            PluginSpec {
                source,
                limits: raw.limits,
                grants: raw.allow,
                sha256,
            },
        );
    }
    out
}

/// `sha256:<hex>` or `<hex>`, as lower-case hex.
fn parse_pin(pin: &str) -> Result<String, ()> {
    let hex = pin.trim().strip_prefix("sha256:").unwrap_or(pin.trim());
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_pin;

    #[test]
    fn pins_are_64_hex_digits() {
        let hex = "AB".repeat(32);
        assert_eq!(parse_pin(&format!("sha256:{hex}")), Ok("ab".repeat(32)));
        assert_eq!(parse_pin(&hex), Ok("ab".repeat(32)));
        assert!(parse_pin("sha256:abc").is_err());
        assert!(parse_pin(&"zz".repeat(32)).is_err());
    }
}
