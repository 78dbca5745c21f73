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
use weir_plugin_sdk::config::json_to_any_value;
use weir_plugin_sdk::otlp::AnyValue;

/// The configured actions, applied in order to each item's attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub actions: Vec<Action>,
}

/// One action on one attribute key.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub key: String,
    pub kind: Kind,
}

/// What an action does.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Insert(Source),
    Update(Source),
    Upsert(Source),
    Delete,
}

/// Where a written value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A literal from the config.
    Value(AnyValue),
    /// Another attribute of the same item; the action is skipped when it is absent.
    FromAttribute(String),
    /// The batch's context; the action is skipped when it has no value.
    FromContext(ContextKey),
}

/// What `from_context` can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextKey {
    /// `metadata.<name>` or a bare `<name>`: a request metadata entry
    /// (case-insensitive; several values are joined with `;` as in Go).
    Metadata(String),
    /// `weir.tenant`: the batch's tenant.
    Tenant,
    /// `weir.environment`: the environment the collector runs as.
    Environment,
    /// `weir.pipeline`: the pipeline id.
    Pipeline,
}

const TOP_LEVEL_UNSUPPORTED: [&str; 2] = ["include", "exclude"];
const ACTION_KEYS: [&str; 5] = ["key", "action", "value", "from_attribute", "from_context"];
const ACTION_UNSUPPORTED: [&str; 2] = ["pattern", "converted_type"];
const EXPECTED_ACTIONS: &str = "expected insert, update, upsert or delete";

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
        let actions = match root.get("actions") {
            Some(Value::Array(actions)) if !actions.is_empty() => actions,
            Some(Value::Array(_)) | None | Some(Value::Null) => {
                return Err("actions: at least one action is required".to_owned());
            }
            Some(_) => return Err("actions: expected a list of actions".to_owned()),
        };
        let actions = actions
            .iter()
            .enumerate()
            .map(|(i, action)| parse_action(action).map_err(|e| format!("actions[{i}]{e}")))
            .collect::<Result<_, _>>()?;
        Ok(Config { actions })
    }
}

/// Parses one action; errors start with `.field: ` or `: ` so that the caller
/// can prefix `actions[i]`.
fn parse_action(action: &Value) -> Result<Action, String> {
    let Value::Object(map) = action else {
        return Err(": expected a map with `key` and `action`".to_owned());
    };
    for key in map.keys() {
        if ACTION_UNSUPPORTED.contains(&key.as_str()) {
            return Err(format!(".{key}: not supported yet"));
        }
        if !ACTION_KEYS.contains(&key.as_str()) {
            return Err(format!(
                ".{key}: unknown key; expected key, action, value, from_attribute or from_context"
            ));
        }
    }
    let key = match map.get("key") {
        Some(Value::String(key)) if !key.is_empty() => key.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(": missing `key`".to_owned());
        }
        Some(_) => return Err(".key: expected a string".to_owned()),
    };
    let name = match map.get("action") {
        Some(Value::String(name)) => name.to_ascii_lowercase(),
        None | Some(Value::Null) => return Err(": missing `action`".to_owned()),
        Some(_) => return Err(format!(".action: expected a string; {EXPECTED_ACTIONS}")),
    };
    let kind = match name.as_str() {
        "insert" => Kind::Insert(parse_source(map, &name)?),
        "update" => Kind::Update(parse_source(map, &name)?),
        "upsert" => Kind::Upsert(parse_source(map, &name)?),
        "delete" => {
            if let Some(field) = present_sources(map).first() {
                return Err(format!(": delete does not take `{field}`"));
            }
            Kind::Delete
        }
        "hash" | "extract" | "convert" => {
            return Err(format!(
                ".action: `{name}` is not supported yet; {EXPECTED_ACTIONS}"
            ));
        }
        _ => {
            return Err(format!(
                ".action: unknown action `{name}`; {EXPECTED_ACTIONS}"
            ));
        }
    };
    Ok(Action { key, kind })
}

/// The value-source fields that are set (a `null` counts as not set).
fn present_sources(map: &Map<String, Value>) -> Vec<&'static str> {
    ["value", "from_attribute", "from_context"]
        .into_iter()
        .filter(|field| map.get(*field).is_some_and(|v| !v.is_null()))
        .collect()
}

fn parse_source(map: &Map<String, Value>, action: &str) -> Result<Source, String> {
    let present = present_sources(map);
    if present.len() != 1 {
        return Err(format!(
            ": {action} needs exactly one of value, from_attribute or from_context{}",
            if present.is_empty() {
                String::new()
            } else {
                format!(" (got {})", present.join(", "))
            }
        ));
    }
    let field = present[0];
    let value = &map[field];
    match field {
        "value" => Ok(Source::Value(json_to_any_value(value))),
        _ => {
            let Some(name) = value.as_str().filter(|s| !s.is_empty()) else {
                return Err(format!(".{field}: expected a non-empty string"));
            };
            if field == "from_attribute" {
                Ok(Source::FromAttribute(name.to_owned()))
            } else {
                parse_context_key(name).map(Source::FromContext)
            }
        }
    }
}

fn parse_context_key(name: &str) -> Result<ContextKey, String> {
    Ok(match name {
        "weir.tenant" => ContextKey::Tenant,
        "weir.environment" => ContextKey::Environment,
        "weir.pipeline" => ContextKey::Pipeline,
        _ if name.starts_with("auth.") || name == "client.address" => {
            return Err(format!(
                ".from_context: `{name}` is not supported yet; \
                 expected metadata.<key>, weir.tenant, weir.environment or weir.pipeline"
            ));
        }
        _ => ContextKey::Metadata(name.strip_prefix("metadata.").unwrap_or(name).to_owned()),
    })
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
