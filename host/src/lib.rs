//! Weir: an OpenTelemetry collector whose processors and exporters are
//! sandboxed WebAssembly components.
//!
//! The host (this crate) owns everything that must be fast and trusted:
//! TLS, OTLP ingestion, memory accounting, batching and I/O. Plugins (WASM
//! components, `../plugins`) compute: they edit batches and encode them for
//! a destination.
//!
//! A request's path:
//! [`receiver`] (TLS, [`auth`], size limits, decode, validate)
//! → [`tenant`] (whose request: identity, rate limit, budget)
//! → [`pipeline`] (memory gate, batcher, processor chain, exporter fan-out)
//! → [`plugin`] (sandboxed calls) → [`transport`] (stdout, file, network).

pub mod auth;
pub mod certs;
pub mod cli;
pub mod config;
pub mod devkit;
pub mod malloc;
pub mod pipeline;
pub mod plugin;
pub mod receiver;
pub mod service;
pub mod telemetry;
pub mod tenant;
#[doc(hidden)]
pub mod test_util;
pub mod transport;

pub use weir_wire::Signal;
