//! Parsing an action list from a component's config (as JSON). Errors start
//! with the list's field name and the action's index: `actions[2].action: …`.

use serde_json::{Map, Value};

use super::{Action, ContextKey, Kind, Source};
use crate::config::json_to_any_value;

const ACTION_KEYS: [&str; 5] = ["key", "action", "value", "from_attribute", "from_context"];
const ACTION_UNSUPPORTED: [&str; 2] = ["pattern", "converted_type"];
const EXPECTED_ACTIONS: &str = "expected insert, update, upsert or delete";

/// Parses the non-empty action list at `field` (`None` when it is absent).
pub fn parse_actions(list: Option<&Value>, field: &str) -> Result<Vec<Action>, String> {
    let actions = match list {
        Some(Value::Array(actions)) if !actions.is_empty() => actions,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(format!("{field}: at least one action is required"));
        }
        Some(_) => return Err(format!("{field}: expected a list of actions")),
    };
    actions
        .iter()
        .enumerate()
        .map(|(i, action)| parse_action(action).map_err(|e| format!("{field}[{i}]{e}")))
        .collect()
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
