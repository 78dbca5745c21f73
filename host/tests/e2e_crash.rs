//! Crashes under load, through the real binary: `kill -9` while clients
//! send through a persistent sending queue to a live endpoint, again and
//! again on the same storage. Every acknowledged record arrives; what
//! arrives twice is counted, and bounded by what the senders were sending
//! (or had just finished) when the process died.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::Weir;
use common::seqlogs::{assert_none_missing, await_all, send_until, seqs};
use common::sink::Sink;

/// Records per client request.
const PER_REQUEST: i64 = 10;
/// Records per batch (the batcher's `send_batch_size` and `send_batch_max_size`).
const BATCH: usize = 50;
/// Concurrent senders of the exporter.
const CONSUMERS: usize = 4;
/// Kills in a row.
const KILLS: usize = 3;
/// Seq numbers of round `r` start at `r * ROUND_SEQS` (unique across rounds).
const ROUND_SEQS: i64 = 100_000_000;

fn config(endpoint: &str, storage: &Path, fsync: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 50ms, send_batch_size: {BATCH}, send_batch_max_size: {BATCH}}}
exporters:
  otlphttp:
    endpoint: {endpoint}
    compression: none
    retry_on_failure: {{initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0s}}
    sending_queue:
      queue_size: 100000
      num_consumers: {CONSUMERS}
      storage: {{directory: {dir}, fsync: {fsync}}}
service:
  shutdown_timeout: 30s
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [batch], exporters: [otlphttp]}}
"#,
        dir = storage.display()
    )
}

/// What one kill left behind.
struct Kill {
    /// Endpoint requests (indices into `sink.received()`) made by the
    /// process that was killed.
    requests: std::ops::Range<usize>,
    acknowledged: usize,
}

fn kill_9_under_load(fsync: &str) {
    let dir = tempfile::tempdir().unwrap();
    // A live endpoint that takes a few milliseconds per request, so that
    // requests are on the wire when the process dies.
    let sink = Sink::start(None, common::sink::slow_ok(Duration::from_millis(3)));
    let storage = dir.path().join("queue");
    let cfg = config(&format!("http://{}", sink.addr), &storage, fsync);
    let mut accepted = Vec::new();
    let mut kills = Vec::new();
    for round in 0..KILLS {
        let weir = Weir::start(dir.path(), &cfg);
        let before = sink.received().len();
        let stop = Arc::new(AtomicBool::new(false));
        let clients = send_until(
            weir.http.unwrap(),
            4,
            PER_REQUEST,
            round as i64 * ROUND_SEQS,
            stop.clone(),
        );
        // Load for a while (a different time each round), with batches
        // reaching the endpoint, then the kill.
        std::thread::sleep(Duration::from_millis(1500 + 700 * round as u64));
        weir.wait_for("deliveries", Duration::from_secs(60), |_| {
            sink.received().len() > before + 5
        });
        weir.kill9();
        stop.store(true, Ordering::Relaxed);
        let (acked, _) = clients.join().unwrap();
        // A request the endpoint was reading as the process died is
        // recorded a moment later (with an empty body); let it land.
        std::thread::sleep(Duration::from_millis(200));
        let after = sink.received().len();
        assert!(!acked.is_empty(), "round {round}: nothing acknowledged");
        kills.push(Kill {
            requests: before..after,
            acknowledged: acked.len(),
        });
        accepted.extend(acked);
    }

    // The last start, on the same storage: everything comes out.
    let weir = Weir::start(dir.path(), &cfg);
    let replayed = weir.metric("weir_exporter_queue_replayed_items_total", &[]);
    let (_, missing, _) = await_all(&sink, &accepted, Duration::from_secs(180));
    assert_none_missing(&missing, accepted.len(), "never arrived");
    weir.wait_for("the queue to empty", Duration::from_secs(60), |w| {
        w.metric("weir_exporter_queue_size", &[("exporter", "otlphttp")]) == 0.0
    });
    assert!(weir.stop().success());

    // Which endpoint requests carried records that arrived again later.
    let received: Vec<Vec<i64>> = sink.received().iter().map(seqs).collect();
    let mut last_seen: BTreeMap<i64, usize> = BTreeMap::new();
    for (i, r) in received.iter().enumerate() {
        for s in r {
            last_seen.insert(*s, i);
        }
    }
    let mut total_duplicates = 0;
    let mut report = Vec::new();
    for (n, kill) in kills.iter().enumerate() {
        let resent: Vec<usize> = kill
            .requests
            .clone()
            .filter(|&i| received[i].iter().any(|s| last_seen[s] > i))
            .collect();
        let records: usize = resent
            .iter()
            .map(|&i| received[i].iter().filter(|s| last_seen[*s] > i).count())
            .sum();
        // A sender delivers a batch while the removal of the one before is
        // committed, and waits for that removal before it takes another:
        // what a kill can send again is at most two batches per sender,
        // among the last requests the killed process made.
        let window = 3 * CONSUMERS;
        let first_allowed = kill.requests.end.saturating_sub(window);
        let early: Vec<usize> = resent
            .iter()
            .copied()
            .filter(|&i| i < first_allowed)
            .collect();
        report.push(format!(
            "kill {}: {} records acknowledged, {} endpoint requests, {} of them sent again \
             ({records} records; offsets from the end {:?})",
            n + 1,
            kill.acknowledged,
            kill.requests.len(),
            resent.len(),
            resent
                .iter()
                .map(|&i| kill.requests.end - i)
                .collect::<Vec<_>>()
        ));
        assert!(
            resent.len() <= 2 * CONSUMERS,
            "kill {}: {} batches sent again, more than two per sender ({CONSUMERS})\n{}",
            n + 1,
            resent.len(),
            report.join("\n")
        );
        assert!(
            early.is_empty(),
            "kill {}: requests {early:?} were delivered well before the kill (the last was {}) \
             and sent again\n{}",
            n + 1,
            kill.requests.end - 1,
            report.join("\n")
        );
        assert!(records <= 2 * CONSUMERS * BATCH, "{}", report.join("\n"));
        total_duplicates += records;
    }
    eprintln!(
        "kill -9 under load (fsync: {fsync}), {KILLS} kills: {} records acknowledged, all \
         delivered; {replayed} replayed on the last start; {total_duplicates} records arrived \
         twice\n{}",
        accepted.len(),
        report.join("\n")
    );
}

