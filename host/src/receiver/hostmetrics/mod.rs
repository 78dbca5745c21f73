//! The `hostmetrics` receiver: every `collection_interval`, the configured
//! scrapers read `/proc` and the result goes into the pipelines as one OTLP
//! metrics request, like any received request (counted under transport
//! `scrape`). A scraper that fails is logged and counted; the others' metrics
//! still go. A scrape the pipelines refuse (memory full) is dropped and
//! counted, as the Go collector does: the next one carries the same
//! cumulative totals.

mod scrape;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use prost::Message;
use tokio::task::JoinSet;

use super::RunningReceiver;
use crate::Signal;
use crate::config::hostmetrics::HostMetricsConfig;
use crate::pipeline::{Ingest, IngestRequest};
use crate::telemetry::{ReceiverLabels, metrics};

pub use scrape::ScrapeError;

type Scraper = fn(scrape::Times) -> Result<Vec<Metric>, ScrapeError>;

/// Starts scraping on a timer until `shutdown` completes.
pub fn start(
    id: &str,
    config: &HostMetricsConfig,
    ingest: Arc<dyn Ingest>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> RunningReceiver {
    let s = &config.scrapers;
    let scrapers: Vec<(&'static str, Scraper)> = [
        (s.cpu, "cpu", scrape::cpu as Scraper),
        (s.memory, "memory", scrape::memory),
        (s.disk, "disk", scrape::disk),
        (s.network, "network", scrape::network),
        (s.load, "load", scrape::load),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, name, f)| (name, f))
    .collect();
    let receiver = id.to_string();
    let (interval, delay) = (config.collection_interval, config.initial_delay);
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + delay, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = ticks.tick() => {}
            }
            let request = scrape_all(&receiver, &scrapers);
            deliver(&receiver, ingest.as_ref(), request).await;
        }
    });
    RunningReceiver {
        grpc_addr: None,
        http_addr: None,
        tls: Vec::new(),
        tasks,
    }
}

/// Runs every scraper once; one resource, a scope per scraper.
fn scrape_all(receiver: &str, scrapers: &[(&'static str, Scraper)]) -> ExportMetricsServiceRequest {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos() as u64;
    let start = scrape::boot_time_unix_nano().unwrap_or(now);
    let times = scrape::Times {
        start_unix_nano: start,
        now_unix_nano: now,
    };
    let scope_metrics = scrapers
        .iter()
        .filter_map(|(name, scraper)| match scraper(times) {
            Ok(metrics) => Some(ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: format!("weir/receiver/hostmetrics/{name}"),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }),
            Err(e) => {
                tracing::warn!(receiver, scraper = name, "scrape failed: {e}");
                metrics()
                    .receiver_refused_items
                    .get_or_create(&labels(receiver))
                    .inc();
                None
            }
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Default::default()),
            scope_metrics,
            ..Default::default()
        }],
    }
}

async fn deliver(receiver: &str, ingest: &dyn Ingest, request: ExportMetricsServiceRequest) {
    let payload = request.encode_to_vec();
    let items = weir_wire::count_items(Signal::Metrics, &payload).unwrap_or(0);
    if items == 0 {
        return;
    }
    let outcome = ingest
        .ingest(IngestRequest {
            signal: Signal::Metrics,
            payload: payload.into(),
            items,
            tenant: Arc::from("default"),
            metadata: Vec::new(),
            principal: Default::default(),
            permits: Vec::new(),
        })
        .await;
    let m = metrics();
    match outcome {
        Ok(_) => m
            .receiver_accepted_items
            .get_or_create(&labels(receiver))
            .inc_by(items as u64),
        Err(refusal) => {
            tracing::warn!(receiver, "scrape dropped: {refusal:?}");
            m.receiver_refused_items
                .get_or_create(&labels(receiver))
                .inc_by(items as u64)
        }
    };
}

fn labels(receiver: &str) -> ReceiverLabels {
    ReceiverLabels {
        receiver: receiver.into(),
        transport: "scrape".into(),
        signal: Signal::Metrics.as_str().into(),
    }
}
