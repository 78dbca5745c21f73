//! Allocation-free work on OTLP requests as protobuf bytes.
//!
//! Weir's host never decodes the OTLP tree: a batch is the bytes of an
//! `Export{Traces,Metrics,Logs}ServiceRequest`. Two requests merge by
//! concatenating their bytes (the top-level field is repeated); this crate
//! counts and validates items by scanning the wire format, and splits a
//! request into smaller ones by copying runs of bytes and writing new length
//! prefixes.
//!
//! - [`FieldReader`] frames the fields of one message (`scan`);
//! - [`count_items`] counts spans, data points or log records and validates
//!   the framing on the way (`count`);
//! - [`merge`] / [`merge_into`] concatenate requests (`merge`);
//! - [`split()`] cuts a request into requests of at most N items (`split`).
//!
//! Which fields lead from a request to its items is written down once, in
//! `shape`.
//!
//! ```
//! use weir_wire::{Signal, count_items, merge, split};
//!
//! // resource_spans { scope_spans { spans {} spans {} spans {} } }
//! let request = [0x0a, 8, 0x12, 6, 0x12, 0, 0x12, 0, 0x12, 0];
//! assert_eq!(count_items(Signal::Traces, &request)?, 3);
//!
//! let batch = merge([&request[..], &request[..]]);
//! assert_eq!(count_items(Signal::Traces, &batch)?, 6);
//!
//! let parts = split(Signal::Traces, &batch, 4)?;
//! assert_eq!(parts.len(), 2);
//! assert_eq!(count_items(Signal::Traces, &parts[0])?, 4);
//! assert_eq!(count_items(Signal::Traces, &parts[1])?, 2);
//!
//! // A cut-off request is refused, with where and why.
//! let err = count_items(Signal::Traces, &request[..5]).unwrap_err();
//! assert_eq!(err.offset, 1); // the length of resource_spans[0]
//! assert_eq!(err.to_string(), "length runs past the end of the message (at byte 1)");
//! # Ok::<(), weir_wire::WireError>(())
//! ```

// A `WireError` carries its path inline (about 120 bytes) so that reporting
// one allocates nothing; it is returned only on the cold path, once per
// payload, so its size costs nothing where it matters.
#![allow(clippy::result_large_err)]

mod count;
mod edit;
mod merge;
mod scan;
mod shape;
mod split;
#[cfg(test)]
mod testdata;

pub use count::count_items;
pub use edit::{ItemEdit, ItemKind, edit_items, key_value, put_bytes_field, put_key_value};
pub use merge::{merge, merge_into};
pub use scan::{Field, FieldReader, WireType};
pub use split::split;

/// An OpenTelemetry signal, naming which request type a payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// `ExportTraceServiceRequest`; items are spans.
    Traces,
    /// `ExportMetricsServiceRequest`; items are data points.
    Metrics,
    /// `ExportLogsServiceRequest`; items are log records.
    Logs,
}

impl Signal {
    /// All signals, in a fixed order.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The name used in config and metrics: `traces`, `metrics`, `logs`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// What one item of this signal is called (`spans`, `data points`, `log records`).
    pub fn item_name(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "data points",
            Signal::Logs => "log records",
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a payload is not a well-formed OTLP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// Byte offset in the payload where the problem was found.
    pub offset: usize,
    /// What is wrong, e.g. `length of field 1 runs past the end of the message`.
    pub reason: &'static str,
    /// Where in the tree, as field names and indexes among that field's
    /// occurrences: e.g. `resource_spans[2].scope_spans[0].spans[5]`, or for
    /// metrics `resource_metrics[0].scope_metrics[1].metrics[3].sum.data_points[7]`.
    /// Empty for a problem in the request's own top-level framing.
    pub path: WirePath,
}

/// The location of a problem as a small fixed array of (field, index) pairs,
/// so reporting an error allocates nothing until it is displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WirePath {
    steps: [(&'static str, u32); 4],
    len: u8,
}

impl WireError {
    pub(crate) fn new(offset: usize, reason: &'static str, path: WirePath) -> Self {
        WireError {
            offset,
            reason,
            path,
        }
    }

    /// The same error, located at `path` (the scanner knows offsets, not paths).
    pub(crate) fn at(mut self, path: WirePath) -> Self {
        self.path = path;
        self
    }
}

impl WirePath {
    /// The (field, index) steps from the request down, outermost first.
    pub fn steps(&self) -> &[(&'static str, u32)] {
        &self.steps[..self.len as usize]
    }

    /// Appends a step (`"resource_spans"`, 2); steps past the fourth are ignored.
    pub fn push(mut self, field: &'static str, index: u32) -> Self {
        if (self.len as usize) < self.steps.len() {
            self.steps[self.len as usize] = (field, index);
            self.len += 1;
        }
        self
    }
}

impl std::fmt::Display for WirePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (field, index)) in self.steps[..self.len as usize].iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{field}[{index}]")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.len == 0 {
            write!(f, "{} (at byte {})", self.reason, self.offset)
        } else {
            write!(
                f,
                "{}: {} (at byte {})",
                self.path, self.reason, self.offset
            )
        }
    }
}

impl std::error::Error for WireError {}
