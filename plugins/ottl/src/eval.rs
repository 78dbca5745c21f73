//! Running checked statements and conditions on one item: getters and
//! converters here, editors in [`editors`](crate::editors).

use crate::ast::CompareOp;
use crate::context::Item;
use crate::error::RunError;
use crate::paths;
use crate::program::{Case, Condition, Getter, Statement};
use crate::value::{Value, equal, hex, order};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use weir_plugin_sdk::otlp::AnyValue;

type Result<T> = std::result::Result<T, RunError>;

/// Runs `statement` on `item`: the editor runs when the `where` clause
/// (if any) holds. Returns whether the editor ran.
pub fn run(statement: &Statement, item: &mut Item<'_>) -> Result<bool> {
    if let Some(condition) = &statement.condition
        && !test(condition, item)?
    {
        return Ok(false);
    }
    crate::editors::apply(&statement.editor, item)?;
    Ok(true)
}

/// Evaluates a condition.
pub fn test(condition: &Condition, item: &Item<'_>) -> Result<bool> {
    Ok(match condition {
        Condition::Or(a, b) => test(a, item)? || test(b, item)?,
        Condition::And(a, b) => test(a, item)? && test(b, item)?,
        Condition::Not(a) => !test(a, item)?,
        Condition::Value(g) => get(g, item)?.is_true(),
        Condition::Compare(a, op, b) => {
            let (a, b) = (get(a, item)?, get(b, item)?);
            match op {
                CompareOp::Eq => equal(&a, &b),
                CompareOp::Ne => !equal(&a, &b),
                CompareOp::Lt => order(&a, &b) == Some(Ordering::Less),
                CompareOp::Le => matches!(order(&a, &b), Some(Ordering::Less | Ordering::Equal)),
                CompareOp::Gt => order(&a, &b) == Some(Ordering::Greater),
                CompareOp::Ge => matches!(order(&a, &b), Some(Ordering::Greater | Ordering::Equal)),
            }
        }
    })
}

fn type_error(function: &str, expected: &str, got: &Value) -> RunError {
    RunError(format!(
        "{function}: expected {expected} but got {}",
        got.type_name()
    ))
}

/// A string argument; anything else is a type error (as Go's StringGetter).
fn string_of(function: &str, g: &Getter, item: &Item<'_>) -> Result<String> {
    match get(g, item)? {
        Value::Str(s) => Ok(s),
        other => Err(type_error(function, "string", &other)),
    }
}

/// Evaluates a getter.
pub fn get(getter: &Getter, item: &Item<'_>) -> Result<Value> {
    Ok(match getter {
        Getter::Literal(v) => v.clone(),
        Getter::Path(p) => paths::get(item, p),
        Getter::List(items) => Value::List(
            items
                .iter()
                .map(|g| Ok(get(g, item)?.into_any().unwrap_or_default()))
                .collect::<Result<Vec<AnyValue>>>()?,
        ),
        Getter::Concat(items, delimiter) => {
            let parts = items
                .iter()
                .map(|g| {
                    Ok(match get(g, item)? {
                        Value::Nil => "<nil>".to_owned(),
                        v => v.to_text(),
                    })
                })
                .collect::<Result<Vec<String>>>()?;
            Value::Str(parts.join(delimiter))
        }
        Getter::IsMatch(target, regex) => match get(target, item)? {
            Value::Nil => Value::Bool(false),
            Value::Map(_) | Value::List(_) => Value::Bool(false),
            v => Value::Bool(regex.is_match(&v.to_text())),
        },
        Getter::Sha256(target) => {
            let text = string_of("SHA256", target, item)?;
            Value::Str(hex(&Sha256::digest(text.as_bytes())))
        }
        Getter::Int(target) => match get(target, item)? {
            Value::Int(i) => Value::Int(i),
            Value::Double(d) => Value::Int(d as i64),
            Value::Bool(b) => Value::Int(b as i64),
            Value::Str(s) => s.trim().parse().map(Value::Int).unwrap_or(Value::Nil),
            _ => Value::Nil,
        },
        Getter::String(target) => match get(target, item)? {
            Value::Nil => Value::Nil,
            v => Value::Str(v.to_text()),
        },
        Getter::ConvertCase(target, case) => {
            let text = string_of("ConvertCase", target, item)?;
            Value::Str(convert_case(&text, *case))
        }
        Getter::Split(target, delimiter) => {
            let text = string_of("Split", target, item)?;
            Value::List(
                text.split(delimiter.as_str())
                    .map(|s| Value::Str(s.to_owned()).into_any().unwrap_or_default())
                    .collect(),
            )
        }
        Getter::Substring(target, start, length) => {
            let text = string_of("Substring", target, item)?;
            let end = start + length;
            match text.get(*start..end) {
                Some(s) => Value::Str(s.to_owned()),
                None => {
                    return Err(RunError(format!(
                        "Substring: invalid range [{start}, {end}) for a string of length {}",
                        text.len()
                    )));
                }
            }
        }
        Getter::Len(target) => match get(target, item)? {
            Value::Str(s) => Value::Int(s.chars().count() as i64),
            Value::Bytes(b) => Value::Int(b.len() as i64),
            Value::Map(m) => Value::Int(m.len() as i64),
            Value::List(l) => Value::Int(l.len() as i64),
            other => return Err(type_error("Len", "a string, bytes, map or slice", &other)),
        },
    })
}

fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn convert_case(text: &str, case: Case) -> String {
    match case {
        Case::Lower => text.to_lowercase(),
        Case::Upper => text.to_uppercase(),
        Case::Snake => words(text)
            .iter()
            .map(|w| w.to_lowercase())
            .collect::<Vec<_>>()
            .join("_"),
        Case::Camel => words(text)
            .iter()
            .map(|w| {
                let lower = w.to_lowercase();
                let mut chars = lower.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(
            convert_case("httpRequest.Count", Case::Snake),
            "http_request_count"
        );
        assert_eq!(
            convert_case("http_request count", Case::Camel),
            "HttpRequestCount"
        );
        assert_eq!(convert_case("MiXeD", Case::Lower), "mixed");
    }
}
