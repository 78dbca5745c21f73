//! `weir-loadgen`: an OTLP load generator and a counting OTLP sink, for
//! measuring Weir end to end (see `benches/e2e.sh`).
//!
//! - [`generator`] sends stamped copies of one request ([`payload`],
//!   [`stamp`]) over OTLP/gRPC or OTLP/HTTP ([`client`], [`tls`]) at a fixed
//!   rate or as fast as accepted, and reports what was accepted and refused
//!   and the latency of each request ([`latency`]);
//! - [`sink`] receives OTLP, counts items per signal and checks the stamped
//!   ids: every missing and duplicated item is found.

// `weir_wire::WireError` carries its path inline so reporting one allocates
// nothing; it comes back once per malformed payload, on the cold path.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod client;
pub mod generator;
pub mod latency;
pub mod payload;
pub mod sink;
pub mod stamp;
pub mod tls;
