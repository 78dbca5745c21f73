//! A recursive-descent parser from tokens to the [`ast`](crate::ast); the
//! grammar is in the crate's `GRAMMAR.md`.

use crate::ast::*;
use crate::error::{Error, Result};
use crate::lexer::{Tok, Token, tokenize};

/// Parses `editor(args) [where condition]`.
pub fn parse_statement(text: &str) -> Result<Statement> {
    let mut p = Parser::new(text)?;
    let editor = match p.peek().clone() {
        Tok::Ident(name) if p.peek_at(1) == &Tok::LParen => {
            let column = p.column();
            p.next();
            p.call(name, column)?
        }
        _ => return Err(p.unexpected("an editor call such as `set(...)`")),
    };
    let condition = match p.peek() {
        Tok::Ident(w) if w == "where" => {
            p.next();
            Some(p.or_expr()?)
        }
        _ => None,
    };
    p.expect_end()?;
    Ok(Statement { editor, condition })
}

/// Parses a bare condition (a filter condition, a group's `conditions`).
pub fn parse_condition(text: &str) -> Result<BoolExpr> {
    let mut p = Parser::new(text)?;
    let expr = p.or_expr()?;
    p.expect_end()?;
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Int(i) => format!("`{i}`"),
        Tok::Float(f) => format!("`{f}`"),
        Tok::Bytes(_) => "a bytes literal".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Dot => "`.`".into(),
        Tok::Op(op) => format!("`{op}`"),
        Tok::End => "the end of the statement".into(),
    }
}

