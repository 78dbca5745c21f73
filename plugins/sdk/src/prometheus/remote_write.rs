//! Prometheus remote write 1.0: `prometheus.WriteRequest` and its parts,
//! from the `weir-remote-write` crate the host's scrape endpoint reads
//! them with.

pub use weir_remote_write::*;
