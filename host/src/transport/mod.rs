//! Delivery of what exporter plugins encode. The host owns all I/O: a
//! plugin names no file or endpoint; the operator's config does.
//!
//! stdout and files are written here ([`Destination`]); the network goes
//! through [`NetworkSink`] (HTTP/1.1, HTTP/2 and unary gRPC over rustls),
//! whose answers [`SendOutcome`] classifies for the retry loop; a
//! `scrape` exporter's series are kept and served for Prometheus to pull
//! ([`ScrapeEndpoint`]).

pub mod config;
mod connector;
mod file;
mod network;
mod outcome;
pub mod scrape;
mod tls;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

pub use config::NetworkExporterConfig;
pub use file::FileSink;
pub use network::{NetworkSink, OutgoingRequest, compress};
pub use outcome::SendOutcome;
pub use scrape::{ScrapeConfig, ScrapeEndpoint};

/// Where an exporter's outgoing requests go.
#[derive(Clone)]
pub enum Destination {
    /// The collector's standard output.
    Stdout,
    /// A file the exporter's `path` names, opened for appending.
    File(Arc<FileSink>),
    /// The exporter's `endpoint`.
    Network(Arc<NetworkSink>),
    /// Kept and served at the exporter's `endpoint` for Prometheus to scrape.
    Scrape(Arc<ScrapeEndpoint>),
}

/// Why a destination could not be set up or written.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot open {path} for appending: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write to {target}: {source}")]
    Write {
        target: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
    /// A TLS setting cannot be used (names the key and file).
    #[error("{0}")]
    Tls(String),
    /// A setting (or what a plugin asked for) cannot be used; retrying cannot help.
    #[error("{0}")]
    Config(String),
    /// The request could not be sent or answered (connect, reset, timeout).
    #[error("{0}")]
    Send(String),
    /// A scrape endpoint's address could not be bound.
    #[error("cannot listen on {endpoint}: {source}")]
    Bind {
        endpoint: String,
        source: std::io::Error,
    },
}

impl Destination {
    /// Writes each body, in order. Runs blocking I/O: call from a blocking thread.
    pub fn deliver_blocking(&self, bodies: &[Vec<u8>]) -> Result<(), TransportError> {
        match self {
            Destination::Stdout => {
                let mut out = std::io::stdout().lock();
                bodies
                    .iter()
                    .try_for_each(|b| out.write_all(b))
                    .and_then(|_| out.flush())
                    .map_err(|source| TransportError::Write {
                        target: "stdout".into(),
                        source,
                    })
            }
            Destination::File(sink) => sink.append(bodies),
            Destination::Scrape(endpoint) => endpoint.keep(bodies),
            Destination::Network(sink) => Err(TransportError::Unsupported(format!(
                "{} is sent by the delivery loop, not written",
                sink.describe()
            ))),
        }
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        match self {
            Destination::Stdout => "stdout".into(),
            Destination::File(sink) => sink.path().display().to_string(),
            Destination::Network(sink) => sink.describe(),
            Destination::Scrape(endpoint) => format!("http://{}/metrics", endpoint.address()),
        }
    }
}
