//! Checks a parsed statement against its context and turns it into a
//! [`program`](crate::program): functions must exist with the right number
//! and kind of arguments, paths must exist in the context, regexes must
//! compile. Every error points at a column.

use crate::ast::{self, BoolExpr, Call, Expr, Literal};
use crate::context::{Context, enum_value};
use crate::error::{Error, Result};
use crate::paths::{self, ResolvedPath};
use crate::program::{Case, Condition, Editor, Getter, MergeStrategy, Statement};
use crate::value::Value;
use regex::Regex;

/// Editors and their parameters, for arity errors and the docs.
pub const EDITORS: &[(&str, &[&str])] = &[
    ("set", &["target", "value"]),
    ("delete_key", &["target", "key"]),
    ("delete_matching_keys", &["target", "pattern"]),
    ("keep_keys", &["target", "keys"]),
    ("keep_matching_keys", &["target", "pattern"]),
    ("limit", &["target", "limit", "priority_keys"]),
    ("truncate_all", &["target", "limit"]),
    ("replace_pattern", &["target", "regex", "replacement"]),
    (
        "replace_all_patterns",
        &["target", "mode", "regex", "replacement"],
    ),
    ("replace_match", &["target", "pattern", "replacement"]),
    ("replace_all_matches", &["target", "pattern", "replacement"]),
    ("merge_maps", &["target", "source", "strategy"]),
];

/// Converters and their parameters.
pub const CONVERTERS: &[(&str, &[&str])] = &[
    ("Concat", &["values", "delimiter"]),
    ("IsMatch", &["target", "pattern"]),
    ("SHA256", &["value"]),
    ("Int", &["value"]),
    ("String", &["value"]),
    ("ConvertCase", &["target", "toCase"]),
    ("Split", &["target", "delimiter"]),
    ("Substring", &["target", "start", "length"]),
    ("Len", &["target"]),
];

