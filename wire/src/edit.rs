//! Editing items in place on the wire format: a walk down to every span,
//! log record or data point that copies the bytes around them and rewrites
//! only the length prefixes of what changed. A plugin pays for the bytes it
//! changes, not for decoding and re-encoding the whole tree.

use crate::scan::{put_varint, varint_len};
use crate::{FieldReader, Signal, WireError, WireType};

/// What kind of item an edit callback is given, and where its attributes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Span,
    LogRecord,
    NumberDataPoint,
    HistogramDataPoint,
    ExponentialHistogramDataPoint,
    SummaryDataPoint,
}

impl ItemKind {
    /// The field number of the item's `attributes` (repeated `KeyValue`).
    pub fn attributes_field(self) -> u32 {
        match self {
            ItemKind::Span => 9,
            ItemKind::LogRecord => 6,
            ItemKind::NumberDataPoint | ItemKind::SummaryDataPoint => 7,
            ItemKind::HistogramDataPoint => 9,
            ItemKind::ExponentialHistogramDataPoint => 1,
        }
    }
}

/// What an edit callback did with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemEdit {
    /// Unchanged: the walk copies the item as it was.
    Keep,
    /// The callback appended the item's new content (without tag or length) to `out`.
    Replaced,
    /// Leave the item out. Its resource and scope stay, even if emptied.
    Drop,
}

/// Calls `edit` on every item of a request of `signal`. Returns `None` when
/// every item was kept (use the input as it is), else the new request.
pub fn edit_items<'a>(
    signal: Signal,
    payload: &'a [u8],
    mut edit: impl FnMut(ItemKind, &'a [u8], &mut Vec<u8>) -> ItemEdit,
) -> Result<Option<Vec<u8>>, WireError> {
    // Room for edits that add to most items (a new attribute on every span
    // adds ~10%): growing the buffer half-way would copy all of it.
    let mut out = Vec::with_capacity(payload.len() + payload.len() / 4);
    let changed = walk(Level::Request(signal), payload, 0, &mut out, &mut edit)?;
    Ok(changed.then_some(out))
}

#[derive(Clone, Copy)]
enum Level {
    Request(Signal),
    Resource(Signal),
    Scope(Signal),
    Metric,
    MetricData(ItemKind),
}

impl Level {
    /// The level (or item) field `number` of this level leads to.
    fn child(self, number: u32) -> Option<Result<Level, ItemKind>> {
        Some(match (self, number) {
            (Level::Request(s), 1) => Ok(Level::Resource(s)),
            (Level::Resource(s), 2) => Ok(Level::Scope(s)),
            (Level::Scope(Signal::Traces), 2) => Err(ItemKind::Span),
            (Level::Scope(Signal::Logs), 2) => Err(ItemKind::LogRecord),
            (Level::Scope(Signal::Metrics), 2) => Ok(Level::Metric),
            (Level::Metric, 5 | 7) => Ok(Level::MetricData(ItemKind::NumberDataPoint)),
            (Level::Metric, 9) => Ok(Level::MetricData(ItemKind::HistogramDataPoint)),
            (Level::Metric, 10) => Ok(Level::MetricData(ItemKind::ExponentialHistogramDataPoint)),
            (Level::Metric, 11) => Ok(Level::MetricData(ItemKind::SummaryDataPoint)),
            (Level::MetricData(kind), 1) => Err(kind),
            _ => return None,
        })
    }
}

/// Copies `message` to `out`, descending into the fields that lead to items.
/// Returns whether anything below changed.
fn walk<'a>(
    level: Level,
    message: &'a [u8],
    base: usize,
    out: &mut Vec<u8>,
    edit: &mut impl FnMut(ItemKind, &'a [u8], &mut Vec<u8>) -> ItemEdit,
) -> Result<bool, WireError> {
    let mut changed = false;
    for field in FieldReader::new(message, base) {
        let field = field?;
        let next = match level.child(field.number) {
            Some(next) if field.wire_type == WireType::LengthDelimited => next,
            _ => {
                out.extend_from_slice(field.raw);
                continue;
            }
        };
        let start = out.len();
        let tag = &field.raw[..field.raw.len() - field.value.len()];
        // Room for the old length prefix; fixed up below if the length changes.
        put_small(out, tag);
        let content = out.len();
        let child_changed = match next {
            Ok(level) => walk(level, field.value, field.value_offset(), out, edit)?,
            Err(kind) => match edit(kind, field.value, out) {
                ItemEdit::Keep => false,
                ItemEdit::Replaced => true,
                ItemEdit::Drop => {
                    out.truncate(start);
                    changed = true;
                    continue;
                }
            },
        };
        if !child_changed {
            out.truncate(start);
            out.extend_from_slice(field.raw);
            continue;
        }
        changed = true;
        // `out[start..content]` holds tag + old length prefix; write the new one.
        let len = out.len() - content;
        let prefix_start = start + tag_len(tag, field.value.len());
        let old_prefix = content - prefix_start;
        let (prefix, new_prefix) = varint_bytes(len as u64);
        if new_prefix != old_prefix {
            // Rare: the length crossed a 128^n boundary; move the content
            // (in place: no allocation on this path either).
            let end = out.len();
            if new_prefix > old_prefix {
                out.resize(end + new_prefix - old_prefix, 0);
                out.copy_within(content..end, content + new_prefix - old_prefix);
            } else {
                out.copy_within(content..end, content - (old_prefix - new_prefix));
                out.truncate(end - (old_prefix - new_prefix));
            }
        }
        for (slot, byte) in out[prefix_start..].iter_mut().zip(&prefix[..new_prefix]) {
            *slot = *byte;
        }
    }
    Ok(changed)
}

