//! The `resourcedetection` processor, in the Go collector's shape:
//!
//! ```yaml
//! processors:
//!   resourcedetection:
//!     detectors: [env, system]        # in order; the first to set a key wins
//!     override: true                  # replace attributes a resource already has
//!     system: {hostname_sources: [os]}
//!     timeout: 2s                     # accepted; detection here is local and quick
//! ```
//!
//! A plugin has no access to the environment or the host name, so the host
//! detects, natively, each time the config is loaded (start and every
//! reload), and hands the result to the `resource` plugin as its ordinary
//! config: one `upsert` (or, with `override: false`, `insert`) action per
//! detected attribute. `env` reads `OTEL_RESOURCE_ATTRIBUTES`
//! (`k=v,k=v`, percent-decoded); `system` gives `host.name` (the OS host
//! name) and `os.type` (`linux`, `darwin`, `windows`, ... as Go names them).

use std::time::Duration;

use serde::Deserialize;

/// The accepted configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDetectionConfig {
    #[serde(default)]
    pub detectors: Vec<Detector>,
    #[serde(default = "yes", rename = "override")]
    pub override_existing: bool,
    #[serde(default)]
    pub system: SystemConfig,
    #[serde(default, deserialize_with = "super::units::opt_duration")]
    pub timeout: Option<Duration>,
}

fn yes() -> bool {
    true
}

/// A detector this host implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detector {
    Env,
    System,
}

/// `system:` settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    #[serde(default = "os_source")]
    pub hostname_sources: Vec<HostnameSource>,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            hostname_sources: os_source(),
        }
    }
}

/// Where `host.name` comes from. Only the OS host name is implemented
/// (the Go collector's `dns`, `cname` and `lookup` are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostnameSource {
    Os,
}

fn os_source() -> Vec<HostnameSource> {
    vec![HostnameSource::Os]
}

/// What detection reads from the machine; a seam for tests.
pub trait Machine {
    fn var(&self, name: &str) -> Option<String>;
    fn hostname(&self) -> Option<String>;
    fn os_type(&self) -> &'static str;
}

/// The machine weir runs on.
pub struct ThisMachine;

impl Machine for ThisMachine {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn hostname(&self) -> Option<String> {
        let from_proc = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
        let from_env = || std::env::var("HOSTNAME").ok();
        from_proc
            .or_else(from_env)
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
    }

    fn os_type(&self) -> &'static str {
        // Go's GOOS names, which the Go collector reports.
        match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        }
    }
}

/// Parses the block and detects; the `resource` plugin's config that
/// applies the result. An error starts with the key path.
pub fn resolve(
    block: &serde_json::Value,
    machine: &dyn Machine,
) -> Result<serde_json::Value, String> {
    let block = match block {
        serde_json::Value::Null => serde_json::json!({}),
        other => other.clone(),
    };
    let config: ResourceDetectionConfig = serde_path_to_error::deserialize(block).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })?;
    let detected = detect(&config, machine)?;
    let action = if config.override_existing {
        "upsert"
    } else {
        "insert"
    };
    let actions: Vec<serde_json::Value> = detected
        .into_iter()
        .map(|(key, value)| serde_json::json!({"key": key, "value": value, "action": action}))
        .collect();
    Ok(serde_json::json!({ "attributes": actions }))
}

/// The detected attributes, in detector order; the first detector to set
/// a key wins.
pub fn detect(
    config: &ResourceDetectionConfig,
    machine: &dyn Machine,
) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |key: String, value: String| {
        if !out.iter().any(|(k, _)| *k == key) {
            out.push((key, value));
        }
    };
    for (i, detector) in config.detectors.iter().enumerate() {
        match detector {
            Detector::Env => {
                let Some(text) = machine.var("OTEL_RESOURCE_ATTRIBUTES") else {
                    continue;
                };
                for (key, value) in parse_env_attributes(&text)
                    .map_err(|e| format!("detectors[{i}]: OTEL_RESOURCE_ATTRIBUTES: {e}"))?
                {
                    add(key, value);
                }
            }
            Detector::System => {
                for source in &config.system.hostname_sources {
                    match source {
                        HostnameSource::Os => {
                            let name = machine.hostname().ok_or_else(|| {
                                format!("detectors[{i}]: the OS did not give a host name")
                            })?;
                            add("host.name".into(), name);
                        }
                    }
                }
                add("os.type".into(), machine.os_type().into());
            }
        }
    }
    Ok(out)
}

