//! A protobuf wire-format field reader over a byte slice.
//!
//! This is the one place that knows how protobuf frames a field: a varint tag
//! (field number << 3 | wire type) followed by a varint, 8 bytes, a varint
//! length and that many bytes, or 4 bytes. Everything else in the crate is
//! built on [`FieldReader`], so the rules below hold everywhere:
//!
//! - groups (wire types 3 and 4) are refused: OTLP never uses them, and
//!   skipping them needs a stack we'd rather not keep;
//! - field number 0 and field numbers past 2^29 - 1 are refused;
//! - a varint longer than 10 bytes, or whose tenth byte overflows 64 bits, is
//!   refused;
//! - a length or fixed value running past the end of the message is refused.

use crate::{WireError, WirePath};

/// A protobuf wire type (groups, 3 and 4, are not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    /// 0: a base-128 varint (int32, int64, uint*, sint*, bool, enum).
    Varint,
    /// 1: eight little-endian bytes (fixed64, sfixed64, double).
    Fixed64,
    /// 2: a varint length, then that many bytes (string, bytes, messages, packed).
    LengthDelimited,
    /// 5: four little-endian bytes (fixed32, sfixed32, float).
    Fixed32,
}

/// One field of a message: its number, wire type, the value's bytes (for
/// length-delimited fields, without the length prefix) and where it starts.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// The field number, 1 ..= 2^29 - 1.
    pub number: u32,
    /// How the value is framed.
    pub wire_type: WireType,
    /// Varints: the varint's bytes; fixed: the 4 or 8 bytes; length-delimited: the content.
    pub value: &'a [u8],
    /// The whole field as it stands in the message: tag, length prefix and value.
    pub raw: &'a [u8],
    /// Offset of `raw` in the slice the reader was made from (plus its base).
    pub offset: usize,
}

impl Field<'_> {
    /// Offset of `value` in the payload, for readers of a nested message:
    /// `FieldReader::new(field.value, field.value_offset())`.
    #[inline]
    pub fn value_offset(&self) -> usize {
        self.offset + (self.raw.len() - self.value.len())
    }
}

/// Iterates over the fields of one message without allocating.
///
/// After the first error the reader is exhausted: framing past a broken
/// field cannot be trusted.
#[derive(Debug, Clone)]
pub struct FieldReader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> FieldReader<'a> {
    /// A reader over `buf`, whose first byte is at offset `base` of the whole payload.
    pub fn new(buf: &'a [u8], base: usize) -> Self {
        FieldReader { buf, pos: 0, base }
    }
}

impl<'a> Iterator for FieldReader<'a> {
    type Item = Result<Field<'a>, WireError>;

    // Always inlined: out of line, the `Option<Result<Field, WireError>>` it
    // returns (~100 bytes) goes through memory on every field, which in a
    // wasm guest (where Cranelift cannot undo it) was a third of a call.
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        match next_field(self.buf, start) {
            Ok(f) => {
                self.pos = f.end;
                Some(Ok(Field {
                    number: f.number,
                    wire_type: f.wire_type,
                    value: &self.buf[f.value_start..f.end],
                    raw: &self.buf[start..f.end],
                    offset: self.base + start,
                }))
            }
            Err((at, reason)) => {
                self.pos = self.buf.len();
                Some(Err(WireError {
                    offset: self.base + at,
                    reason,
                    path: WirePath::default(),
                }))
            }
        }
    }
}

/// Checks that `buf` is a sequence of well-framed fields, without looking
/// inside any of them. This is the hot loop of counting (every span, log
/// record and data point goes through it), so it skips building [`Field`]s.
#[inline]
pub(crate) fn check_framing(buf: &[u8]) -> Result<(), (usize, &'static str)> {
    let mut pos = 0;
    while pos < buf.len() {
        pos = next_field(buf, pos)?.end;
    }
    Ok(())
}

/// Where one field's parts lie in its message, as positions.
pub(crate) struct Framed {
    pub number: u32,
    pub wire_type: WireType,
    pub value_start: usize,
    pub end: usize,
}

/// Reason texts, shared so tests can match on them.
pub(crate) mod reason {
    pub const VARINT_TRUNCATED: &str = "varint runs past the end of the message";
    pub const VARINT_TOO_LONG: &str = "varint is longer than 10 bytes or overflows 64 bits";
    pub const FIELD_ZERO: &str = "field number 0 is not allowed";
    pub const FIELD_TOO_BIG: &str = "field number is above 2^29 - 1";
    pub const GROUP: &str = "group wire types (3, 4) are not supported";
    pub const BAD_WIRE_TYPE: &str = "invalid wire type (6 or 7)";
    pub const LENGTH_PAST_END: &str = "length runs past the end of the message";
    pub const FIXED_PAST_END: &str = "fixed-size value runs past the end of the message";
}

/// Frames the field starting at `pos` (which must be `< buf.len()`).
/// Errors carry the position of the problem within `buf`.
#[inline(always)]
pub(crate) fn next_field(buf: &[u8], pos: usize) -> Result<Framed, (usize, &'static str)> {
    let (tag, p) = varint(buf, pos).map_err(|r| (pos, r))?;
    let number = tag >> 3;
    if number == 0 {
        return Err((pos, reason::FIELD_ZERO));
    }
    if number > (1 << 29) - 1 {
        return Err((pos, reason::FIELD_TOO_BIG));
    }
    let number = number as u32;
    let remaining = buf.len() - p;
    let (wire_type, value_start, end) = match tag & 7 {
        0 => {
            let (_, end) = varint(buf, p).map_err(|r| (p, r))?;
            (WireType::Varint, p, end)
        }
        1 if remaining >= 8 => (WireType::Fixed64, p, p + 8),
        2 => {
            let (len, v) = varint(buf, p).map_err(|r| (p, r))?;
            if len > (buf.len() - v) as u64 {
                return Err((p, reason::LENGTH_PAST_END));
            }
            (WireType::LengthDelimited, v, v + len as usize)
        }
        5 if remaining >= 4 => (WireType::Fixed32, p, p + 4),
        1 | 5 => return Err((p, reason::FIXED_PAST_END)),
        3 | 4 => return Err((pos, reason::GROUP)),
        _ => return Err((pos, reason::BAD_WIRE_TYPE)),
    };
    Ok(Framed {
        number,
        wire_type,
        value_start,
        end,
    })
}

