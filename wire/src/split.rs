//! Splitting a request into requests of at most N items.

use crate::{Signal, WireError};

/// Splits an OTLP request of `signal` into requests holding at most
/// `max_items` items each, in order, keeping each item's resource and scope
/// (and their schema URLs). A request within the limit comes back as one part.
pub fn split(signal: Signal, payload: &[u8], max_items: usize) -> Result<Vec<Vec<u8>>, WireError> {
    todo!()
}