fn is_enum_symbol(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

impl Parser {
    fn new(text: &str) -> Result<Parser> {
        Ok(Parser {
            tokens: tokenize(text)?,
            pos: 0,
        })
    }

    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        let i = (self.pos + ahead).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }

    fn column(&self) -> usize {
        self.tokens[self.pos].column
    }

    fn next(&mut self) -> Tok {
        let tok = self.tokens[self.pos].tok.clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        tok
    }

    fn unexpected(&self, expected: &str) -> Error {
        Error::at(
            self.column(),
            format!("expected {expected}, found {}", describe(self.peek())),
        )
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<()> {
        if *self.peek() == tok {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn expect_end(&mut self) -> Result<()> {
        match self.peek() {
            Tok::End => Ok(()),
            _ => Err(self.unexpected("`where`, `and`, `or` or the end of the statement")),
        }
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w == word)
    }

    /// `name(` already consumed up to the name; parses `(args)`.
    fn call(&mut self, name: String, column: usize) -> Result<Call> {
        self.expect(Tok::LParen, "`(`")?;
        let mut args = Vec::new();
        if *self.peek() != Tok::RParen {
            loop {
                args.push(self.value()?);
                match self.peek() {
                    Tok::Comma => {
                        self.next();
                    }
                    Tok::RParen => break,
                    _ => return Err(self.unexpected("`,` or `)`")),
                }
            }
        }
        let end_column = self.column();
        self.expect(Tok::RParen, "`)`")?;
        Ok(Call {
            name,
            column,
            args,
            end_column,
        })
    }

    fn or_expr(&mut self) -> Result<BoolExpr> {
        let mut left = self.and_expr()?;
        while self.is_keyword("or") {
            self.next();
            let right = self.and_expr()?;
            left = BoolExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<BoolExpr> {
        let mut left = self.not_expr()?;
        while self.is_keyword("and") {
            self.next();
            let right = self.not_expr()?;
            left = BoolExpr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<BoolExpr> {
        if self.is_keyword("not") {
            self.next();
            return Ok(BoolExpr::Not(Box::new(self.not_expr()?)));
        }
        if *self.peek() == Tok::LParen {
            self.next();
            let inner = self.or_expr()?;
            self.expect(Tok::RParen, "`)`")?;
            return Ok(inner);
        }
        let left = self.value()?;
        if let Tok::Op(op) = *self.peek() {
            self.next();
            let right = self.value()?;
            return Ok(BoolExpr::Compare(left, CompareOp::from_token(op), right));
        }
        Ok(BoolExpr::Value(left))
    }

    fn value(&mut self) -> Result<Expr> {
        let column = self.column();
        let literal = |l| Ok(Expr::Literal(l, column));
        match self.peek().clone() {
            Tok::Str(s) => {
                self.next();
                literal(Literal::Str(s))
            }
            Tok::Int(i) => {
                self.next();
                literal(Literal::Int(i))
            }
            Tok::Float(f) => {
                self.next();
                literal(Literal::Float(f))
            }
            Tok::Bytes(b) => {
                self.next();
                literal(Literal::Bytes(b))
            }
            Tok::LBracket => {
                self.next();
                let mut items = Vec::new();
                if *self.peek() != Tok::RBracket {
                    loop {
                        items.push(self.value()?);
                        match self.peek() {
                            Tok::Comma => {
                                self.next();
                            }
                            Tok::RBracket => break,
                            _ => return Err(self.unexpected("`,` or `]`")),
                        }
                    }
                }
                self.next();
                Ok(Expr::List(items, column))
            }
            Tok::Ident(name) => {
                self.next();
                match name.as_str() {
                    "nil" => return literal(Literal::Nil),
                    "true" => return literal(Literal::Bool(true)),
                    "false" => return literal(Literal::Bool(false)),
                    "where" | "and" | "or" | "not" => {
                        return Err(Error::at(
                            column,
                            format!("expected a value, found keyword `{name}`"),
                        ));
                    }
                    _ => {}
                }
                if *self.peek() == Tok::LParen {
                    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                        return Err(Error::at(
                            column,
                            format!(
                                "`{name}` is an editor; only converters (capitalised, e.g. `Concat`) give values"
                            ),
                        ));
                    }
                    return Ok(Expr::Converter(self.call(name, column)?));
                }
                if is_enum_symbol(&name) && !matches!(self.peek(), Tok::Dot | Tok::LBracket) {
                    return Ok(Expr::Enum(name, column));
                }
                self.path(name, column).map(Expr::Path)
            }
            _ => Err(self.unexpected("a value (a path, literal, list or converter)")),
        }
    }

    fn path(&mut self, first: String, column: usize) -> Result<Path> {
        let mut names = vec![first];
        while *self.peek() == Tok::Dot {
            self.next();
            match self.next() {
                Tok::Ident(name) => names.push(name),
                other => {
                    return Err(Error::at(
                        self.tokens[self.pos.saturating_sub(1)].column,
                        format!(
                            "expected a field name after `.`, found {}",
                            describe(&other)
                        ),
                    ));
                }
            }
        }
        let mut keys = Vec::new();
        while *self.peek() == Tok::LBracket {
            self.next();
            let key = match self.peek().clone() {
                Tok::Str(s) => Key::Str(s),
                Tok::Int(i) => Key::Int(i),
                _ => return Err(self.unexpected("a string or integer key")),
            };
            self.next();
            self.expect(Tok::RBracket, "`]`")?;
            keys.push(key);
        }
        Ok(Path {
            names,
            keys,
            column,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_statement_with_condition() {
        let s = parse_statement(
            r#"set(attributes["a"], Concat([name, "x"], "-")) where kind == SPAN_KIND_SERVER and not (name == nil or attributes["b"] > 2)"#,
        )
        .unwrap();
        assert_eq!(s.editor.name, "set");
        assert_eq!(s.editor.args.len(), 2);
        let Expr::Path(p) = &s.editor.args[0] else {
            panic!()
        };
        assert_eq!(p.to_string(), r#"attributes["a"]"#);
        assert!(matches!(s.condition, Some(BoolExpr::And(_, _))));
    }

    #[test]
    fn errors_point_at_the_column() {
        let err = parse_statement(r#"set(name "x")"#).unwrap_err();
        assert_eq!(err.column, 10);
        assert!(err.message.contains("expected `,` or `)`"), "{err}");
        let err = parse_statement(r#"set(name, "x") where"#).unwrap_err();
        assert_eq!(err.column, 21);
        let err = parse_statement(r#"name == "x""#).unwrap_err();
        assert!(err.message.contains("expected an editor call"), "{err}");
        let err = parse_condition(r#"name == set(x)"#).unwrap_err();
        assert_eq!(err.column, 9);
    }
}
