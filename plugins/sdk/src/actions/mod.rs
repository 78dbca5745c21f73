//! The OpenTelemetry Collector's attribute actions (`insert`, `update`,
//! `upsert`, `delete`, with `value`, `from_attribute` or `from_context`), as
//! the `attributes` and `resource` processors take them: parsing a config's
//! action list and applying it to one attribute list.
//!
//! ```yaml
//! - key: env                 # the attribute to act on (required)
//!   action: upsert           # insert | update | upsert | delete
//!   value: prod              # string, int, float, bool, list or map
//! - key: peer
//!   action: insert
//!   from_attribute: net.peer.name   # copy another attribute of the same item
//! - key: tenant
//!   action: upsert
//!   from_context: metadata.x-tenant # request metadata (see `ContextKey`)
//! ```

mod parse;

pub use parse::parse_actions;

use crate::attributes;
use crate::otlp::{AnyValue, KeyValue, string_value};
use crate::processor::Context;

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

/// Applies `actions`, in order, to one attribute list. A later action sees
/// what earlier ones wrote (as in the Go collector).
pub fn apply(actions: &[Action], ctx: &Context, attrs: &mut Vec<KeyValue>) {
    for action in actions {
        let key = action.key.as_str();
        match &action.kind {
            Kind::Insert(source) => {
                if attributes::get(attrs, key).is_none()
                    && let Some(value) = resolve(source, ctx, attrs)
                {
                    attributes::insert(attrs, key, value);
                }
            }
            Kind::Update(source) => {
                if attributes::get(attrs, key).is_some()
                    && let Some(value) = resolve(source, ctx, attrs)
                {
                    attributes::update(attrs, key, value);
                }
            }
            Kind::Upsert(source) => {
                if let Some(value) = resolve(source, ctx, attrs) {
                    attributes::upsert(attrs, key, value);
                }
            }
            Kind::Delete => {
                attributes::delete(attrs, key);
            }
        }
    }
}

/// The value an action writes, or `None` when its source has none (the
/// action is then skipped).
fn resolve(source: &Source, ctx: &Context, attrs: &[KeyValue]) -> Option<AnyValue> {
    match source {
        Source::Value(value) => Some(value.clone()),
        Source::FromAttribute(name) => attributes::get(attrs, name).cloned(),
        Source::FromContext(key) => context_value(key, ctx).map(string_value),
    }
}

/// The value `from_context` reads for `key`, if the context has one.
pub fn context_value(key: &ContextKey, ctx: &Context) -> Option<String> {
    match key {
        ContextKey::Tenant => Some(ctx.tenant.clone()),
        ContextKey::Environment => Some(ctx.environment.clone()).filter(|s| !s.is_empty()),
        ContextKey::Pipeline => Some(ctx.pipeline.clone()),
        ContextKey::Metadata(name) => {
            let values: Vec<&str> = ctx
                .metadata
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect();
            (!values.is_empty()).then(|| values.join(";"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{int_value, key_value};

    fn parse(json: &str) -> Vec<Action> {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        parse_actions(value.get("actions"), "actions").unwrap()
    }

    pub(crate) fn ctx() -> Context {
        Context {
            tenant: "acme".into(),
            environment: String::new(),
            pipeline: "traces".into(),
            metadata: vec![("x-team".into(), "a".into()), ("X-Team".into(), "b".into())],
        }
    }

    fn run(config: &str, mut attrs: Vec<KeyValue>) -> Vec<KeyValue> {
        apply(&parse(config), &ctx(), &mut attrs);
        attrs
    }

    #[test]
    fn from_attribute_copies_and_skips_when_absent() {
        let attrs = run(
            r#"{"actions": [{"key": "copy", "action": "insert", "from_attribute": "src"},
                             {"key": "none", "action": "upsert", "from_attribute": "missing"}]}"#,
            vec![key_value("src", int_value(7))],
        );
        assert_eq!(
            attrs,
            vec![
                key_value("src", int_value(7)),
                key_value("copy", int_value(7))
            ]
        );
    }

    #[test]
    fn from_context_reads_metadata_and_tenant() {
        let attrs = run(
            r#"{"actions": [{"key": "team", "action": "insert", "from_context": "metadata.X-TEAM"},
                             {"key": "tenant", "action": "insert", "from_context": "weir.tenant"},
                             {"key": "env", "action": "insert", "from_context": "weir.environment"},
                             {"key": "gone", "action": "insert", "from_context": "absent"}]}"#,
            vec![],
        );
        assert_eq!(
            attrs,
            vec![
                key_value("team", string_value("a;b")),
                key_value("tenant", string_value("acme"))
            ]
        );
    }

    #[test]
    fn later_actions_see_earlier_ones() {
        let attrs = run(
            r#"{"actions": [{"key": "a", "action": "insert", "value": "1"},
                             {"key": "b", "action": "insert", "from_attribute": "a"},
                             {"key": "a", "action": "delete"}]}"#,
            vec![],
        );
        assert_eq!(attrs, vec![key_value("b", string_value("1"))]);
    }
}
