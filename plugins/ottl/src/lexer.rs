//! Splits a statement into tokens, each with the column (1-based, in
//! characters) where it starts, so that every later error can point at it.

use crate::error::{Error, Result};

/// One token of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier or keyword (`set`, `attributes`, `where`, `and`, `nil`, ...).
    Ident(String),
    /// A double-quoted string, escapes resolved.
    Str(String),
    Int(i64),
    Float(f64),
    /// `0x...` bytes.
    Bytes(Vec<u8>),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    /// `== != < <= > >=`.
    Op(&'static str),
    End,
}

/// A token and the column it starts at.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub column: usize,
}

/// Tokenizes `text`; the last token is always [`Tok::End`].
pub fn tokenize(text: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let single = |tok| Token { tok, column };
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '(' => tokens.push(single(Tok::LParen)),
            ')' => tokens.push(single(Tok::RParen)),
            '[' => tokens.push(single(Tok::LBracket)),
            ']' => tokens.push(single(Tok::RBracket)),
            ',' => tokens.push(single(Tok::Comma)),
            '.' if !chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                tokens.push(single(Tok::Dot))
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let op = match (c, next) {
                    ('=', Some('=')) => "==",
                    ('!', Some('=')) => "!=",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', _) => "<",
                    ('>', _) => ">",
                    _ => {
                        return Err(Error::at(
                            column,
                            format!("unexpected `{c}`; comparisons are == != < <= > >="),
                        ));
                    }
                };
                tokens.push(single(Tok::Op(op)));
                i += op.len();
                continue;
            }
            '"' => {
                let (s, next) = string(&chars, i)?;
                tokens.push(single(Tok::Str(s)));
                i = next;
                continue;
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let (tok, next) = number(&chars, i)?;
                tokens.push(single(tok));
                i = next;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let ident: String = chars[start..i].iter().collect();
                tokens.push(single(Tok::Ident(ident)));
                continue;
            }
            other => return Err(Error::at(column, format!("unexpected character `{other}`"))),
        }
        i += 1;
    }
    tokens.push(Token {
        tok: Tok::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

/// A string starting at the `"` at `start`; returns it and the index after
/// the closing quote. Escapes: `\"`, `\\`, `\n`, `\t`, `\r`.
fn string(chars: &[char], start: usize) -> Result<(String, usize)> {
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let escaped = match chars.get(i + 1) {
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    // Regexes keep their own escapes (`\d`, `\.`): pass them through.
                    Some(other) => {
                        out.push('\\');
                        *other
                    }
                    None => break,
                };
                out.push(escaped);
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(Error::at(start + 1, "unterminated string: no closing `\"`"))
}

/// A number (int, float, or `0x` bytes) starting at `start`.
fn number(chars: &[char], start: usize) -> Result<(Tok, usize)> {
    let mut i = start;
    if chars[i] == '-' || chars[i] == '+' {
        i += 1;
    }
    if chars.get(i) == Some(&'0') && matches!(chars.get(i + 1), Some('x') | Some('X')) {
        let digits_start = i + 2;
        let mut end = digits_start;
        while end < chars.len() && chars[end].is_ascii_hexdigit() {
            end += 1;
        }
        let hex: String = chars[digits_start..end].iter().collect();
        if hex.is_empty() || !hex.len().is_multiple_of(2) {
            return Err(Error::at(
                start + 1,
                "bytes literal needs an even number of hex digits",
            ));
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|k| u8::from_str_radix(&hex[k..k + 2], 16).expect("hex digits"))
            .collect();
        return Ok((Tok::Bytes(bytes), end));
    }
    let mut float = false;
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
        float |= chars[i] == '.';
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    let bad = || Error::at(start + 1, format!("invalid number `{text}`"));
    if float {
        text.parse().map(|f| (Tok::Float(f), i)).map_err(|_| bad())
    } else {
        text.parse().map(|n| (Tok::Int(n), i)).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_columns() {
        let tokens = tokenize(r#"set(attributes["a"], 1.5) where x >= -2"#).unwrap();
        let cols: Vec<_> = tokens.iter().map(|t| t.column).collect();
        assert_eq!(tokens[0].tok, Tok::Ident("set".into()));
        assert_eq!(tokens[4].tok, Tok::Str("a".into()));
        assert_eq!(cols[4], 16);
        assert!(tokens.iter().any(|t| t.tok == Tok::Float(1.5)));
        assert!(tokens.iter().any(|t| t.tok == Tok::Op(">=")));
        assert!(tokens.iter().any(|t| t.tok == Tok::Int(-2)));
    }

    #[test]
    fn unterminated_string_points_at_its_quote() {
        let err = tokenize(r#"set(name, "abc)"#).unwrap_err();
        assert_eq!(err.column, 11);
        assert!(err.message.contains("unterminated string"), "{err}");
    }

    #[test]
    fn bytes_literal() {
        let tokens = tokenize("0x0a0B").unwrap();
        assert_eq!(tokens[0].tok, Tok::Bytes(vec![0x0a, 0x0b]));
    }
}
