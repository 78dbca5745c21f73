//! The YAML document as a tree of values that remember their line, so an
//! error found later (an unknown key, a dangling reference) can say where.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A YAML value with the line it was defined on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
    /// True when the node came from the environment's overlay file rather
    /// than the base config (see `layers`), so errors name the right file.
    pub overlay: bool,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// Parses a YAML document; the error text carries line and column.
    pub fn parse(text: &str) -> Result<Node, String> {
        if text.trim().is_empty() {
            return Ok(Node {
                value: Value::Map(Vec::new()),
                line: 1,
                overlay: false,
            });
        }
        // YAML 1.2 booleans, as the Go collector's parser: `y`, `on`, `no` are strings.
        let mut options = serde_saphyr::Options::default();
        options.strict_booleans = true;
        options.with_snippet = false;
        let spanned: Spanned<Value> =
            serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())?;
        Ok(Node {
            value: spanned.value,
            line: spanned.referenced.line() as usize,
            overlay: false,
        })
    }

    /// The line of the node at a dotted path such as `a.b[2].c`, or of the
    /// deepest node on the way there that exists.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        Some(self.node_at(path).line)
    }

    /// Whether the node at `path` (or the deepest one on the way) came from
    /// the environment's overlay file.
    pub fn is_from_overlay(&self, path: &str) -> bool {
        self.node_at(path).overlay
    }

    fn node_at(&self, path: &str) -> &Node {
        let mut node = self;
        for step in split_path(path) {
            let next = match (&node.value, step) {
                (Value::Map(entries), Step::Key(k)) => {
                    entries.iter().find(|(key, _)| key == k).map(|(_, n)| n)
                }
                (Value::Seq(items), Step::Index(i)) => items.get(i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// The value as JSON, which is what typed config structs and plugins read.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::UInt(u) => (*u).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(Into::into)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => s.clone().into(),
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        }
    }
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[2].c` into steps. Component ids hold `/` but never `.`.
fn split_path(path: &str) -> impl Iterator<Item = Step<'_>> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .flat_map(|segment| {
            let mut parts = segment.split('[');
            let key = parts.next().unwrap_or("");
            let key = (!key.is_empty()).then_some(Step::Key(key));
            key.into_iter()
                .chain(parts.filter_map(|p| p.trim_end_matches(']').parse().ok().map(Step::Index)))
        })
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            value: spanned.value,
            line: spanned.referenced.line() as usize,
            overlay: false,
        })
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some(key) = map.next_key::<KeyString>()? {
            let value = map.next_value::<Node>()?;
            if entries.iter().any(|(k, _)| *k == key.0) {
                return Err(de::Error::custom(format!("duplicate key `{}`", key.0)));
            }
            entries.push((key.0, value));
        }
        Ok(Value::Map(entries))
    }
}

/// A map key: YAML allows numbers and booleans as keys; config keys are text.
struct KeyString(String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(KeyString(s)),
            Value::Int(i) => Ok(KeyString(i.to_string())),
            Value::UInt(u) => Ok(KeyString(u.to_string())),
            Value::Float(f) => Ok(KeyString(f.to_string())),
            Value::Bool(b) => Ok(KeyString(b.to_string())),
            Value::Null => Ok(KeyString("null".into())),
            _ => Err(de::Error::custom("a map key must be a scalar")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_lines() {
        let doc = "a:\n  b: 1\n  c:\n    - x\n    - y: 2\n";
        let node = Node::parse(doc).unwrap();
        assert_eq!(node.line_of("a.b"), Some(2));
        assert_eq!(node.line_of("a.c[1].y"), Some(5));
        // A missing key points at the map that lacks it (its first line).
        assert_eq!(node.line_of("a.missing"), Some(2));
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": {"b": 1, "c": ["x", {"y": 2}]}})
        );
    }

    #[test]
    fn parse_errors_have_positions() {
        let err = Node::parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let node = Node::parse("y: on\nn: true\n").unwrap();
        assert_eq!(node.to_json(), serde_json::json!({"y": "on", "n": true}));
    }
}
