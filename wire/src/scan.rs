//! A protobuf wire-format field reader over a byte slice.

use crate::WireError;

/// A protobuf wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    LengthDelimited,
    Fixed32,
}

/// One field of a message: its number, wire type, the value's bytes (for
/// length-delimited fields, without the length prefix) and where it starts.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub number: u32,
    pub wire_type: WireType,
    /// Varints: the varint's bytes; fixed: the 4 or 8 bytes; length-delimited: the content.
    pub value: &'a [u8],
    /// The whole field as it stands in the message: tag, length prefix and value.
    pub raw: &'a [u8],
    /// Offset of `raw` in the slice the reader was made from (plus its base).
    pub offset: usize,
}

/// Iterates over the fields of one message without allocating.
#[derive(Debug, Clone)]
pub struct FieldReader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> FieldReader<'a> {
    /// A reader over `buf`, whose first byte is at offset `base` of the whole payload.
    pub fn new(buf: &'a [u8], base: usize) -> Self {
        todo!()
    }
}

impl<'a> Iterator for FieldReader<'a> {
    type Item = Result<Field<'a>, WireError>;
    fn next(&mut self) -> Option<Self::Item> {
        todo!()
    }
}
