//! The attributes processor's configuration, in the OpenTelemetry
//! Collector's shape:
//!
//! ```yaml
//! actions:
//!   - key: env                 # the attribute to act on (required)
//!     action: upsert           # insert | update | upsert | delete
//!     value: prod              # string, int, float, bool, list or map
//!   - key: peer
//!     action: insert
//!     from_attribute: net.peer.name   # copy another attribute of the same item
//!   - key: tenant
//!     action: upsert
//!     from_context: metadata.x-tenant # request metadata (see `ContextKey`)
//! ```
//!
//! `insert` adds the attribute only if absent, `update` changes it only if
//! present, `upsert` does either, `delete` removes it. The Go collector's
//! `pattern`, `converted_type`, `include`, `exclude` and the `hash`,
//! `extract` and `convert` actions are not supported yet: they are refused
//! by name rather than ignored.

use serde_json::{Map, Value};
pub use weir_plugin_sdk::actions::{Action, ContextKey, Kind, Source};

/// The configured actions, applied in order to each item's attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub actions: Vec<Action>,
}

const TOP_LEVEL_UNSUPPORTED: [&str; 2] = ["include", "exclude"];

impl Config {
    /// Parses the component's config block (as JSON).
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let root: Value = serde_json::from_str(config_json)
            .map_err(|e| format!("config is not valid JSON: {e}"))?;
        let root = match root {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => return Err("expected a map with an `actions` list".to_owned()),
        };
        for key in root.keys() {
            if TOP_LEVEL_UNSUPPORTED.contains(&key.as_str()) {
                return Err(format!("{key}: not supported yet; only `actions` is"));
            }
            if key != "actions" {
                return Err(format!("{key}: unknown key; expected actions"));
            }
        }
        let actions = weir_plugin_sdk::actions::parse_actions(root.get("actions"), "actions")?;
        Ok(Config { actions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin_sdk::otlp::{int_value, string_value};

    fn err(json: &str) -> String {
        Config::parse(json).unwrap_err()
    }

    #[test]
    fn parses_every_supported_action() {
        let config = Config::parse(
            r#"{"actions": [
                {"key": "a", "action": "insert", "value": "x"},
                {"key": "b", "action": "UPDATE", "value": 3},
                {"key": "c", "action": "upsert", "from_attribute": "a"},
                {"key": "d", "action": "upsert", "from_context": "metadata.X-Tenant"},
                {"key": "e", "action": "insert", "from_context": "weir.tenant"},
                {"key": "f", "action": "delete"}
            ]}"#,
        )
        .unwrap();
        use Kind::*;
        let kinds: Vec<_> = config.actions.iter().map(|a| a.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                Insert(Source::Value(string_value("x"))),
                Update(Source::Value(int_value(3))),
                Upsert(Source::FromAttribute("a".into())),
                Upsert(Source::FromContext(ContextKey::Metadata("X-Tenant".into()))),
                Insert(Source::FromContext(ContextKey::Tenant)),
                Delete,
            ]
        );
    }

    #[test]
    fn refuses_unsupported_actions_and_keys_by_name() {
        let json = r#"{"actions": [{"key": "a", "action": "delete"}, {"key": "b", "action": "delete"},
                       {"key": "c", "action": "hash"}]}"#;
        assert_eq!(
            err(json),
            "actions[2].action: `hash` is not supported yet; expected insert, update, upsert or delete"
        );
        assert!(
            err(r#"{"actions": [{"key": "a", "action": "extract"}]}"#)
                .contains("`extract` is not supported yet")
        );
        assert!(
            err(r#"{"actions": [{"key": "a", "action": "convert"}]}"#)
                .contains("`convert` is not supported yet")
        );
        assert_eq!(
            err(r#"{"actions": [{"pattern": "a.*", "action": "delete"}]}"#),
            "actions[0].pattern: not supported yet"
        );
        assert!(err(r#"{"include": {}, "actions": []}"#).starts_with("include: not supported yet"));
        assert!(err(r#"{"exclude": {}, "actions": []}"#).starts_with("exclude: not supported yet"));
        assert!(err(r#"{"actionz": []}"#).starts_with("actionz: unknown key"));
        assert!(
            err(r#"{"actions": [{"key": "a", "action": "delete", "colour": 1}]}"#)
                .starts_with("actions[0].colour: unknown key")
        );
        assert!(
            err(r#"{"actions": [{"key": "a", "action": "frobnicate"}]}"#)
                .starts_with("actions[0].action: unknown action `frobnicate`")
        );
    }

    #[test]
    fn requires_a_key_and_exactly_one_source() {
        assert_eq!(
            err(r#"{"actions": [{"action": "insert", "value": 1}]}"#),
            "actions[0]: missing `key`"
        );
        assert_eq!(
            err(r#"{"actions": [{"key": "a", "action": "upsert"}]}"#),
            "actions[0]: upsert needs exactly one of value, from_attribute or from_context"
        );
        assert_eq!(
            err(
                r#"{"actions": [{"key": "a", "action": "insert", "value": 1, "from_attribute": "b"}]}"#
            ),
            "actions[0]: insert needs exactly one of value, from_attribute or from_context (got value, from_attribute)"
        );
        assert_eq!(
            err(r#"{"actions": [{"key": "a", "action": "delete", "value": 1}]}"#),
            "actions[0]: delete does not take `value`"
        );
        assert_eq!(err("{}"), "actions: at least one action is required");
        assert!(
            err(r#"{"actions": [{"key": "a", "action": "insert", "from_context": "auth.sub"}]}"#)
                .starts_with("actions[0].from_context: `auth.sub` is not supported yet")
        );
    }
}
