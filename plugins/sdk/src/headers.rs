//! `headers_setter`: headers an exporter adds to each request from the
//! batch's context (its tenant, or request metadata the config lets
//! through) or from a fixed value — the shape of the OpenTelemetry
//! Collector's `headers_setter` extension, as an exporter key:
//!
//! ```yaml
//! headers_setter:
//!   - {key: X-Scope-OrgID, from_context: tenant}           # the batch's tenant
//!   - {key: X-Team, from_context: x-team, default_value: none}  # request metadata
//!   - {key: X-Source, value: weir}
//! ```
//!
//! `from_context: tenant` is the batch's tenant; any other name is looked
//! up in the request metadata (case-insensitively). When the context has
//! no value, `default_value` is sent, or no header at all.

use serde::Deserialize;

use crate::exporter::Context;

/// One header to set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSetter {
    /// The header's name.
    pub key: String,
    /// A fixed value.
    #[serde(default)]
    pub value: Option<String>,
    /// `tenant`, or the name of a request metadata key.
    #[serde(default)]
    pub from_context: Option<String>,
    /// Sent when `from_context` finds nothing.
    #[serde(default)]
    pub default_value: Option<String>,
}

/// The context key that stands for the batch's tenant.
pub const TENANT: &str = "tenant";

/// Checks a `headers_setter` list: each item has a valid header name and
/// exactly one of `value` and `from_context`. An error names the item
/// (`headers_setter[1].key: ...`).
pub fn check(setters: &[HeaderSetter]) -> Result<(), String> {
    for (i, s) in setters.iter().enumerate() {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if s.key.is_empty() || !s.key.chars().all(token) {
            return Err(format!(
                "headers_setter[{i}].key: `{}` is not an HTTP header name",
                s.key
            ));
        }
        if s.value.is_some() == s.from_context.is_some() {
            return Err(format!(
                "headers_setter[{i}]: expected exactly one of `value` and `from_context`"
            ));
        }
        if s.value.is_some() && s.default_value.is_some() {
            return Err(format!(
                "headers_setter[{i}].default_value: only used with `from_context`"
            ));
        }
    }
    Ok(())
}

/// The headers `setters` give for a batch with context `ctx`, in order.
pub fn resolve(setters: &[HeaderSetter], ctx: &Context) -> Vec<(String, String)> {
    setters
        .iter()
        .filter_map(|s| {
            let value = match (&s.value, &s.from_context) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(key)) if key == TENANT => {
                    Some(ctx.tenant.clone()).filter(|t| !t.is_empty())
                }
                (None, Some(key)) => ctx
                    .metadata
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.clone()),
                (None, None) => None,
            };
            value
                .or_else(|| s.default_value.clone())
                .map(|v| (s.key.to_ascii_lowercase(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(tenant: &str, metadata: &[(&str, &str)]) -> Context {
        Context {
            tenant: tenant.into(),
            environment: "test".into(),
            pipeline: "traces".into(),
            metadata: metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn setters(json: &str) -> Vec<HeaderSetter> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn sets_the_tenant_metadata_and_fixed_values() {
        let s = setters(
            r#"[{"key": "X-Scope-OrgID", "from_context": "tenant"},
                {"key": "X-Team", "from_context": "x-team", "default_value": "none"},
                {"key": "X-Source", "value": "weir"}]"#,
        );
        check(&s).unwrap();
        assert_eq!(
            resolve(&s, &ctx("acme", &[("X-TEAM", "payments")])),
            vec![
                ("x-scope-orgid".into(), "acme".into()),
                ("x-team".into(), "payments".into()),
                ("x-source".into(), "weir".into()),
            ]
        );
        // Nothing in the context: the default, or no header.
        assert_eq!(
            resolve(&s[..2], &ctx("", &[])),
            vec![("x-team".into(), "none".into())]
        );
    }

    #[test]
    fn refuses_bad_items_by_index() {
        let err = check(&setters(
            r#"[{"key": "a", "value": "b"}, {"key": "b c", "value": "d"}]"#,
        ))
        .unwrap_err();
        assert!(err.starts_with("headers_setter[1].key:"), "{err}");
        let err = check(&setters(r#"[{"key": "a"}]"#)).unwrap_err();
        assert!(
            err.contains("exactly one of `value` and `from_context`"),
            "{err}"
        );
        let err =
            serde_json::from_str::<Vec<HeaderSetter>>(r#"[{"key": "a", "action": "insert"}]"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("unknown field `action`"), "{err}");
    }
}