#[test]
fn kill_9_under_load_with_a_live_endpoint_loses_nothing_and_bounds_duplicates() {
    kill_9_under_load("batch");
}

#[test]
fn kill_9_under_load_with_fsync_always() {
    kill_9_under_load("always");
}

/// A kill moments after the endpoint took everything: the batches it took
/// are already forgotten on disk, so the next process sends none again.
#[test]
fn kill_9_just_after_delivery_sends_nothing_again() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(None, common::sink::always_ok());
    let storage = dir.path().join("queue");
    let cfg = config(&format!("http://{}", sink.addr), &storage, "batch");
    let weir = Weir::start(dir.path(), &cfg);
    let mut accepted = Vec::new();
    for block in 0..30 {
        let first = block * PER_REQUEST;
        let body = common::seqlogs::logs(first, PER_REQUEST, 64);
        assert_eq!(common::seqlogs::post(weir.http.unwrap(), &body).status, 200);
        accepted.extend(first..first + PER_REQUEST);
    }
    let (_, missing, _) = await_all(&sink, &accepted, Duration::from_secs(60));
    assert!(missing.is_empty(), "not delivered: {missing:?}");
    weir.wait_for("the queue to empty", Duration::from_secs(30), |w| {
        w.metric("weir_exporter_queue_size", &[("exporter", "otlphttp")]) == 0.0
    });
    // Well within a second of the last delivery (and of the last write).
    weir.kill9();
    let weir = Weir::start(dir.path(), &cfg);
    std::thread::sleep(Duration::from_secs(1));
    let (_, _, duplicates) = await_all(&sink, &accepted, Duration::ZERO);
    assert_eq!(
        weir.metric("weir_exporter_queue_replayed_items_total", &[]),
        0.0,
        "delivered batches were still on disk"
    );
    assert_eq!(duplicates, 0);
}

/// Replay after a restart, as a figure (`benches/durability.sh` runs it):
/// `WEIR_REPLAY_RECORDS` records (default 100,000) are queued on disk for a
/// down endpoint, the process is killed, and a new one sends them all to
/// the endpoint, now up. Throughput is taken between the first and the
/// last request the endpoint received.
#[test]
#[ignore = "a benchmark figure (benches/durability.sh)"]
fn replay_throughput_after_a_restart() {
    const PER: i64 = 100;
    const THREADS: i64 = 4;
    let records: i64 = std::env::var("WEIR_REPLAY_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, common::sink::always_ok());
    sink.pause();
    let storage = dir.path().join("queue");
    let cfg = config(&format!("http://{}", sink.addr), &storage, "batch")
        .replace(
            &format!("send_batch_size: {BATCH}, send_batch_max_size: {BATCH}"),
            "send_batch_size: 1000, send_batch_max_size: 1000",
        )
        .replace("timeout: 50ms", "timeout: 200ms");
    let weir = Weir::start(dir.path(), &cfg);
    let addr = weir.http.unwrap();
    let started = std::time::Instant::now();
    let senders: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut block = t;
                while block * PER < records {
                    let body = common::seqlogs::logs(block * PER, PER, 200);
                    assert_eq!(common::seqlogs::post(addr, &body).status, 200);
                    block += THREADS;
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let ingest = started.elapsed();
    let bytes = weir.metric(
        "weir_exporter_queue_stored_bytes",
        &[("exporter", "otlphttp")],
    );
    weir.kill9();

    sink.resume();
    let weir = Weir::start(dir.path(), &cfg);
    let all: Vec<i64> = (0..records).collect();
    let (_, missing, duplicates) = await_all(&sink, &all, Duration::from_secs(600));
    assert!(missing.is_empty(), "{} records lost", missing.len());
    let replayed = weir.metric("weir_exporter_queue_replayed_items_total", &[]);
    assert_eq!(replayed, records as f64);
    let received = sink.received();
    let span = received.last().unwrap().at - received.first().unwrap().at;
    let secs = span.as_secs_f64().max(1e-3);
    eprintln!(
        "FIGURE ingest_into_persistent_queue records={records} secs={:.3} records_per_s={:.0} (HTTP, 4 clients, fsync batch)",
        ingest.as_secs_f64(),
        records as f64 / ingest.as_secs_f64()
    );
    eprintln!(
        "FIGURE replay records={records} bytes={bytes:.0} requests={} secs={secs:.3} records_per_s={:.0} mb_per_s={:.2} duplicates={duplicates}",
        received.len(),
        records as f64 / secs,
        bytes / secs / 1e6
    );
}
