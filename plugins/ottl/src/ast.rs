//! The parsed form of a statement or condition, before paths and functions
//! are checked against a context (see `check`).

/// `editor(args) [where condition]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub editor: Call,
    pub condition: Option<BoolExpr>,
}

/// A function call: `name(arg, ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub column: usize,
    pub args: Vec<Expr>,
    /// Column of the closing parenthesis (for "missing argument" errors).
    pub end_column: usize,
}

/// A value expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Literal, usize),
    /// A path, e.g. `resource.attributes["k"]`.
    Path(Path),
    /// An upper-case converter call, e.g. `Concat([a, b], "-")`.
    Converter(Call),
    /// `[a, b, c]`.
    List(Vec<Expr>, usize),
    /// An upper-case enum symbol, e.g. `SPAN_KIND_SERVER`.
    Enum(String, usize),
}

impl Expr {
    pub fn column(&self) -> usize {
        match self {
            Expr::Literal(_, c) | Expr::List(_, c) | Expr::Enum(_, c) => *c,
            Expr::Path(p) => p.column,
            Expr::Converter(call) => call.column,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
}

/// `a.b.c["k"][0]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub names: Vec<String>,
    pub keys: Vec<Key>,
    pub column: usize,
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names.join("."))?;
        for key in &self.keys {
            match key {
                Key::Str(s) => write!(f, "[\"{s}\"]")?,
                Key::Int(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Str(String),
    Int(i64),
}

/// A condition: `where` clauses and filter conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum BoolExpr {
    Or(Box<BoolExpr>, Box<BoolExpr>),
    And(Box<BoolExpr>, Box<BoolExpr>),
    Not(Box<BoolExpr>),
    Compare(Expr, CompareOp, Expr),
    /// `true`, `false`, or a converter returning a bool (`IsMatch(...)`).
    Value(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn from_token(op: &str) -> CompareOp {
        match op {
            "==" => CompareOp::Eq,
            "!=" => CompareOp::Ne,
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            ">" => CompareOp::Gt,
            _ => CompareOp::Ge,
        }
    }
}
