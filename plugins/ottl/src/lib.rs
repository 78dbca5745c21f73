//! The OpenTelemetry Transformation Language (OTTL) for Weir's `transform`
//! and `filter` plugins: statements and conditions are parsed
//! ([`parser`]), checked against their context when the config loads
//! ([`check`]: unknown functions, wrong arity, unknown paths and bad
//! regexes are errors with a column), and run over decoded OTLP requests
//! ([`walk`], [`eval`], [`editors`]); [`processor`] is the part of the
//! plugins' `Guest` they share. The grammar is in `GRAMMAR.md`.

pub mod ast;
pub mod check;
pub mod context;
pub mod editors;
pub mod error;
pub mod eval;
pub mod infer;
pub mod lexer;
pub mod parser;
pub mod paths;
pub mod processor;
pub mod program;
pub mod value;
pub mod walk;

pub use context::{Context, Item, SignalKind};
pub use error::{Error, ErrorMode, RunError, StatementError};
pub use program::{Condition, Statement};

/// Parses and checks a statement in `context`.
pub fn statement(text: &str, context: Context) -> Result<Statement, Error> {
    let parsed = parser::parse_statement(text)?;
    check::statement(text, &parsed, context)
}

/// Parses a statement and checks it in the deepest context its paths name
/// (`span.name` → span); the context must be one of `allowed`.
pub fn statement_inferred(text: &str, allowed: &[Context]) -> Result<Statement, Error> {
    let parsed = parser::parse_statement(text)?;
    let context = infer::infer_context(&parsed, allowed)?;
    check::statement(text, &parsed, context)
}

/// Parses and checks a condition in `context`.
pub fn condition(text: &str, context: Context) -> Result<Condition, Error> {
    let parsed = parser::parse_condition(text)?;
    check::condition(&parsed, context)
}
