//! `${env:VAR}`, `${env:VAR:-default}` and `${VAR}` in config values, as the
//! OpenTelemetry Collector expands them; `$$` stands for a literal `$`.

use super::tree::{Node, Value};

/// Expands references in every string of the tree. A value that is exactly
/// one reference takes the variable's YAML type (`limit_mib: ${env:LIMIT}`
/// becomes a number). Returns the names of unset variables without defaults
/// (they expand to an empty string, as in the Go collector).
pub fn expand(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, (usize, String)> {
    let mut unset = Vec::new();
    expand_node(node, lookup, &mut unset)?;
    Ok(unset)
}

fn expand_node(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut Vec<String>,
) -> Result<(), (usize, String)> {
    match &mut node.value {
        Value::String(text) if text.contains('$') => {
            let whole = is_single_reference(text);
            let expanded = expand_str(text, lookup, unset).map_err(|e| (node.line, e))?;
            node.value = if whole {
                typed_scalar(expanded)
            } else {
                Value::String(expanded)
            };
        }
        Value::Seq(items) => {
            for item in items {
                expand_node(item, lookup, unset)?;
            }
        }
        Value::Map(entries) => {
            for (_, value) in entries {
                expand_node(value, lookup, unset)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn is_single_reference(text: &str) -> bool {
    text.starts_with("${") && text.ends_with('}') && text[2..].find('}') == Some(text.len() - 3)
}

/// A whole-value reference keeps the type its text has in YAML.
fn typed_scalar(text: String) -> Value {
    match Node::parse(&text).map(|n| n.value) {
        Ok(v @ (Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_))) => v,
        _ => Value::String(text),
    }
}

/// Expands the references in one string.
pub fn expand_str(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut Vec<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| {
                format!("unterminated `${{` in `{text}`: expected `${{env:NAME}}`")
            })?;
            let reference = &body[..end];
            let spec = reference.strip_prefix("env:").unwrap_or(reference);
            if spec.contains(':') && !spec.contains(":-") {
                return Err(format!(
                    "unsupported reference `${{{reference}}}`: only the `env` provider is available"
                ));
            }
            let (name, default) = match spec.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (spec, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "`${{{reference}}}`: `{name}` is not a valid environment variable name"
                ));
            }
            match (lookup(name), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => unset.push(name.to_string()),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.local".into()),
            "LIMIT" => Some("200".into()),
            _ => None,
        }
    }

    #[test]
    fn expands_references() {
        let mut unset = Vec::new();
        let got = expand_str("http://${env:HOST}:${PORT:-4318}/x$$y", &env, &mut unset).unwrap();
        assert_eq!(got, "http://db.local:4318/x$y");
        assert!(unset.is_empty());
        assert_eq!(expand_str("a${env:NOPE}b", &env, &mut unset).unwrap(), "ab");
        assert_eq!(unset, vec!["NOPE".to_string()]);
    }

    #[test]
    fn whole_references_are_typed() {
        let mut node = Node::parse("limit_mib: ${env:LIMIT}\nname: x${env:LIMIT}\n").unwrap();
        expand(&mut node, &env).unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({"limit_mib": 200, "name": "x200"})
        );
    }

    #[test]
    fn bad_references_are_errors() {
        let mut unset = Vec::new();
        assert!(
            expand_str("${env:HOST", &env, &mut unset)
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(
            expand_str("${file:/x}", &env, &mut unset)
                .unwrap_err()
                .contains("env")
        );
        assert!(
            expand_str("${env:A-B}", &env, &mut unset)
                .unwrap_err()
                .contains("not a valid")
        );
    }
}