/// `k=v,k=v` with keys and values trimmed and percent-decoded; empty
/// entries are skipped.
pub fn parse_env_attributes(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pair in text.split(',') {
        if pair.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!("`{pair}` is not key=value"));
        };
        let key = percent_decode(key.trim())?;
        if key.is_empty() {
            return Err(format!("`{pair}` has an empty key"));
        }
        out.push((key, percent_decode(value.trim())?));
    }
    Ok(out)
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent escape in `{text}`"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("`{text}` does not decode to UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(Option<&'static str>);

    impl Machine for Fake {
        fn var(&self, name: &str) -> Option<String> {
            (name == "OTEL_RESOURCE_ATTRIBUTES").then(|| self.0.map(str::to_owned))?
        }
        fn hostname(&self) -> Option<String> {
            Some("box-1".into())
        }
        fn os_type(&self) -> &'static str {
            "linux"
        }
    }

    #[test]
    fn env_attributes_are_split_trimmed_and_decoded() {
        assert_eq!(
            parse_env_attributes(" team = a%2Cb , deployment.environment=prod,,x=%E2%9C%93")
                .unwrap(),
            [
                ("team".to_owned(), "a,b".to_owned()),
                ("deployment.environment".into(), "prod".into()),
                ("x".into(), "✓".into()),
            ]
        );
        assert!(
            parse_env_attributes("novalue")
                .unwrap_err()
                .contains("not key=value")
        );
        assert!(
            parse_env_attributes("k=%zz")
                .unwrap_err()
                .contains("percent escape")
        );
    }

    #[test]
    fn detectors_run_in_order_and_the_first_wins() {
        let block = serde_json::json!({"detectors": ["env", "system"]});
        let config = resolve(&block, &Fake(Some("host.name=from-env,a=1"))).unwrap();
        assert_eq!(
            config,
            serde_json::json!({"attributes": [
                {"key": "host.name", "value": "from-env", "action": "upsert"},
                {"key": "a", "value": "1", "action": "upsert"},
                {"key": "os.type", "value": "linux", "action": "upsert"},
            ]})
        );
        let block = serde_json::json!({"detectors": ["system"], "override": false,
            "system": {"hostname_sources": ["os"]}, "timeout": "2s"});
        let config = resolve(&block, &Fake(None)).unwrap();
        assert_eq!(
            config["attributes"][0],
            serde_json::json!({"key": "host.name", "value": "box-1", "action": "insert"})
        );
    }

    #[test]
    fn unknown_detectors_and_sources_are_errors() {
        let err = resolve(&serde_json::json!({"detectors": ["gcp"]}), &Fake(None)).unwrap_err();
        assert!(
            err.starts_with("detectors[0]: unknown variant `gcp`"),
            "{err}"
        );
        let err = resolve(
            &serde_json::json!({"detectors": ["system"], "system": {"hostname_sources": ["dns"]}}),
            &Fake(None),
        )
        .unwrap_err();
        assert!(
            err.starts_with("system.hostname_sources[0]: unknown variant `dns`"),
            "{err}"
        );
        let err =
            resolve(&serde_json::json!({"detectors": ["env"]}), &Fake(Some("a"))).unwrap_err();
        assert!(
            err.starts_with("detectors[0]: OTEL_RESOURCE_ATTRIBUTES"),
            "{err}"
        );
    }
}
