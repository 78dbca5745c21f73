//! Durability end to end, through the real binary: a persistent sending
//! queue survives `kill -9` (every acknowledged record arrives once the
//! endpoint is back), and SIGTERM delivers what was acknowledged within
//! `service.shutdown_timeout`.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::Weir;
use common::seqlogs::{self, assert_none_missing, await_all, logs, post};
use common::sink::{Sink, always_ok};

/// Records per request.
const PER_REQUEST: i64 = 10;

fn config(endpoint: &str, queue: &str, shutdown_timeout: &str, storage_dir: &Path) -> String {
    format!(
        r#"
extensions:
  file_storage/queue:
    directory: {dir}
    create_directory: true
    fsync: batch
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  batch: {{timeout: 50ms, send_batch_size: 50}}
exporters:
  otlphttp:
    endpoint: {endpoint}
    compression: none
    retry_on_failure: {{initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0s}}
    sending_queue: {queue}
service:
  shutdown_timeout: {shutdown_timeout}
  extensions: [file_storage/queue]
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [batch], exporters: [otlphttp]}}
"#,
        dir = storage_dir.display()
    )
}

/// Clients posting blocks of PER_REQUEST numbered records (see `send_until`).
fn send_until(
    addr: SocketAddr,
    threads: i64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(Vec<i64>, usize)> {
    seqlogs::send_until(addr, threads, PER_REQUEST, 0, stop)
}

#[test]
fn kill_9_with_the_exporter_down_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, always_ok());
    // The endpoint is down: its port is known, nothing listens on it.
    sink.pause();
    let storage = dir.path().join("queue");
    let cfg = config(
        &format!("http://{}", sink.addr),
        "{queue_size: 100000, storage: file_storage/queue}",
        "30s",
        &storage,
    );
    let weir = Weir::start(dir.path(), &cfg);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = send_until(weir.http.unwrap(), 4, stop.clone());
    // Kill while clients are still sending and batches wait for the endpoint.
    std::thread::sleep(Duration::from_secs(4));
    weir.wait_for("batches queued", Duration::from_secs(30), |w| {
        w.metric(
            "weir_exporter_queue_stored_bytes",
            &[("exporter", "otlphttp")],
        ) > 0.0
    });
    weir.kill9();
    stop.store(true, Ordering::Relaxed);
    let (accepted, _) = clients.join().unwrap();
    assert!(
        accepted.len() >= 100,
        "only {} records accepted",
        accepted.len()
    );
    assert!(sink.received().is_empty(), "the endpoint was down");
    assert!(
        std::fs::read_dir(&storage).unwrap().count() > 0,
        "no queue file in {}",
        storage.display()
    );

    // Restart (the endpoint still down): the queue is replayed from disk.
    let weir = Weir::start(dir.path(), &cfg);
    weir.wait_for("the replay", Duration::from_secs(30), |w| {
        w.metric("weir_exporter_queue_replayed_items_total", &[]) >= accepted.len() as f64
    });
    let replayed = weir.metric("weir_exporter_queue_replayed_items_total", &[]) as usize;
    let started = Instant::now();
    sink.resume();
    let (counts, missing, duplicates) = await_all(&sink, &accepted, Duration::from_secs(120));
    let took = started.elapsed();
    assert_none_missing(&missing, accepted.len(), "never arrived");
    // Records that were not acknowledged (the client saw the kill) may
    // arrive too: they were stored, the answer was lost.
    let unacknowledged = counts.len() - accepted.len();
    eprintln!(
        "kill -9: {} records acknowledged, {replayed} replayed from disk, all delivered in {took:?} \
         after the endpoint came back; {duplicates} arrived twice, {unacknowledged} unacknowledged ones arrived too",
        accepted.len()
    );
    // Nothing was delivered before the kill (the endpoint was down), so
    // nothing can arrive twice.
    assert_eq!(duplicates, 0);
    weir.wait_for("the queue to empty", Duration::from_secs(30), |w| {
        w.metric("weir_exporter_queue_size", &[("exporter", "otlphttp")]) == 0.0
    });
}

#[test]
fn sigterm_delivers_everything_acknowledged_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    // A live but slow endpoint: 100 ms per request.
    let sink = Sink::start(None, common::sink::slow_ok(Duration::from_millis(100)));
    let cfg = config(
        &format!("http://{}", sink.addr),
        "{queue_size: 40, num_consumers: 2}",
        "60s",
        &dir.path().join("unused"),
    );
    let weir = Weir::start(dir.path(), &cfg);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = send_until(weir.http.unwrap(), 4, stop.clone());
    // Fill the queue: clients are refused once it is full.
    weir.wait_for("a full queue", Duration::from_secs(60), |w| {
        w.metric("weir_exporter_queue_refusals_total", &[]) > 0.0
    });
    stop.store(true, Ordering::Relaxed);
    let (accepted, refused) = clients.join().unwrap();
    let queued = weir.metric("weir_exporter_queue_size", &[("exporter", "otlphttp")]);
    let started = Instant::now();
    let status = weir.stop();
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    // Everything acknowledged arrived before the process exited.
    let (_, missing, duplicates) = await_all(&sink, &accepted, Duration::ZERO);
    assert_none_missing(&missing, accepted.len(), "were not delivered before exit");
    assert_eq!(duplicates, 0);
    assert!(took < Duration::from_secs(60), "shutdown took {took:?}");
    eprintln!(
        "SIGTERM: {} records acknowledged ({refused} requests refused while full), \
         {queued} batches queued at the signal, all delivered; exit after {took:?}",
        accepted.len()
    );
}

