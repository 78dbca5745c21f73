//! Command line: generator flags by default, `--sink` for the sink.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Parser;
use rustls::pki_types::ServerName;
use weir_wire::Signal;

use crate::client::{Protocol, Target};
use crate::generator::{Limit, Plan, Report};
use crate::payload::{Shape, from_file, signal_of_file, synthetic};
use crate::sink::{SinkPlan, SinkReport, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignalArg {
    Traces,
    Metrics,
    Logs,
}

impl From<SignalArg> for Signal {
    fn from(s: SignalArg) -> Signal {
        match s {
            SignalArg::Traces => Signal::Traces,
            SignalArg::Metrics => Signal::Metrics,
            SignalArg::Logs => Signal::Logs,
        }
    }
}

/// OTLP load generator (default) and counting sink (`--sink`).
///
/// Generator: `weir-loadgen --target 127.0.0.1:4317 --duration 10 --rate 100000`.
/// Sink: `weir-loadgen --sink --listen 127.0.0.1:4417 --expect 1000000 --json`.
#[derive(Debug, Parser)]
#[command(name = "weir-loadgen", version)]
pub struct Args {
    /// Run as the counting sink instead of the generator.
    #[arg(long)]
    pub sink: bool,

    /// Generator: the receiver to send to (host:port).
    #[arg(long, required_unless_present = "sink")]
    pub target: Option<String>,
    /// Sink: the address to listen on (port 0 picks one; printed on stderr).
    #[arg(long, requires = "sink")]
    pub listen: Option<String>,
    /// Sink: read length-prefixed records (Weir's `file` exporter, `format:
    /// proto`) from this file or FIFO instead of listening.
    #[arg(long, requires = "sink", conflicts_with = "listen")]
    pub from_file: Option<PathBuf>,

    /// OTLP/gRPC (the generator's default; for the sink: serve only gRPC).
    #[arg(long, conflicts_with = "http")]
    pub grpc: bool,
    /// OTLP/HTTP with protobuf bodies (for the sink: serve only HTTP).
    #[arg(long)]
    pub http: bool,

    /// Signal to send (or, with --from-file, to read).
    #[arg(long, value_enum, default_value = "traces")]
    pub signal: SignalArg,
    /// Items (spans, data points, log records) per second over all
    /// connections; without it, as fast as the receiver accepts.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Items per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Resources the items of a request are spread over.
    #[arg(long, default_value_t = 10)]
    pub resources: usize,
    /// String attributes per item.
    #[arg(long, default_value_t = 10)]
    pub attributes: usize,
    /// Bytes of an extra string attribute per item.
    #[arg(long, default_value_t = 0)]
    pub payload_bytes: usize,
    /// Send this request file (protobuf `.pb`, or gRPC-framed `.grpc`)
    /// instead of a synthetic one; --batch etc. are then ignored. The
    /// signal is taken from the name (`traces-...`) unless --signal is given.
    #[arg(long)]
    pub payload_file: Option<PathBuf>,
    /// Connections, each with one request in flight.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Run for this many seconds.
    #[arg(long, conflicts_with = "count", required_unless_present_any = ["count", "sink"])]
    pub duration: Option<f64>,
    /// Send exactly this many items.
    #[arg(long)]
    pub count: Option<u64>,
    /// Re-send a request refused with 429/503/RESOURCE_EXHAUSTED/UNAVAILABLE
    /// or lost to a connection error, up to this many times.
    #[arg(long, default_value_t = 0)]
    pub retries: u32,
    /// The `loadgen.id` of the first item (ids count up from it), so that
    /// several runs can feed one sink without their ids colliding.
    #[arg(long, default_value_t = 0)]
    pub first_id: u64,
    /// Do not stamp `loadgen.id` / `loadgen.sent_ns` on the items.
    #[arg(long)]
    pub no_stamp: bool,

    /// Generator: trust this CA (turns TLS on). Sink: require client
    /// certificates from this CA (mTLS; needs --cert and --key).
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Generator: client certificate for mTLS. Sink: server certificate (turns TLS on).
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Generator: the name the server certificate must carry (default: the target's host).
    #[arg(long)]
    pub server_name: Option<String>,

    /// Sink: stop once this many items arrived (distinct ids when stamped).
    #[arg(long, requires = "sink")]
    pub expect: Option<u64>,
    /// Sink: stop after this many seconds without a new item.
    #[arg(long, requires = "sink")]
    pub idle_exit: Option<f64>,

    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Runtime worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

/// Runs what `args` ask for; `Ok(false)` when the run lost or refused data.
pub async fn run(args: Args) -> anyhow::Result<bool> {
    if args.sink {
        let report = run_sink(&args).await?;
        print(&args, &report, |r| r.to_string())?;
        let clean = report.bad_requests == 0
            && report
                .signals
                .iter()
                .all(|s| s.missing_ids == 0 && s.duplicate_ids == 0);
        Ok(clean)
    } else {
        let report = run_generator(&args).await?;
        print(&args, &report, generator_text)?;
        Ok(report.items_failed == 0 && report.items_rejected == 0)
    }
}

fn print<T: serde::Serialize>(
    args: &Args,
    report: &T,
    text: impl Fn(&T) -> String,
) -> anyhow::Result<()> {
    if args.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", text(report));
    }
    Ok(())
}

async fn run_sink(args: &Args) -> anyhow::Result<SinkReport> {
    let source = match (&args.from_file, &args.listen) {
        (Some(path), _) => Source::File {
            path: path.clone(),
            signal: args.signal.into(),
        },
        (None, Some(listen)) => {
            let tls = match (&args.cert, &args.key) {
                (Some(cert), Some(key)) => Some(Arc::new(crate::tls::server_config(
                    cert,
                    key,
                    args.ca.as_deref(),
                )?)),
                _ if args.ca.is_some() => bail!("--ca on the sink needs --cert and --key"),
                _ => None,
            };
            Source::Listen {
                addr: resolve(listen)?,
                only: protocol_only(args),
                tls,
            }
        }
        (None, None) => bail!("the sink needs --listen ADDR or --from-file PATH"),
    };
    let plan = SinkPlan {
        source,
        expect: args.expect,
        idle_exit: args.idle_exit.map(Duration::from_secs_f64),
    };
    crate::sink::run(plan, |addr| {
        eprintln!("weir-loadgen sink listening on {addr}")
    })
    .await
}

fn protocol_only(args: &Args) -> Option<Protocol> {
    match (args.grpc, args.http) {
        (true, _) => Some(Protocol::Grpc),
        (_, true) => Some(Protocol::Http),
        _ => None,
    }
}

async fn run_generator(args: &Args) -> anyhow::Result<Report> {
    let target_arg = args.target.as_deref().context("--target is required")?;
    let protocol = if args.http {
        Protocol::Http
    } else {
        Protocol::Grpc
    };
    let signal_given = std::env::args().any(|a| a == "--signal" || a.starts_with("--signal="));
    let (signal, template, template_items) = match &args.payload_file {
        Some(path) => {
            let signal = match signal_of_file(path) {
                Some(s) if !signal_given => s,
                _ => args.signal.into(),
            };
            let (bytes, items) = from_file(signal, path)?;
            (signal, bytes, items)
        }
        None => {
            anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
            let signal = args.signal.into();
            let shape = Shape {
                items: args.batch,
                resources: args.resources,
                attributes: args.attributes,
                payload_bytes: args.payload_bytes,
            };
            (signal, synthetic(signal, &shape), args.batch)
        }
    };
    let tls = match &args.ca {
        Some(ca) => {
            let alpn: &[&[u8]] = match protocol {
                Protocol::Grpc => &[b"h2"],
                Protocol::Http => &[b"http/1.1"],
            };
            let cert_key = args.cert.as_deref().zip(args.key.as_deref());
            let config = crate::tls::client_config(ca, cert_key, alpn)?;
            let host = match &args.server_name {
                Some(name) => name.clone(),
                None => host_of(target_arg).to_owned(),
            };
            let name = ServerName::try_from(host.clone())
                .with_context(|| format!("bad server name {host}"))?;
            Some((Arc::new(config), name))
        }
        None if args.cert.is_some() => {
            bail!("--cert on the generator needs --ca (the server's CA)")
        }
        None => None,
    };
    let limit = match (args.duration, args.count) {
        (Some(d), _) => Limit::Duration(Duration::from_secs_f64(d)),
        (None, Some(n)) => Limit::Items(n),
        (None, None) => bail!("give --duration SECS or --count ITEMS"),
    };
    let plan = Plan {
        target: Target {
            addr: resolve(target_arg)?,
            protocol,
            signal,
            tls,
        },
        template: Bytes::from(template),
        template_items,
        rate: args.rate,
        limit,
        connections: args.connections,
        retries: args.retries,
        stamp: !args.no_stamp,
        first_id: args.first_id,
    };
    crate::generator::run(plan).await
}

fn host_of(target: &str) -> &str {
    let host = target.rsplit_once(':').map_or(target, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

fn resolve(addr: &str) -> anyhow::Result<SocketAddr> {
    addr.to_socket_addrs()
        .with_context(|| format!("bad address {addr}"))?
        .next()
        .with_context(|| format!("{addr} resolves to nothing"))
}

fn generator_text(r: &Report) -> String {
    let mut s = format!(
        "generator: {} over {} ({} connections) for {:.2} s\n  \
         requests {}, items sent {}, accepted {}, rejected (partial) {}, failed {}\n  \
         {:.0} items/s accepted, {:.1} MB sent\n  latency: {}\n",
        r.signal,
        r.protocol,
        r.connections,
        r.elapsed_s,
        r.requests,
        r.items_sent,
        r.items_accepted,
        r.items_rejected,
        r.items_failed,
        r.accepted_per_s,
        r.bytes_sent as f64 / 1e6,
        r.latency
    );
    for (status, n) in &r.refused {
        s.push_str(&format!("  refused {status}: {n} requests\n"));
    }
    for (error, n) in &r.errors {
        s.push_str(&format!("  error ({n}x): {error}\n"));
    }
    s
}