/// Appends a few bytes (a tag, a length prefix, a short key) one by one.
/// In a wasm guest `extend_from_slice` is a `memory.copy`, which wasmtime
/// runs as a call out of the guest: worth it for an item, not for 3 bytes.
#[inline(always)]
fn put_small(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= 16 {
        for &byte in bytes {
            out.push(byte);
        }
    } else {
        out.extend_from_slice(bytes);
    }
}

/// `value` as a varint in a buffer, and how many of its bytes it takes.
#[inline]
fn varint_bytes(mut value: u64) -> ([u8; 10], usize) {
    let mut bytes = [0u8; 10];
    let mut n = 0;
    while value >= 0x80 {
        bytes[n] = (value as u8) | 0x80;
        value >>= 7;
        n += 1;
    }
    bytes[n] = value as u8;
    (bytes, n + 1)
}

/// `tag` holds tag + length prefix; the tag's own length is what precedes
/// a prefix of `varint_len(value_len)` bytes.
fn tag_len(tag_and_prefix: &[u8], value_len: usize) -> usize {
    tag_and_prefix.len() - varint_len(value_len as u64)
}

/// Appends a length-delimited field: tag, length, bytes.
#[inline(always)]
pub fn put_bytes_field(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_varint(out, (u64::from(number) << 3) | 2);
    put_varint(out, bytes.len() as u64);
    put_small(out, bytes);
}

/// Appends a `KeyValue` (key = 1, value = 2) as field `number`, the value
/// given as the bytes of an encoded `AnyValue`.
#[inline(always)]
pub fn put_key_value(out: &mut Vec<u8>, number: u32, key: &[u8], any_value: &[u8]) {
    let len = 1
        + varint_len(key.len() as u64)
        + key.len()
        + 1
        + varint_len(any_value.len() as u64)
        + any_value.len();
    out.reserve(len + 2 * 5);
    put_varint(out, (u64::from(number) << 3) | 2);
    put_varint(out, len as u64);
    put_bytes_field(out, 1, key);
    put_bytes_field(out, 2, any_value);
}

/// The key and the encoded `AnyValue` of a `KeyValue` message.
#[inline]
pub fn key_value(message: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    // How every encoder writes one: the key, then the value, each with a
    // one-byte length, and nothing else. Read that directly (this runs on
    // every attribute of every item); anything else takes the general way.
    if let [0x0a, key_len, rest @ ..] = message
        && *key_len < 0x80
        && rest.len() >= *key_len as usize
    {
        let (key, rest) = rest.split_at(*key_len as usize);
        match rest {
            [] => return Ok((key, &[])),
            [0x12, value_len, value @ ..]
                if *value_len < 0x80 && *value_len as usize == value.len() =>
            {
                return Ok((key, value));
            }
            _ => {}
        }
    }
    key_value_fields(message)
}

