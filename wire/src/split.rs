//! Splitting a request into requests of at most N items.
//!
//! Exporters and plugins take batches of bounded size, so a large incoming
//! request (or a merged batch) is cut at item granularity. Each part keeps,
//! around its items, every enclosing message's own fields (resource, scope,
//! schema URLs, and for metrics the metric's name, unit, … and the data
//! message's temporality and monotonicity), copied as byte runs; only the
//! length prefixes are new.

use crate::scan::{FieldReader, put_varint, varint_len};
use crate::shape::{Msg, Role};
use crate::{Signal, WireError, count_items};

/// Splits an OTLP request of `signal` into requests holding at most
/// `max_items` items each, in order, keeping each item's resource and scope
/// (and their schema URLs). A request within the limit comes back as one part.
///
/// - `max_items == 0` means no limit: one part.
/// - A request within the limit comes back as one part equal to the input,
///   byte for byte.
/// - The request is validated first, as [`count_items`] does; an invalid one
///   is an error and nothing is split.
/// - Items are never duplicated or lost, and keep their order. Concatenating
///   the parts gives a request with the same items under the same resources
///   and scopes, though a resource or scope cut by a part boundary appears
///   once in each part.
/// - When splitting, messages that hold no items are **dropped**: a resource
///   without scopes, a scope without items, a metric without data points.
///   They carry no telemetry, and keeping them would mean deciding which part
///   they belong to.
/// - For metrics, a part boundary may fall inside one metric's data points:
///   each part gets the metric's other fields and the data message's other
///   fields around its share of the points. Data points of a data oneof case
///   that a later case replaces (which decoders drop, and
///   [`count_items`] does not count) are dropped.
/// - Any fields of the top-level request other than its items' field
///   (none are defined today) are copied into every part.
pub fn split(signal: Signal, payload: &[u8], max_items: usize) -> Result<Vec<Vec<u8>>, WireError> {
    let total = count_items(signal, payload)?;
    if max_items == 0 || total <= max_items {
        return Ok(vec![payload.to_vec()]);
    }
    let root = Msg::request(signal);
    let mut splitter = Splitter::new(payload, max_items, total);
    splitter.stack[0] = Open {
        msg: root,
        content: payload,
        ..Open::EMPTY
    };
    splitter.depth = 1;
    splitter.walk(root, payload, 0)?;
    splitter.finish_part()?;
    Ok(splitter.parts)
}

/// The deepest path: request → resource → scope → metric → data.
const MAX_DEPTH: usize = 5;

/// A message on the path to the current item, in the input.
#[derive(Clone, Copy)]
struct Open<'a> {
    msg: Msg,
    /// Its field number in the parent (unused for the request).
    number: u32,
    /// Its content in the input.
    content: &'a [u8],
    /// Metric only: the data oneof case that decoders keep, and the offset
    /// from which its fields count (earlier ones were replaced by another case).
    case: u32,
    case_from: usize,
}

impl Open<'_> {
    const EMPTY: Open<'static> = Open {
        msg: Msg::Item,
        number: 0,
        content: &[],
        case: 0,
        case_from: 0,
    };
}

/// The state of one split: parts done, the part being written, and which of
/// the messages on the current input path are open in it.
struct Splitter<'a> {
    payload: &'a [u8],
    max_items: usize,
    /// Capacity to give each new part: about its share of the input.
    part_capacity: usize,
    parts: Vec<Vec<u8>>,
    part: Vec<u8>,
    items_in_part: usize,
    /// The input path to the current message: `stack[..depth]`.
    stack: [Open<'a>; MAX_DEPTH],
    depth: usize,
    /// How many of `stack` have been opened in `part` (a prefix of the path).
    opened: usize,
    /// Where each open message's length prefix was reserved in `part`, and
    /// how many bytes were reserved for it.
    prefix_at: [usize; MAX_DEPTH],
    reserved: [usize; MAX_DEPTH],
    /// The input's average bytes per item, to guess a part's message sizes.
    bytes_per_item: usize,
    /// Items not yet copied: a run of adjacent input bytes, copied in one go.
    run_start: usize,
    run_end: usize,
}

impl<'a> Splitter<'a> {
    fn new(payload: &'a [u8], max_items: usize, total: usize) -> Self {
        let n_parts = total.div_ceil(max_items);
        let part_capacity = payload.len() / n_parts + payload.len() / n_parts / 8 + 64;
        Splitter {
            payload,
            max_items,
            part_capacity,
            parts: Vec::with_capacity(n_parts),
            part: Vec::with_capacity(part_capacity),
            items_in_part: 0,
            stack: [Open::EMPTY; MAX_DEPTH],
            depth: 0,
            opened: 0,
            prefix_at: [0; MAX_DEPTH],
            reserved: [0; MAX_DEPTH],
            bytes_per_item: payload.len().div_ceil(total),
            run_start: 0,
            run_end: 0,
        }
    }