fn names(table: &[(&str, &[&str])]) -> String {
    table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// Checks `statement` (parsed from `text`) in `context`.
pub fn statement(text: &str, parsed: &ast::Statement, context: Context) -> Result<Statement> {
    let editor = editor(&parsed.editor, context)?;
    let condition = parsed
        .condition
        .as_ref()
        .map(|c| condition(c, context))
        .transpose()?;
    Ok(Statement {
        context,
        editor,
        condition,
        text: text.to_owned(),
    })
}

/// Checks a condition in `context`.
pub fn condition(expr: &BoolExpr, context: Context) -> Result<Condition> {
    Ok(match expr {
        BoolExpr::Or(a, b) => Condition::Or(
            Box::new(condition(a, context)?),
            Box::new(condition(b, context)?),
        ),
        BoolExpr::And(a, b) => Condition::And(
            Box::new(condition(a, context)?),
            Box::new(condition(b, context)?),
        ),
        BoolExpr::Not(a) => Condition::Not(Box::new(condition(a, context)?)),
        BoolExpr::Compare(a, op, b) => {
            Condition::Compare(getter(a, context)?, *op, getter(b, context)?)
        }
        BoolExpr::Value(v) => {
            let g = getter(v, context)?;
            if !g.is_boolean() {
                return Err(Error::at(
                    v.column(),
                    "expected a condition: a comparison, `true`, `false` or a converter giving a bool such as IsMatch",
                ));
            }
            Condition::Value(g)
        }
    })
}

fn arity(call: &Call, table: &[(&str, &[&str])]) -> Result<()> {
    let params = table
        .iter()
        .find(|(n, _)| *n == call.name)
        .map(|(_, p)| *p)
        .expect("name checked by the caller");
    if call.args.len() != params.len() {
        let column = if call.args.len() > params.len() {
            call.args[params.len()].column()
        } else {
            call.end_column
        };
        return Err(Error::at(
            column,
            format!(
                "`{}` takes {} argument{} ({}), got {}",
                call.name,
                params.len(),
                if params.len() == 1 { "" } else { "s" },
                params.join(", "),
                call.args.len()
            ),
        ));
    }
    Ok(())
}

fn editor(call: &Call, ctx: Context) -> Result<Editor> {
    if !EDITORS.iter().any(|(n, _)| *n == call.name) {
        let message = if CONVERTERS.iter().any(|(n, _)| *n == call.name) {
            format!(
                "`{}` is a converter; a statement starts with an editor: {}",
                call.name,
                names(EDITORS)
            )
        } else {
            format!(
                "unknown editor `{}`; expected one of {}",
                call.name,
                names(EDITORS)
            )
        };
        return Err(Error::at(call.column, message));
    }
    arity(call, EDITORS)?;
    let a = &call.args;
    Ok(match call.name.as_str() {
        "set" => Editor::Set(target(&a[0], ctx)?, getter(&a[1], ctx)?),
        "delete_key" => Editor::DeleteKey(map_target(&a[0], ctx)?, string(&a[1])?),
        "delete_matching_keys" => {
            Editor::DeleteMatchingKeys(map_target(&a[0], ctx)?, regex(&a[1])?)
        }
        "keep_keys" => Editor::KeepKeys(map_target(&a[0], ctx)?, strings(&a[1])?),
        "keep_matching_keys" => Editor::KeepMatchingKeys(map_target(&a[0], ctx)?, regex(&a[1])?),
        "limit" => {
            let limit = non_negative(&a[1])?;
            let keys = strings(&a[2])?;
            if keys.len() > limit {
                return Err(Error::at(
                    a[2].column(),
                    format!("{} priority keys exceed the limit of {limit}", keys.len()),
                ));
            }
            Editor::Limit(map_target(&a[0], ctx)?, limit, keys)
        }
        "truncate_all" => Editor::TruncateAll(map_target(&a[0], ctx)?, non_negative(&a[1])?),
        "replace_pattern" => {
            Editor::ReplacePattern(target(&a[0], ctx)?, regex(&a[1])?, getter(&a[2], ctx)?)
        }
        "replace_all_patterns" => {
            let mode = match string(&a[1])?.as_str() {
                "key" => true,
                "value" => false,
                other => {
                    return Err(Error::at(
                        a[1].column(),
                        format!("invalid mode \"{other}\"; expected \"key\" or \"value\""),
                    ));
                }
            };
            Editor::ReplaceAllPatterns(
                map_target(&a[0], ctx)?,
                mode,
                regex(&a[2])?,
                getter(&a[3], ctx)?,
            )
        }
        "replace_match" => {
            Editor::ReplaceMatch(target(&a[0], ctx)?, glob(&a[1])?, getter(&a[2], ctx)?)
        }
        "replace_all_matches" => {
            Editor::ReplaceAllMatches(map_target(&a[0], ctx)?, glob(&a[1])?, getter(&a[2], ctx)?)
        }
        "merge_maps" => {
            let strategy = match string(&a[2])?.as_str() {
                "insert" => MergeStrategy::Insert,
                "update" => MergeStrategy::Update,
                "upsert" => MergeStrategy::Upsert,
                other => {
                    return Err(Error::at(
                        a[2].column(),
                        format!(
                            "invalid strategy \"{other}\"; expected \"insert\", \"update\" or \"upsert\""
                        ),
                    ));
                }
            };
            Editor::MergeMaps(map_target(&a[0], ctx)?, getter(&a[1], ctx)?, strategy)
        }
        _ => unreachable!("every editor is matched"),
    })
}

fn converter(call: &Call, ctx: Context) -> Result<Getter> {
    if !CONVERTERS.iter().any(|(n, _)| *n == call.name) {
        return Err(Error::at(
            call.column,
            format!(
                "unknown converter `{}`; expected one of {}",
                call.name,
                names(CONVERTERS)
            ),
        ));
    }
    arity(call, CONVERTERS)?;
    let a = &call.args;
    let boxed = |e: &Expr| getter(e, ctx).map(Box::new);
    Ok(match call.name.as_str() {
        "Concat" => {
            let Expr::List(items, _) = &a[0] else {
                return Err(Error::at(
                    a[0].column(),
                    "expected a list of values, e.g. [a, b]",
                ));
            };
            let items = items
                .iter()
                .map(|e| getter(e, ctx))
                .collect::<Result<_>>()?;
            Getter::Concat(items, string(&a[1])?)
        }
        "IsMatch" => Getter::IsMatch(boxed(&a[0])?, regex(&a[1])?),
        "SHA256" => Getter::Sha256(boxed(&a[0])?),
        "Int" => Getter::Int(boxed(&a[0])?),
        "String" => Getter::String(boxed(&a[0])?),
        "ConvertCase" => {
            let case = match string(&a[1])?.as_str() {
                "lower" => Case::Lower,
                "upper" => Case::Upper,
                "snake" => Case::Snake,
                "camel" => Case::Camel,
                other => {
                    return Err(Error::at(
                        a[1].column(),
                        format!(
                            "invalid case \"{other}\"; expected \"lower\", \"upper\", \"snake\" or \"camel\""
                        ),
                    ));
                }
            };
            Getter::ConvertCase(boxed(&a[0])?, case)
        }
        "Split" => Getter::Split(boxed(&a[0])?, string(&a[1])?),
        "Substring" => {
            let length = non_negative(&a[2])?;
            if length == 0 {
                return Err(Error::at(a[2].column(), "length must be greater than 0"));
            }
            Getter::Substring(boxed(&a[0])?, non_negative(&a[1])?, length)
        }
        "Len" => Getter::Len(boxed(&a[0])?),
        _ => unreachable!("every converter is matched"),
    })
}

/// Any value expression.
pub fn getter(expr: &Expr, ctx: Context) -> Result<Getter> {
    Ok(match expr {
        Expr::Literal(l, _) => Getter::Literal(literal(l)),
        Expr::Path(p) => Getter::Path(paths::resolve(p, ctx)?),
        Expr::Converter(call) => converter(call, ctx)?,
        Expr::List(items, _) => Getter::List(
            items
                .iter()
                .map(|e| getter(e, ctx))
                .collect::<Result<_>>()?,
        ),
        Expr::Enum(name, column) => match enum_value(name) {
            Some(v) => Getter::Literal(Value::Int(v)),
            None => return Err(Error::at(*column, format!("unknown enum symbol `{name}`"))),
        },
    })
}

fn literal(l: &Literal) -> Value {
    match l {
        Literal::Nil => Value::Nil,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(i) => Value::Int(*i),
        Literal::Float(f) => Value::Double(*f),
        Literal::Str(s) => Value::Str(s.clone()),
        Literal::Bytes(b) => Value::Bytes(b.clone()),
    }
}

/// A writable path.
fn target(expr: &Expr, ctx: Context) -> Result<ResolvedPath> {
    let Expr::Path(p) = expr else {
        return Err(Error::at(
            expr.column(),
            "expected a path to write, e.g. attributes[\"key\"]",
        ));
    };
    let resolved = paths::resolve(p, ctx)?;
    paths::check_writable(&resolved, p.column)?;
    Ok(resolved)
}

/// A path that may hold a map (`attributes`, `body`, or a key under them).
fn map_target(expr: &Expr, ctx: Context) -> Result<ResolvedPath> {
    let resolved = target(expr, ctx)?;
    if !resolved.may_be_map() {
        return Err(Error::at(
            expr.column(),
            format!(
                "expected a map such as attributes, but `{}` is not one",
                resolved.text
            ),
        ));
    }
    Ok(resolved)
}

fn string(expr: &Expr) -> Result<String> {
    match expr {
        Expr::Literal(Literal::Str(s), _) => Ok(s.clone()),
        other => Err(Error::at(other.column(), "expected a string literal")),
    }
}

fn strings(expr: &Expr) -> Result<Vec<String>> {
    match expr {
        Expr::List(items, _) => items.iter().map(string).collect(),
        other => Err(Error::at(
            other.column(),
            "expected a list of strings, e.g. [\"a\", \"b\"]",
        )),
    }
}

fn non_negative(expr: &Expr) -> Result<usize> {
    match expr {
        Expr::Literal(Literal::Int(i), c) => usize::try_from(*i)
            .map_err(|_| Error::at(*c, format!("expected a non-negative integer, got {i}"))),
        other => Err(Error::at(other.column(), "expected an integer literal")),
    }
}

fn regex(expr: &Expr) -> Result<Regex> {
    let pattern = string(expr)?;
    Regex::new(&pattern).map_err(|e| {
        // The regex crate's message spans lines; keep the last (the reason).
        let reason = e.to_string();
        let reason = reason
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_owned();
        Error::at(
            expr.column(),
            format!("invalid regex \"{pattern}\": {reason}"),
        )
    })
}

/// A glob (`*`, `?`, `[...]`, `{a,b}`) as an anchored regex.
fn glob(expr: &Expr) -> Result<Regex> {
    let pattern = string(expr)?;
    let mut re = String::from("^");
    let mut in_braces = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                re.push('[');
                if chars.peek() == Some(&'!') {
                    chars.next();
                    re.push('^');
                }
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    if c == '\\' || c == '[' {
                        re.push('\\');
                    }
                    re.push(c);
                }
                re.push(']');
            }
            '{' => {
                in_braces = true;
                re.push_str("(?:");
            }
            '}' if in_braces => {
                in_braces = false;
                re.push(')');
            }
            ',' if in_braces => re.push('|'),
            '\\' => {
                if let Some(next) = chars.next() {
                    re.push_str(&regex::escape(&next.to_string()));
                }
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re)
        .map_err(|e| Error::at(expr.column(), format!("invalid pattern \"{pattern}\": {e}")))
}
