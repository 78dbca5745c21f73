//! Graceful shutdown through the real binary, on SIGTERM and on SIGINT
//! alike: what a `batch` processor with a long timeout holds and what
//! `tail_sampling` holds during a long `decision_wait` reach a live network
//! endpoint before the process exits, long before either timer would fire.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use common::Weir;
use common::otlp::{post_traces, request, span};
use common::seqlogs::{logs, post, seqs};
use common::sink::{Sink, always_ok};

const TRACES: u64 = 200;
const LOG_REQUESTS: i64 = 20;
const PER_REQUEST: i64 = 10;

fn config(endpoint: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  tail_sampling:
    decision_wait: 5m
    num_traces: 10000
    policies: [{{name: all, type: always_sample}}]
  batch/long: {{timeout: 60s, send_batch_size: 100000}}
exporters:
  otlphttp:
    endpoint: {endpoint}
    compression: none
    retry_on_failure: {{initial_interval: 100ms, max_interval: 500ms}}
service:
  shutdown_timeout: 30s
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [tail_sampling, batch/long], exporters: [otlphttp]}}
    logs: {{receivers: [otlp], processors: [batch/long], exporters: [otlphttp]}}
"#
    )
}

/// Span names by how often they arrived at the endpoint.
fn spans_received(sink: &Sink) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in sink.received().iter().filter(|r| r.path == "/v1/traces") {
        let req = ExportTraceServiceRequest::decode(r.decoded().as_slice()).unwrap();
        for rs in req.resource_spans {
            for ss in rs.scope_spans {
                for s in ss.spans {
                    *counts.entry(s.name).or_default() += 1;
                }
            }
        }
    }
    counts
}

fn held_data_is_delivered_on(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(None, always_ok());
    let weir = Weir::start(dir.path(), &config(&format!("http://{}", sink.addr)));
    let addr = weir.http.unwrap();
    for chunk in (0..TRACES).collect::<Vec<_>>().chunks(50) {
        let spans = chunk
            .iter()
            .flat_map(|&n| [span(n, 0, 5, false), span(n, 1, 5, n % 3 == 0)])
            .collect();
        assert_eq!(post_traces(addr, &request(spans)), 200);
    }
    for block in 0..LOG_REQUESTS {
        let first = block * PER_REQUEST;
        assert_eq!(post(addr, &logs(first, PER_REQUEST, 64)).status, 200);
    }
    // Held: the traces wait for their decision, the logs for the batch timeout.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        sink.received().is_empty(),
        "something was sent before the shutdown"
    );

    let started = Instant::now();
    let status = weir.stop_with(signal);
    let took = started.elapsed();
    assert!(status.success(), "SIG{signal}: {status:?}");
    // Everything arrived before the process exited, once.
    let spans = spans_received(&sink);
    assert_eq!(spans.len(), 2 * TRACES as usize, "SIG{signal}: spans");
    assert!(spans.values().all(|n| *n == 1), "SIG{signal}: a span twice");
    let mut records: Vec<i64> = sink
        .received()
        .iter()
        .filter(|r| r.path == "/v1/logs")
        .flat_map(seqs)
        .collect();
    records.sort();
    assert_eq!(
        records,
        (0..LOG_REQUESTS * PER_REQUEST).collect::<Vec<_>>(),
        "SIG{signal}: log records"
    );
    // Flushed by the shutdown, not by a timer (60 s, 5 min).
    assert!(took < Duration::from_secs(30), "SIG{signal}: took {took:?}");
    eprintln!(
        "SIG{signal}: {} spans held by tail_sampling and {} records held by batch delivered; exit after {took:?}",
        spans.len(),
        records.len()
    );
}

#[test]
fn sigterm_delivers_a_partial_batch_and_spans_held_for_a_decision() {
    held_data_is_delivered_on("TERM");
}

#[test]
fn sigint_delivers_a_partial_batch_and_spans_held_for_a_decision() {
    held_data_is_delivered_on("INT");
}

/// SIGTERM with a full persistent queue and a live, slow endpoint: every
/// acknowledged record is delivered before the process exits (within
/// `shutdown_timeout`), once, and nothing is left on disk for the next start.
#[test]
fn sigterm_drains_a_full_persistent_queue_to_a_live_endpoint() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(None, common::sink::slow_ok(Duration::from_millis(20)));
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 50ms, send_batch_size: 50}}
exporters:
  otlphttp:
    endpoint: http://{addr}
    compression: none
    sending_queue: {{queue_size: 60, num_consumers: 2, storage: {{directory: {dir}, fsync: batch}}}}
service:
  shutdown_timeout: 60s
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [batch], exporters: [otlphttp]}}
"#,
        addr = sink.addr,
        dir = dir.path().join("queue").display()
    );
    let weir = Weir::start(dir.path(), &config);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = common::seqlogs::send_until(weir.http.unwrap(), 4, PER_REQUEST, 0, stop.clone());
    weir.wait_for("a full queue", Duration::from_secs(60), |w| {
        w.metric("weir_exporter_queue_refusals_total", &[]) > 0.0
    });
    stop.store(true, Ordering::Relaxed);
    let (accepted, refused) = clients.join().unwrap();
    let queued = weir.metric("weir_exporter_queue_size", &[("exporter", "otlphttp")]);
    let started = Instant::now();
    assert!(weir.stop().success());
    let took = started.elapsed();
    let (_, missing, duplicates) = common::seqlogs::await_all(&sink, &accepted, Duration::ZERO);
    common::seqlogs::assert_none_missing(
        &missing,
        accepted.len(),
        "were not delivered before exit",
    );
    assert_eq!(duplicates, 0);
    // The next start finds nothing to replay.
    let weir = Weir::start(dir.path(), &config);
    assert_eq!(
        weir.metric("weir_exporter_queue_replayed_items_total", &[]),
        0.0
    );
    eprintln!(
        "SIGTERM, persistent queue: {} records acknowledged ({refused} requests refused while full), \
         {queued} batches queued at the signal, all delivered once; exit after {took:?}",
        accepted.len()
    );
}
