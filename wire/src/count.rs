//! Counting (and validating) the items of a request.
//!
//! The host needs the item count of every batch (for batching limits, memory
//! accounting and its own metrics) and must refuse a malformed batch at the
//! receiver rather than hand it to a plugin. One walk does both, without
//! decoding: it follows the path in [`crate::shape`] down to each item and
//! checks the framing of everything it passes.

use crate::WirePath;
use crate::scan::{FieldReader, WireType, check_framing};
use crate::shape::{Msg, Role};
use crate::{Signal, WireError};

/// Reasons this module reports, beyond the framing ones of the scanner.
pub(crate) mod reason {
    pub const PATH_NOT_LEN: &str =
        "a message field on the path to the items is not length-delimited";
    pub const KNOWN_WRONG_TYPE: &str = "a known field has the wrong wire type";
}

/// Counts the items (spans, metric data points, log records) of an OTLP
/// request of `signal`, checking the framing of every message on the way
/// down to each item and of each item's own fields. Allocates nothing.
///
/// What is checked:
/// - every message on the path (request, resource, scope, and for metrics the
///   metric and its data message) is a sequence of well-framed fields;
/// - the fields the walk descends into are length-delimited, and the other
///   known fields of those messages (`resource`, `scope`, `schema_url`,
///   `aggregation_temporality`, …) have their declared wire type;
/// - each item's own top-level fields are well framed (their contents, such
///   as attributes, are not descended into);
/// - unknown fields are skipped, as protobuf requires, but must be framed.
///
/// An empty payload is a valid empty request: `Ok(0)`. A request cut short
/// fails, except where the cut falls exactly between two top-level fields:
/// that is a shorter, valid request (the framing can't tell them apart).
///
/// A `Metric` whose data oneof is set more than once counts like protobuf
/// decodes it: the last case wins (earlier data points of another case are
/// dropped by decoders, so they are not counted), while repeats of the same
/// case merge (their data points add up).
pub fn count_items(signal: Signal, payload: &[u8]) -> Result<usize, WireError> {
    count_message(Msg::request(signal), payload, 0, WirePath::default())
}

/// Counts the items under one message of type `msg` whose bytes are `buf`,
/// starting at offset `base` of the payload. Recursion goes at most five deep
/// (request → resource → scope → metric → data); the per-item work is the
/// flat loop in [`check_framing`].
fn count_message(msg: Msg, buf: &[u8], base: usize, path: WirePath) -> Result<usize, WireError> {
    let mut total = 0usize;
    let mut index = 0u32;
    // Metric only: the data oneof case seen last (0 = none yet).
    let mut data_case = 0u32;
    for field in FieldReader::new(buf, base) {
        let field = field.map_err(|e| e.at(path))?;
        match msg.role(field.number) {
            Role::Child { msg: child, name } => {
                let here = match name {
                    Some(name) => {
                        let p = path.push(name, index);
                        index = index.saturating_add(1);
                        p
                    }
                    None => path,
                };
                if field.wire_type != WireType::LengthDelimited {
                    return Err(WireError::new(field.offset, reason::PATH_NOT_LEN, here));
                }
                let items = if child == Msg::Item {
                    check_framing(field.value).map_err(|(at, why)| {
                        WireError::new(field.value_offset() + at, why, here)
                    })?;
                    1
                } else {
                    count_message(child, field.value, field.value_offset(), here)?
                };
                if msg == Msg::Metric && field.number != data_case {
                    // Another oneof case replaces the one before it.
                    total = 0;
                    data_case = field.number;
                }
                total += items;
            }
            Role::Known(wire_type) if wire_type != field.wire_type => {
                return Err(WireError::new(field.offset, reason::KNOWN_WRONG_TYPE, path));
            }
            Role::Known(_) | Role::Unknown => {}
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests;
