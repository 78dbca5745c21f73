//! Pipelines: what happens to a request once a receiver accepted its bytes.
//!
//! memory gate → processors before `batch` → batcher → processors after it →
//! exporter queues. Data travels as [`Batch`]es of OTLP protobuf bytes and is
//! never decoded here; plugins do that.

mod ack;
mod batch;
mod batcher;
mod chain;
mod connector;
mod delivery;
mod durable;
mod exporter;
mod ingest;
mod memory;
#[allow(clippy::module_inception)]
mod pipeline;
mod queue;
mod router;
mod stateful;
mod store;
mod tail;
mod topology;

pub use batch::Batch;
pub use ingest::{Accepted, Ingest, IngestFuture, IngestRequest, Refusal};
pub use memory::{MemoryGate, MemoryPermit, Reservation};
pub use router::{Router, Routes};
pub use store::{Fsync, QueueStore, Record, StoreError, Stored};
pub use topology::{LoadedPlugin, Prepared, Tasks, Topology, prepare, start};
