//! Counting (and validating) the items of a request.

use crate::{Signal, WireError};

/// Counts the items (spans, metric data points, log records) of an OTLP
/// request of `signal`, checking the framing of every message on the way
/// down to each item and of each item's own fields. Allocates nothing.
pub fn count_items(signal: Signal, payload: &[u8]) -> Result<usize, WireError> {
    todo!()
}
