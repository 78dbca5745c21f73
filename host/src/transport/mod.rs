//! Delivery of what exporter plugins encode. The host owns all I/O: a
//! plugin names no file or endpoint; the operator's config does.

mod file;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

pub use file::FileSink;

/// Where an exporter's outgoing requests go.
#[derive(Clone)]
pub enum Destination {
    /// The collector's standard output.
    Stdout,
    /// A file the exporter's `path` names, opened for appending.
    File(Arc<FileSink>),
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
        }
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        match self {
            Destination::Stdout => "stdout".into(),
            Destination::File(sink) => sink.path().display().to_string(),
        }
    }
}