#[test]
fn the_shutdown_deadline_leaves_a_persistent_queue_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, always_ok());
    sink.pause();
    let storage = dir.path().join("queue");
    let cfg = config(
        &format!("http://{}", sink.addr),
        "{storage: {directory: QUEUE, fsync: always}}"
            .replace("QUEUE", storage.to_str().unwrap())
            .as_str(),
        "2s",
        &dir.path().join("unused"),
    );
    let weir = Weir::start(dir.path(), &cfg);
    let mut accepted = Vec::new();
    for block in 0..20 {
        let first = block * PER_REQUEST;
        assert_eq!(
            post(weir.http.unwrap(), &logs(first, PER_REQUEST, 64)).status,
            200
        );
        accepted.extend(first..first + PER_REQUEST);
    }
    let started = Instant::now();
    assert!(weir.stop().success());
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "shutdown took {took:?} with a 2s deadline"
    );
    sink.resume();
    let weir = Weir::start(dir.path(), &cfg);
    let (_, missing, duplicates) = await_all(&sink, &accepted, Duration::from_secs(60));
    assert_none_missing(&missing, accepted.len(), "were lost");
    assert_eq!(duplicates, 0);
    assert_eq!(
        weir.metric("weir_exporter_queue_replayed_items_total", &[]),
        accepted.len() as f64
    );
}

/// Request latency with a persistent queue behind a `batch` processor whose
/// timeout is 1 s: a lone client is answered once its data is stored, not
/// after the batch timeout (the batcher sends early for waiting clients).
#[test]
fn a_lone_client_is_answered_once_stored_not_at_the_batch_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(None, always_ok());
    let mut results = Vec::new();
    for (name, queue) in [
        ("in memory", "{queue_size: 1000}".to_string()),
        (
            "persistent, fsync batch",
            "{storage: file_storage/queue}".to_string(),
        ),
        (
            "persistent, fsync always",
            format!(
                "{{storage: {{directory: {}, fsync: always}}}}",
                dir.path().join("always").display()
            ),
        ),
    ] {
        let cfg = config(
            &format!("http://{}", sink.addr),
            &queue,
            "30s",
            &dir.path().join("queue"),
        )
        .replace("timeout: 50ms", "timeout: 1s");
        let weir = Weir::start(dir.path(), &cfg);
        let mut latencies = Vec::new();
        for block in 0..100 {
            let answer = post(
                weir.http.unwrap(),
                &logs(block * PER_REQUEST, PER_REQUEST, 64),
            );
            assert_eq!(answer.status, 200);
            latencies.push(answer.latency);
        }
        latencies.sort();
        let (p50, p99) = (latencies[50], latencies[98]);
        results.push(format!("{name}: p50 {p50:?}, p99 {p99:?}"));
        assert!(weir.stop().success());
        if name.starts_with("persistent") {
            assert!(
                p50 < Duration::from_millis(500),
                "{name}: p50 {p50:?} waits for the 1 s batch timeout"
            );
        }
    }
    eprintln!(
        "sequential client latency, batch timeout 1s: {}",
        results.join("; ")
    );
}

/// A reload keeps the persistent queue: what was queued under the old
/// configuration is sent by the new one, once, with nothing lost.
#[test]
fn a_reload_keeps_the_persistent_queue_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, always_ok());
    sink.pause();
    let storage = dir.path().join("queue");
    let cfg = config(
        &format!("http://{}", sink.addr),
        "{queue_size: 100000, storage: file_storage/queue}",
        "30s",
        &storage,
    );
    let weir = Weir::start(dir.path(), &cfg);
    let mut accepted = Vec::new();
    for block in 0..30 {
        let first = block * PER_REQUEST;
        assert_eq!(
            post(weir.http.unwrap(), &logs(first, PER_REQUEST, 64)).status,
            200
        );
        accepted.extend(first..first + PER_REQUEST);
    }
    // A changed exporter setting: the new exporter attaches to the same queue.
    std::fs::write(
        dir.path().join("config.yaml"),
        cfg.replace("max_interval: 500ms", "max_interval: 300ms"),
    )
    .unwrap();
    weir.signal("HUP");
    weir.wait_for("the reload", Duration::from_secs(60), |w| {
        w.metric("weir_config_reload_success_total", &[]) >= 1.0
    });
    // More data after the reload, into the same queue.
    for block in 30..40 {
        let first = block * PER_REQUEST;
        assert_eq!(
            post(weir.http.unwrap(), &logs(first, PER_REQUEST, 64)).status,
            200
        );
        accepted.extend(first..first + PER_REQUEST);
    }
    sink.resume();
    let (counts, missing, duplicates) = await_all(&sink, &accepted, Duration::from_secs(60));
    assert_none_missing(&missing, accepted.len(), "were lost");
    let retried: Vec<String> = weir
        .stderr()
        .lines()
        .filter(|l| !l.contains("Connection refused"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        duplicates,
        0,
        "records sent twice across the reload; the log:\n{}",
        retried.join("\n")
    );
    assert_eq!(counts.len(), accepted.len());
    // Nothing was read back from disk: the queue stayed open.
    assert_eq!(
        weir.metric("weir_exporter_queue_replayed_items_total", &[]),
        0.0
    );
}