    /// Walks the message on top of the stack (`msg`, content `buf` at `base`),
    /// handing each item to [`Self::item`] and closing each child it opened.
    fn walk(&mut self, msg: Msg, buf: &'a [u8], base: usize) -> Result<(), WireError> {
        let top = self.stack[self.depth - 1];
        for field in FieldReader::new(buf, base) {
            let field = field?;
            let Role::Child { msg: child, .. } = msg.role(field.number) else {
                continue;
            };
            if msg == Msg::Metric && (field.number != top.case || field.offset < top.case_from) {
                continue; // replaced by a later oneof case
            }
            if child == Msg::Item {
                self.item(field.offset, field.raw.len())?;
                continue;
            }
            let (case, case_from) = if child == Msg::Metric {
                kept_data_case(field.value, field.value_offset())?
            } else {
                (0, 0)
            };
            let d = self.depth;
            self.stack[d] = Open {
                msg: child,
                number: field.number,
                content: field.value,
                case,
                case_from,
            };
            self.depth += 1;
            self.walk(child, field.value, field.value_offset())?;
            self.depth -= 1;
            if self.opened > d {
                self.close(d);
                self.opened = d;
            }
        }
        Ok(())
    }

    /// Adds the item at `offset` (its whole field, `len` bytes) to the part,
    /// starting a new part first if this one is full.
    #[inline]
    fn item(&mut self, offset: usize, len: usize) -> Result<(), WireError> {
        if self.items_in_part == self.max_items {
            self.finish_part()?;
        }
        while self.opened < self.depth {
            self.open(self.opened)?;
            self.opened += 1;
        }
        if offset != self.run_end {
            self.flush_run();
            self.run_start = offset;
        }
        self.run_end = offset + len;
        self.items_in_part += 1;
        Ok(())
    }

    /// Copies the pending run of items into the part.
    #[inline]
    fn flush_run(&mut self) {
        if self.run_start < self.run_end {
            self.part
                .extend_from_slice(&self.payload[self.run_start..self.run_end]);
        }
        self.run_start = self.run_end;
    }

    /// Writes the start of `stack[d]` into the part: its tag, room for its
    /// length, and all its fields that are not on the path to the items.
    fn open(&mut self, d: usize) -> Result<(), WireError> {
        self.flush_run();
        let open = self.stack[d];
        if d > 0 {
            put_varint(&mut self.part, u64::from(open.number) << 3 | 2);
            self.prefix_at[d] = self.part.len();
            // The message in this part is at most as long as in the input, and
            // about as long as the items the part still has room for: guess
            // generously, so the prefix rarely needs more or fewer bytes than
            // reserved (which would move the content, see `close`).
            let room = (self.max_items - self.items_in_part).saturating_mul(self.bytes_per_item);
            let guess = room.saturating_add(room / 4).saturating_add(256);
            let reserve = varint_len(open.content.len().min(guess) as u64);
            self.reserved[d] = reserve;
            self.part.resize(self.part.len() + reserve, 0);
        }
        for field in FieldReader::new(open.content, 0) {
            let field = field?;
            if !matches!(open.msg.role(field.number), Role::Child { .. }) {
                self.part.extend_from_slice(field.raw);
            }
        }
        Ok(())
    }

    /// Ends `stack[d]` in the part: writes its length where room was kept.
    /// The room was a guess (see `open`); when the length needs more or fewer
    /// bytes, the content moves to fit, which is correct but costs a copy.
    fn close(&mut self, d: usize) {
        self.flush_run();
        let at = self.prefix_at[d];
        let reserved = self.reserved[d];
        let len = self.part.len() - at - reserved;
        let mut prefix = [0u8; 10];
        let n = write_varint(&mut prefix, len as u64);
        if n == reserved {
            self.part[at..at + n].copy_from_slice(&prefix[..n]);
        } else {
            self.part
                .splice(at..at + reserved, prefix[..n].iter().copied());
        }
    }

    /// Closes what is open and moves the part to the finished ones.
    fn finish_part(&mut self) -> Result<(), WireError> {
        for d in (1..self.opened).rev() {
            self.close(d);
        }
        self.flush_run();
        self.opened = 0;
        if self.items_in_part > 0 {
            let part = std::mem::replace(&mut self.part, Vec::with_capacity(self.part_capacity));
            self.parts.push(part);
        }
        self.items_in_part = 0;
        Ok(())
    }
}

/// The data oneof case of a `Metric` that decoders keep (the last one set)
/// and the offset of its first field after the last other case.
fn kept_data_case(metric: &[u8], base: usize) -> Result<(u32, usize), WireError> {
    let (mut case, mut from) = (0, 0);
    for field in FieldReader::new(metric, base) {
        let field = field?;
        if Msg::is_metric_data(field.number) && field.number != case {
            case = field.number;
            from = field.offset;
        }
    }
    Ok((case, from))
}

/// Writes `value` as a varint into `out`, returning its length.
fn write_varint(out: &mut [u8; 10], mut value: u64) -> usize {
    let mut i = 0;
    while value >= 0x80 {
        out[i] = (value as u8) | 0x80;
        value >>= 7;
        i += 1;
    }
    out[i] = value as u8;
    i + 1
}

#[cfg(test)]
mod tests;