/// [`key_value`] for any encoding: field by field, the last of each wins.
fn key_value_fields(message: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    let (mut key, mut value): (&[u8], &[u8]) = (&[], &[]);
    for field in FieldReader::new(message, 0) {
        let field = field?;
        match (field.number, field.wire_type) {
            (1, WireType::LengthDelimited) => key = field.value,
            (2, WireType::LengthDelimited) => value = field.value,
            _ => {}
        }
    }
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{Rng, flatten, random_request};
    use crate::{Signal, count_items};

    #[test]
    fn keeping_everything_changes_nothing() {
        let mut rng = Rng::new(7);
        for signal in Signal::ALL {
            for _ in 0..50 {
                let (payload, _) = random_request(signal, &mut rng);
                assert_eq!(
                    edit_items(signal, &payload, |_, _, _| ItemEdit::Keep).unwrap(),
                    None
                );
            }
        }
    }

    #[test]
    fn replacing_items_rewrites_every_length_prefix() {
        let mut rng = Rng::new(11);
        for signal in Signal::ALL {
            for _ in 0..200 {
                let (payload, items) = random_request(signal, &mut rng);
                // Grow every item by a large unknown field: prefixes must grow too.
                let padding = vec![b'x'; 200];
                let edited = edit_items(signal, &payload, |_, item, out| {
                    out.extend_from_slice(item);
                    put_bytes_field(out, 1000, &padding);
                    ItemEdit::Replaced
                })
                .unwrap();
                let edited = match edited {
                    Some(e) => e,
                    None => {
                        assert_eq!(items, 0);
                        continue;
                    }
                };
                assert_eq!(count_items(signal, &edited).unwrap(), items);
                // Each item is the old one plus the padding field, in order.
                let (before, after) = (raw_items(signal, &payload), raw_items(signal, &edited));
                assert_eq!(before.len(), after.len());
                for (b, a) in before.iter().zip(&after) {
                    assert_eq!(a.len(), b.len() + 2 + 2 + 200); // tag 1000, length 200, padding
                    assert!(a.starts_with(b));
                }
                // And everything around the items decodes as before.
                let strip = |tree: Vec<Vec<Vec<u8>>>| -> Vec<Vec<Vec<u8>>> {
                    tree.into_iter()
                        .map(|mut parts| {
                            parts.pop();
                            parts
                        })
                        .collect()
                };
                assert_eq!(
                    strip(flatten(signal, &payload)),
                    strip(flatten(signal, &edited))
                );
            }
        }
    }

    #[test]
    fn shrinking_items_shortens_the_length_prefixes() {
        // resource_spans { scope_spans { spans × 3 of 100 bytes } }: the
        // scope's and resource's lengths need two bytes before, one after.
        let mut span = Vec::new();
        put_bytes_field(&mut span, 5, &[b'n'; 97]);
        let mut scope = Vec::new();
        for _ in 0..3 {
            put_bytes_field(&mut scope, 2, &span);
        }
        let mut resource = Vec::new();
        put_bytes_field(&mut resource, 2, &scope);
        let mut request = Vec::new();
        put_bytes_field(&mut request, 1, &resource);
        let edited = edit_items(Signal::Traces, &request, |_, _, _| ItemEdit::Replaced)
            .unwrap()
            .unwrap();
        // Three empty spans in one scope in one resource.
        assert_eq!(
            edited,
            [0x0a, 0x08, 0x12, 0x06, 0x12, 0x00, 0x12, 0x00, 0x12, 0x00]
        );
        assert_eq!(count_items(Signal::Traces, &edited).unwrap(), 3);
    }

    fn raw_items(signal: Signal, payload: &[u8]) -> Vec<Vec<u8>> {
        let mut items = Vec::new();
        edit_items(signal, payload, |_, item, _| {
            items.push(item.to_vec());
            ItemEdit::Keep
        })
        .unwrap();
        items
    }

    #[test]
    fn dropping_items_keeps_the_rest() {
        let mut rng = Rng::new(5);
        for signal in Signal::ALL {
            for _ in 0..100 {
                let (payload, items) = random_request(signal, &mut rng);
                let mut n = 0;
                let edited = edit_items(signal, &payload, |_, _, _| {
                    n += 1;
                    if n % 2 == 0 {
                        ItemEdit::Drop
                    } else {
                        ItemEdit::Keep
                    }
                })
                .unwrap();
                let left = edited
                    .as_deref()
                    .map(|e| count_items(signal, e).unwrap())
                    .unwrap_or(items);
                assert_eq!(left, items.div_ceil(2));
            }
        }
    }

    #[test]
    fn key_value_reads_every_encoding_as_the_field_by_field_way() {
        let long = vec![b'v'; 300];
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for (key, value) in [
            (&b"org"[..], &b"\x0a\x03abc"[..]),
            (b"", b""),
            (b"k", &long),
        ] {
            let mut plain = Vec::new();
            put_bytes_field(&mut plain, 1, key);
            put_bytes_field(&mut plain, 2, value);
            cases.push(plain.clone());
            // Value first; key only; an unknown field after; key repeated.
            let mut reversed = Vec::new();
            put_bytes_field(&mut reversed, 2, value);
            put_bytes_field(&mut reversed, 1, key);
            cases.push(reversed);
            let mut key_only = Vec::new();
            put_bytes_field(&mut key_only, 1, key);
            cases.push(key_only);
            let mut extra = plain.clone();
            put_bytes_field(&mut extra, 7, b"x");
            cases.push(extra);
            let mut twice = plain.clone();
            put_bytes_field(&mut twice, 1, b"later");
            cases.push(twice);
        }
        // A key length written in two bytes (non-minimal), and broken ones.
        cases.push(vec![0x0a, 0x83, 0x00, b'a', b'b', b'c']);
        cases.push(vec![0x0a, 0x05, b'a']);
        cases.push(vec![0x0a, 0x01, b'a', 0x12, 0x05, 1]);
        cases.push(vec![0x0a, 0x01, b'a', 0x12]);
        for case in &cases {
            assert_eq!(key_value(case), key_value_fields(case), "{case:?}");
        }
    }

    #[test]
    fn key_values_round_trip() {
        let mut out = Vec::new();
        put_key_value(&mut out, 9, b"org", b"\x0a\x03abc");
        let field = FieldReader::new(&out, 0).next().unwrap().unwrap();
        assert_eq!(field.number, 9);
        assert_eq!(
            key_value(field.value).unwrap(),
            (&b"org"[..], &b"\x0a\x03abc"[..])
        );
    }
}
