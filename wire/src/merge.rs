//! Merging requests by concatenation.
//!
//! Every OTLP export request has a single repeated top-level field (field 1:
//! `resource_spans`, `resource_metrics`, `resource_logs`), and protobuf
//! decodes concatenated messages as one message holding the fields of both.
//! So the concatenation of two valid requests of one signal is a valid
//! request whose items are the union, in order: batching needs no decode.

/// Appends `request` to the batch being built in `batch`.
///
/// Both must be requests of the same signal; nothing is checked here (count
/// each request with [`crate::count_items`] when it arrives).
#[inline]
pub fn merge_into(batch: &mut Vec<u8>, request: &[u8]) {
    batch.extend_from_slice(request);
}

/// Concatenates `requests` (all of one signal) into one request.
pub fn merge<'a>(requests: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut batch = Vec::new();
    for request in requests {
        merge_into(&mut batch, request);
    }
    batch
}
