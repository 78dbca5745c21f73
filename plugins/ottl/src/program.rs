//! The checked form of statements and conditions: every path resolved
//! against its context, every function known with the right arguments,
//! every regex compiled. Built by [`check`](crate::check); run by
//! [`eval`](crate::eval).

use crate::ast::CompareOp;
use crate::context::Context;
use crate::paths::ResolvedPath;
use crate::value::Value;
use regex::Regex;

/// A checked statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pub context: Context,
    pub editor: Editor,
    pub condition: Option<Condition>,
    /// As written, for run-time error messages.
    pub text: String,
}

/// A checked condition.
#[derive(Debug, Clone)]
pub enum Condition {
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Getter, CompareOp, Getter),
    Value(Getter),
}

/// `merge_maps` strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeStrategy {
    Insert,
    Update,
    Upsert,
}

/// `ConvertCase` targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Lower,
    Upper,
    Snake,
    Camel,
}

/// The editors: the functions a statement starts with.
#[derive(Debug, Clone)]
pub enum Editor {
    Set(ResolvedPath, Getter),
    DeleteKey(ResolvedPath, String),
    DeleteMatchingKeys(ResolvedPath, Regex),
    KeepKeys(ResolvedPath, Vec<String>),
    KeepMatchingKeys(ResolvedPath, Regex),
    Limit(ResolvedPath, usize, Vec<String>),
    TruncateAll(ResolvedPath, usize),
    ReplacePattern(ResolvedPath, Regex, Getter),
    /// `mode` is true for `"key"`, false for `"value"`.
    ReplaceAllPatterns(ResolvedPath, bool, Regex, Getter),
    /// The pattern is a glob, compiled to an anchored regex.
    ReplaceMatch(ResolvedPath, Regex, Getter),
    ReplaceAllMatches(ResolvedPath, Regex, Getter),
    MergeMaps(ResolvedPath, Getter, MergeStrategy),
}

/// Something that gives a value: a literal, a path, a list, a converter.
#[derive(Debug, Clone)]
pub enum Getter {
    Literal(Value),
    Path(ResolvedPath),
    List(Vec<Getter>),
    Concat(Vec<Getter>, String),
    IsMatch(Box<Getter>, Regex),
    Sha256(Box<Getter>),
    Int(Box<Getter>),
    String(Box<Getter>),
    ConvertCase(Box<Getter>, Case),
    Split(Box<Getter>, String),
    Substring(Box<Getter>, usize, usize),
    Len(Box<Getter>),
}

impl Getter {
    /// Whether the getter surely gives a bool (a bare condition must).
    pub fn is_boolean(&self) -> bool {
        matches!(
            self,
            Getter::Literal(Value::Bool(_)) | Getter::IsMatch(_, _)
        )
    }
}
