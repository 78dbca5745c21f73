//! The actions applied on the wire format: each item's attributes are read
//! in place, and only items an action changes are rewritten (their other
//! fields copied as they are, their attributes re-emitted). The result
//! decodes to what [`weir_plugin_sdk::actions::apply`] makes of the decoded request;
//! the tests check that on every signal.

use weir_plugin_sdk::otlp::Message;
use weir_plugin_sdk::processor::{Context, Signal};
use weir_plugin_sdk::wire::{self, FieldReader, ItemEdit, WireType};

use crate::config::{Config, ContextKey, Kind, Source};
use weir_plugin_sdk::actions::context_value;

/// The configured actions, with literal values encoded once.
pub struct WireActions {
    actions: Vec<WireAction>,
}

struct WireAction {
    key: Vec<u8>,
    op: Op,
    source: WireSource,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Insert,
    Update,
    Upsert,
    Delete,
}

enum WireSource {
    None,
    /// An encoded `AnyValue`.
    Value(Vec<u8>),
    FromAttribute(Vec<u8>),
    FromContext(ContextKey),
}

impl WireActions {
    pub fn new(config: &Config) -> Self {
        let actions = config
            .actions
            .iter()
            .map(|action| {
                let (op, source) = match &action.kind {
                    Kind::Insert(s) => (Op::Insert, s),
                    Kind::Update(s) => (Op::Update, s),
                    Kind::Upsert(s) => (Op::Upsert, s),
                    Kind::Delete => {
                        return WireAction {
                            key: action.key.clone().into_bytes(),
                            op: Op::Delete,
                            source: WireSource::None,
                        };
                    }
                };
                let source = match source {
                    Source::Value(value) => WireSource::Value(value.encode_to_vec()),
                    Source::FromAttribute(name) => {
                        WireSource::FromAttribute(name.clone().into_bytes())
                    }
                    Source::FromContext(key) => WireSource::FromContext(key.clone()),
                };
                WireAction {
                    key: action.key.clone().into_bytes(),
                    op,
                    source,
                }
            })
            .collect();
        WireActions { actions }
    }

    /// Applies the actions to every item of `payload`; `None` when nothing changed.
    pub fn apply(
        &self,
        ctx: &Context,
        signal: Signal,
        payload: &[u8],
    ) -> Result<Option<Vec<u8>>, String> {
        // Context values are the same for every item: encode them once.
        let context: Vec<Option<Vec<u8>>> = self
            .actions
            .iter()
            .map(|a| match &a.source {
                WireSource::FromContext(key) => {
                    context_value(key, ctx).map(|v| string_any_value(&v))
                }
                _ => None,
            })
            .collect();
        let signal = match signal {
            Signal::Traces => wire::Signal::Traces,
            Signal::Metrics => wire::Signal::Metrics,
            Signal::Logs => wire::Signal::Logs,
        };
        let mut attrs: Vec<(&[u8], &[u8])> = Vec::new();
        let mut failure = None;
        let edited = wire::edit_items(signal, payload, |kind, item, out| {
            let field_number = kind.attributes_field();
            attrs.clear();
            for field in FieldReader::new(item, 0) {
                match field {
                    Ok(f)
                        if f.number == field_number && f.wire_type == WireType::LengthDelimited =>
                    {
                        match wire::key_value(f.value) {
                            Ok(kv) => attrs.push(kv),
                            Err(e) => {
                                failure = Some(e.to_string());
                                return ItemEdit::Keep;
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        failure = Some(e.to_string());
                        return ItemEdit::Keep;
                    }
                }
            }
            let before = attrs.len();
            let mut change = Change::None;
            for (action, context) in self.actions.iter().zip(&context) {
                change = change.max(apply_one(action, context.as_deref(), &mut attrs));
            }
            match change {
                Change::None => return ItemEdit::Keep,
                // Only new keys: the item's bytes stay as they are and the new
                // attributes follow them (a repeated field may be split).
                Change::Appended => {
                    out.extend_from_slice(item);
                    for (key, value) in &attrs[before..] {
                        wire::put_key_value(out, field_number, key, value);
                    }
                    return ItemEdit::Replaced;
                }
                Change::Rewritten => {}
            }
            for f in FieldReader::new(item, 0).flatten() {
                if !(f.number == field_number && f.wire_type == WireType::LengthDelimited) {
                    out.extend_from_slice(f.raw);
                }
            }
            for (key, value) in &attrs {
                wire::put_key_value(out, field_number, key, value);
            }
            ItemEdit::Replaced
        })
        .map_err(|e| format!("malformed {} request: {e}", signal.as_str()))?;
        match failure {
            Some(e) => Err(format!("malformed attribute: {e}")),
            None => Ok(edited),
        }
    }
}

/// What the actions did to one item's attribute list.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    None,
    /// New keys were added at the end; nothing else changed.
    Appended,
    /// A value was replaced or a key deleted: the list is written anew.
    Rewritten,
}

/// One action on one item's attribute list; what it changed.
fn apply_one<'a>(
    action: &'a WireAction,
    context: Option<&'a [u8]>,
    attrs: &mut Vec<(&'a [u8], &'a [u8])>,
) -> Change {
    let key = action.key.as_slice();
    let position = attrs.iter().position(|(k, _)| *k == key);
    if action.op == Op::Delete {
        let before = attrs.len();
        attrs.retain(|(k, _)| *k != key);
        return if attrs.len() != before {
            Change::Rewritten
        } else {
            Change::None
        };
    }
    let value = match &action.source {
        WireSource::Value(v) => Some(v.as_slice()),
        WireSource::FromAttribute(name) => attrs
            .iter()
            .find(|(k, _)| *k == name.as_slice())
            .map(|(_, v)| *v),
        WireSource::FromContext(_) => context,
        WireSource::None => None,
    };
    let Some(value) = value else {
        return Change::None;
    };
    match (action.op, position) {
        (Op::Insert, None) | (Op::Upsert, None) => {
            attrs.push((key, value));
            Change::Appended
        }
        (Op::Update, Some(i)) | (Op::Upsert, Some(i)) => {
            attrs[i].1 = value;
            Change::Rewritten
        }
        _ => Change::None,
    }
}

/// An encoded `AnyValue { string_value }`.
fn string_any_value(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 3);
    wire::put_bytes_field(&mut out, 1, text.as_bytes());
    out
}
