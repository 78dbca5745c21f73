//! The context of a statement written without one (the flat
//! list-of-strings form): the deepest context its paths name.

use crate::ast::{self, BoolExpr, Expr};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::paths;

/// The deepest context the paths of `statement` name by prefix, for the
/// flat list-of-strings form. Errors when no path names one.
pub fn infer_context(parsed: &ast::Statement, allowed: &[Context]) -> Result<Context> {
    let mut found: Option<Context> = None;
    let mut visit = |path: &ast::Path| {
        if let Some(ctx) = paths::named_context(path)
            && found.is_none_or(|f| ctx.depth() > f.depth())
        {
            found = Some(ctx);
        }
    };
    for arg in &parsed.editor.args {
        walk_expr(arg, &mut visit);
    }
    if let Some(c) = &parsed.condition {
        walk_bool(c, &mut visit);
    }
    match found {
        Some(ctx) if allowed.contains(&ctx) => Ok(ctx),
        Some(ctx) => Err(Error::at(
            parsed.editor.column,
            format!(
                "the {} context does not belong to these statements",
                ctx.name()
            ),
        )),
        None => Err(Error::at(
            parsed.editor.column,
            format!(
                "cannot tell the context: start paths with one of {}",
                allowed
                    .iter()
                    .map(|c| format!("`{}.`", c.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn walk_expr(expr: &Expr, visit: &mut impl FnMut(&ast::Path)) {
    match expr {
        Expr::Path(p) => visit(p),
        Expr::Converter(call) => call.args.iter().for_each(|a| walk_expr(a, visit)),
        Expr::List(items, _) => items.iter().for_each(|a| walk_expr(a, visit)),
        Expr::Literal(..) | Expr::Enum(..) => {}
    }
}

fn walk_bool(expr: &BoolExpr, visit: &mut impl FnMut(&ast::Path)) {
    match expr {
        BoolExpr::Or(a, b) | BoolExpr::And(a, b) => {
            walk_bool(a, visit);
            walk_bool(b, visit);
        }
        BoolExpr::Not(a) => walk_bool(a, visit),
        BoolExpr::Compare(a, _, b) => {
            walk_expr(a, visit);
            walk_expr(b, visit);
        }
        BoolExpr::Value(v) => walk_expr(v, visit),
    }
}
