//! Applying the configured actions to one item's attributes.

use crate::config::{Action, ContextKey, Kind, Source};
use weir_plugin_sdk::attributes;
use weir_plugin_sdk::otlp::{AnyValue, KeyValue, string_value};
use weir_plugin_sdk::processor::Context;

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
    use crate::config::Config;
    use weir_plugin_sdk::otlp::{int_value, key_value};

    pub(crate) fn ctx() -> Context {
        Context {
            tenant: "acme".into(),
            environment: String::new(),
            pipeline: "traces".into(),
            metadata: vec![("x-team".into(), "a".into()), ("X-Team".into(), "b".into())],
        }
    }

    fn run(config: &str, mut attrs: Vec<KeyValue>) -> Vec<KeyValue> {
        apply(&Config::parse(config).unwrap().actions, &ctx(), &mut attrs);
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
