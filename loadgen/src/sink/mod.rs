//! The counting sink: receives OTLP (or reads a file of records), counts
//! items per signal, checks stamped ids for loss and duplicates, and
//! reports when told to stop, when `expect` items arrived, or after
//! `idle_exit` without any.

mod counts;
mod file;
mod ids;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio_rustls::TlsAcceptor;
use weir_wire::Signal;

pub use counts::{Counts, SignalReport};
pub use ids::IdSet;

use crate::client::Protocol;

/// Where the sink takes data from and when it stops.
#[derive(Debug, Clone)]
pub struct SinkPlan {
    pub source: Source,
    /// Stop once this many items (distinct ids, plus unstamped items) arrived.
    pub expect: Option<u64>,
    /// Stop after this long without a new item (counted from the start
    /// until the first item arrives).
    pub idle_exit: Option<Duration>,
}

#[derive(Debug, Clone)]
pub enum Source {
    /// Listen for OTLP; `only` limits it to one protocol.
    Listen {
        addr: SocketAddr,
        only: Option<Protocol>,
        tls: Option<Arc<rustls::ServerConfig>>,
    },
    /// Read length-prefixed records of `signal` from a file or FIFO.
    File { path: PathBuf, signal: Signal },
}

/// What the sink saw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SinkReport {
    pub elapsed_s: f64,
    /// Why it stopped: `signal`, `expect`, `idle`, `end of file`.
    pub stopped_by: &'static str,
    pub bad_requests: u64,
    pub signals: Vec<SignalReport>,
}

/// Runs the sink until one of its stop conditions; `on_listen` is told the
/// bound address (useful with port 0).
pub async fn run(plan: SinkPlan, on_listen: impl FnOnce(SocketAddr)) -> anyhow::Result<SinkReport> {
    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<anyhow::Result<()>>(1);
    let source = match plan.source.clone() {
        Source::Listen { addr, only, tls } => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            on_listen(listener.local_addr()?);
            let acceptor = tls.map(TlsAcceptor::from);
            tokio::spawn(server::serve(listener, acceptor, only, counts.clone()))
        }
        Source::File { path, signal } => {
            let counts = counts.clone();
            tokio::spawn(async move {
                let read =
                    tokio::task::spawn_blocking(move || file::read_records(&path, signal, &counts))
                        .await;
                let _ = done_tx
                    .send(read.map_err(anyhow::Error::from).and_then(|r| r))
                    .await;
            })
        }
    };
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    let stopped_by = loop {
        tokio::select! {
            _ = sigterm.recv() => break "signal",
            _ = sigint.recv() => break "signal",
            Some(result) = done_rx.recv() => {
                result?;
                break "end of file";
            }
            _ = poll.tick() => {
                if plan.expect.is_some_and(|n| counts.received() >= n) {
                    break "expect";
                }
                if let Some(idle) = plan.idle_exit {
                    let since = counts.last_arrival().unwrap_or(start);
                    if since.elapsed() >= idle {
                        break "idle";
                    }
                }
            }
        }
    };
    source.abort();
    Ok(SinkReport {
        elapsed_s: start.elapsed().as_secs_f64(),
        stopped_by,
        bad_requests: counts.bad_requests(),
        signals: counts.report(plan.expect),
    })
}

impl std::fmt::Display for SinkReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "sink: stopped by {} after {:.2} s; {} bad requests",
            self.stopped_by, self.elapsed_s, self.bad_requests
        )?;
        if self.signals.is_empty() {
            writeln!(f, "  nothing received")?;
        }
        for s in &self.signals {
            writeln!(
                f,
                "  {}: {} items in {} requests ({} bytes), {:.0} items/s over {:.2} s",
                s.signal, s.items, s.requests, s.bytes, s.items_per_s, s.active_s
            )?;
            writeln!(
                f,
                "    ids: {} distinct, {} duplicate, {} missing{}, {} unstamped",
                s.distinct_ids,
                s.duplicate_ids,
                s.missing_ids,
                if s.first_missing.is_empty() {
                    String::new()
                } else {
                    format!(" (first: {:?})", s.first_missing)
                },
                s.unstamped
            )?;
            writeln!(f, "    end-to-end latency: {}", s.latency)?;
        }
        Ok(())
    }
}