/// Decodes the varint at `pos`, returning it and the position after it.
/// One-byte varints (most tags, small lengths) take the first branch.
#[inline(always)]
pub(crate) fn varint(buf: &[u8], pos: usize) -> Result<(u64, usize), &'static str> {
    match buf.get(pos) {
        Some(&b) if b < 0x80 => Ok((u64::from(b), pos + 1)),
        Some(_) => varint_slow(buf, pos),
        None => Err(reason::VARINT_TRUNCATED),
    }
}

/// The multi-byte case of [`varint`], kept out of line so the one-byte
/// case stays small enough to inline everywhere.
#[inline(never)]
fn varint_slow(buf: &[u8], pos: usize) -> Result<(u64, usize), &'static str> {
    let mut value = 0u64;
    for i in 0..10 {
        let Some(&b) = buf.get(pos + i) else {
            return Err(reason::VARINT_TRUNCATED);
        };
        if i == 9 && b > 1 {
            return Err(reason::VARINT_TOO_LONG);
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok((value, pos + i + 1));
        }
    }
    Err(reason::VARINT_TOO_LONG)
}

/// How many bytes `value` takes as a varint.
#[inline]
pub(crate) fn varint_len(value: u64) -> usize {
    // Significant bits, seven per byte; value | 1 so zero takes one byte.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends `value` as a varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    type Got = Result<(u32, WireType, Vec<u8>, usize), &'static str>;

    fn fields(buf: &[u8]) -> Vec<Got> {
        FieldReader::new(buf, 100)
            .map(|f| {
                f.map(|f| (f.number, f.wire_type, f.value.to_vec(), f.offset))
                    .map_err(|e| e.reason)
            })
            .collect()
    }

    #[test]
    fn reads_all_four_wire_types_with_absolute_offsets() {
        let buf = [
            0x08, 0x96, 0x01, // 1: varint 150
            0x11, 1, 2, 3, 4, 5, 6, 7, 8, // 2: fixed64
            0x1a, 0x02, b'h', b'i', // 3: "hi"
            0x25, 9, 9, 9, 9, // 4: fixed32
        ];
        let got = fields(&buf);
        assert_eq!(
            got,
            vec![
                Ok((1, WireType::Varint, vec![0x96, 0x01], 100)),
                Ok((2, WireType::Fixed64, vec![1, 2, 3, 4, 5, 6, 7, 8], 103)),
                Ok((3, WireType::LengthDelimited, b"hi".to_vec(), 112)),
                Ok((4, WireType::Fixed32, vec![9, 9, 9, 9], 116)),
            ]
        );
        let f = FieldReader::new(&buf, 100).nth(2).unwrap().unwrap();
        assert_eq!(f.raw, &[0x1a, 0x02, b'h', b'i']);
        assert_eq!(f.value_offset(), 114);
    }

    #[test]
    fn refuses_bad_framing_and_stops() {
        assert_eq!(fields(&[0x0b, 0x0c]), vec![Err(reason::GROUP)]);
        assert_eq!(fields(&[0x0c]), vec![Err(reason::GROUP)]);
        assert_eq!(fields(&[0x0e]), vec![Err(reason::BAD_WIRE_TYPE)]);
        assert_eq!(fields(&[0x02, 0x00]), vec![Err(reason::FIELD_ZERO)]);
        assert_eq!(
            fields(&[0x0a, 0x05, 1, 2]),
            vec![Err(reason::LENGTH_PAST_END)]
        );
        assert_eq!(fields(&[0x09, 1, 2]), vec![Err(reason::FIXED_PAST_END)]);
        assert_eq!(fields(&[0x0d, 1]), vec![Err(reason::FIXED_PAST_END)]);
        assert_eq!(fields(&[0x08, 0x80]), vec![Err(reason::VARINT_TRUNCATED)]);
        assert_eq!(fields(&[0x80]), vec![Err(reason::VARINT_TRUNCATED)]);
        let mut eleven = vec![0x08];
        eleven.extend([0xff; 10]);
        eleven.push(0x01);
        assert_eq!(fields(&eleven), vec![Err(reason::VARINT_TOO_LONG)]);
        // A tag whose field number needs more than 29 bits.
        assert_eq!(
            fields(&[0x80, 0x80, 0x80, 0x80, 0x10]),
            vec![Err(reason::FIELD_TOO_BIG)]
        );
        // The largest 64-bit varint is fine.
        let mut max = vec![0x08];
        max.extend([0xff; 9]);
        max.push(0x01);
        assert_eq!(fields(&max).len(), 1);
        assert!(fields(&max)[0].is_ok());
        // The error offset points at the broken field.
        let err = FieldReader::new(&[0x08, 0x01, 0x0e], 10)
            .nth(1)
            .unwrap()
            .unwrap_err();
        assert_eq!(err.offset, 12);
    }

    #[test]
    fn varint_helpers_agree() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
            assert_eq!(varint(&out, 0), Ok((v, out.len())));
        }
    }
}
