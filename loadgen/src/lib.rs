//! `weir-loadgen`: an OTLP load generator and a counting OTLP sink, for
//! measuring Weir end to end (see `benches/e2e.sh`).
//!
//! - [`generator`] sends stamped copies of one request ([`payload`],
//!   [`stamp`]) over OTLP/gRPC or OTLP/HTTP ([`client`], [`tls`]) at a fixed
//!   rate or as fast as accepted, and reports what was accepted and refused
//!   and the latency of each request ([`latency`]);
//! - [`sink`] receives OTLP, counts items per signal and checks the stamped
//!   ids: every missing and duplicated item is found.

pub mod cli;
pub mod client;
pub mod generator;
pub mod latency;
pub mod payload;
pub mod sink;
pub mod stamp;
pub mod tls;
