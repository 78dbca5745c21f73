//! Pipelines: what happens to a request once a receiver accepted its bytes.
//!
//! memory gate → (processors before `batch`) → batcher → processor chain →
//! exporter fan-out. Data travels as [`Batch`]es of OTLP protobuf bytes.

mod batch;
mod ingest;

pub use batch::Batch;
pub use ingest::{Accepted, Ingest, IngestRequest, Refusal};
