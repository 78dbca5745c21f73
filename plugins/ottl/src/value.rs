//! The values statements compute with, and their conversion to and from
//! OTLP's `AnyValue`.

use weir_plugin_sdk::otlp::any_value::Value as V;
use weir_plugin_sdk::otlp::{AnyValue, ArrayValue, KeyValue, KeyValueList};

/// A value read from a path, a literal or a converter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// A map, in OTLP's form (attribute lists, kvlist values).
    Map(Vec<KeyValue>),
    List(Vec<AnyValue>),
}

impl Value {
    /// The name used in type errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Double(_) => "double",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Map(_) => "map",
            Value::List(_) => "slice",
        }
    }

    pub fn from_any(value: &AnyValue) -> Value {
        match &value.value {
            None => Value::Nil,
            Some(V::StringValue(s)) => Value::Str(s.clone()),
            Some(V::BoolValue(b)) => Value::Bool(*b),
            Some(V::IntValue(i)) => Value::Int(*i),
            Some(V::DoubleValue(d)) => Value::Double(*d),
            Some(V::BytesValue(b)) => Value::Bytes(b.clone()),
            Some(V::ArrayValue(a)) => Value::List(a.values.clone()),
            Some(V::KvlistValue(kv)) => Value::Map(kv.values.clone()),
            // A string-table index (profiles only): no table to look it up in.
            Some(V::StringValueStrindex(_)) => Value::Nil,
        }
    }

    /// The `AnyValue` to store; `None` for nil (nothing is written).
    pub fn into_any(self) -> Option<AnyValue> {
        let value = match self {
            Value::Nil => return None,
            Value::Bool(b) => V::BoolValue(b),
            Value::Int(i) => V::IntValue(i),
            Value::Double(d) => V::DoubleValue(d),
            Value::Str(s) => V::StringValue(s),
            Value::Bytes(b) => V::BytesValue(b),
            Value::Map(values) => V::KvlistValue(KeyValueList { values }),
            Value::List(values) => V::ArrayValue(ArrayValue { values }),
        };
        Some(AnyValue { value: Some(value) })
    }

    /// The text `String()` and `Concat` make of a value, as in Go's OTTL.
    pub fn to_text(&self) -> String {
        match self {
            Value::Nil => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Double(d) => d.to_string(),
            Value::Str(s) => s.clone(),
            Value::Bytes(b) => hex(b),
            Value::Map(kvs) => {
                let items: Vec<String> = kvs
                    .iter()
                    .map(|kv| {
                        let v = kv.value.as_ref().map(Value::from_any).unwrap_or(Value::Nil);
                        format!("\"{}\":{}", kv.key, v.to_json())
                    })
                    .collect();
                format!("{{{}}}", items.join(","))
            }
            Value::List(items) => {
                let items: Vec<String> =
                    items.iter().map(|v| Value::from_any(v).to_json()).collect();
                format!("[{}]", items.join(","))
            }
        }
    }

    fn to_json(&self) -> String {
        match self {
            Value::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            Value::Nil => "null".into(),
            Value::Bytes(b) => format!("\"{}\"", hex(b)),
            other => other.to_text(),
        }
    }

    /// Whether this is a bool `true` (conditions treat anything else as false).
    pub fn is_true(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `==` as OTTL defines it: numbers compare across int and double, other
/// values only with their own type, and nil equals only nil.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Double(y)) | (Value::Double(y), Value::Int(x)) => (*x as f64) == *y,
        _ => a == b,
    }
}

/// `< <= > >=`: numbers, strings (bytewise) and bools order; any other pair
/// (including nil) does not, and every ordering comparison of it is false.
pub fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Double(y)) => (*x as f64).partial_cmp(y),
        (Value::Double(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}
