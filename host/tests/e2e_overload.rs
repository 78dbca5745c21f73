//! Overload end to end: clients offer far more than the endpoint takes (a
//! slow sink), over OTLP/HTTP and over OTLP/gRPC. The memory limiter holds
//! the collector's memory: peak RSS stays under `limit_mib` plus the idle
//! process; clients are refused with 429 and `Retry-After` (gRPC:
//! RESOURCE_EXHAUSTED with `RetryInfo`); once the load stops every
//! acknowledged record arrives. A short run is in the normal suite; the 60 s run of the issue is
//! `cargo test -p weir --test e2e_overload -- --ignored` (or set
//! `WEIR_OVERLOAD_SECS`).

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Weir;
use common::grpc::{Client, LOGS};
use common::seqlogs::{assert_none_missing, await_all, logs, post};
use common::sink::Sink;

const LIMIT_MIB: u64 = 48;
const SPIKE_MIB: u64 = 8;
/// What RSS may exceed the limit by beyond the idle process: allocator
/// slack, receive buffers, encoder instances and copies for sending.
const OVERHEAD_MIB: u64 = 32;
const PER_REQUEST: i64 = 20;
/// Bytes of body per record.
const PAD: usize = 1000;

struct Load {
    accepted: Vec<i64>,
    ok: usize,
    refused: usize,
    hinted: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Http,
    Grpc,
}

/// Sends one request; `Ok` if accepted, `Err(hinted)` if refused for
/// memory (with or without a retry hint). Anything else fails the test.
fn send(addr: SocketAddr, grpc: Option<&mut Client>, body: &[u8]) -> Result<(), bool> {
    match grpc {
        None => {
            let answer = post(addr, body);
            match answer.status {
                200 => Ok(()),
                429 => Err(answer.retry_after.is_some()),
                other => panic!("unexpected status {other}"),
            }
        }
        Some(client) => match client.export(LOGS, body.to_vec(), &[]) {
            Ok(()) => Ok(()),
            Err(refused) if refused.code == tonic::Code::ResourceExhausted => {
                Err(refused.retry_after.is_some())
            }
            Err(refused) => panic!("unexpected answer {refused:?}"),
        },
    }
}

fn offer(addr: SocketAddr, transport: Transport, threads: i64, stop: Arc<AtomicBool>) -> Load {
    let load = Arc::new(Mutex::new(Load {
        accepted: Vec::new(),
        ok: 0,
        refused: 0,
        hinted: 0,
    }));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (load, stop) = (load.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut grpc = (transport == Transport::Grpc).then(|| Client::connect(addr));
                let mut block = t;
                while !stop.load(Ordering::Relaxed) {
                    let first = block * PER_REQUEST;
                    let answer = send(addr, grpc.as_mut(), &logs(first, PER_REQUEST, PAD));
                    let mut l = load.lock().unwrap();
                    match answer {
                        Ok(()) => {
                            l.ok += 1;
                            l.accepted.extend(first..first + PER_REQUEST);
                        }
                        Err(hinted) => {
                            l.refused += 1;
                            l.hinted += usize::from(hinted);
                        }
                    }
                    block += threads;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    Arc::try_unwrap(load).ok().unwrap().into_inner().unwrap()
}

fn overload(secs: u64, transport: Transport) {
    let dir = tempfile::tempdir().unwrap();
    // The endpoint takes one request per 100 ms on each of its two threads.
    let sink = Sink::start(None, common::sink::slow_ok(Duration::from_millis(100)));
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
      grpc: {{endpoint: 127.0.0.1:0}}
processors:
  memory_limiter: {{limit_mib: {LIMIT_MIB}, spike_limit_mib: {SPIKE_MIB}, check_interval: 1s}}
  batch: {{timeout: 100ms, send_batch_size: 200}}
exporters:
  otlphttp:
    endpoint: http://{addr}
    compression: none
    retry_on_failure: {{initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0s}}
    sending_queue: {{queue_size: 100000, num_consumers: 4}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlphttp]}}
"#,
        addr = sink.addr
    );
    let weir = Weir::start(dir.path(), &config);
    let (idle_kib, _) = weir.rss_kib();
    let stop = Arc::new(AtomicBool::new(false));
    let clients = {
        let addr = match transport {
            Transport::Http => weir.http.unwrap(),
            Transport::Grpc => weir.grpc.unwrap(),
        };
        let stop = stop.clone();
        std::thread::spawn(move || offer(addr, transport, 8, stop))
    };
    let started = Instant::now();
    let mut peak_in_use = 0.0f64;
    while started.elapsed() < Duration::from_secs(secs) {
        peak_in_use = peak_in_use.max(weir.metric("weir_memory_in_use_bytes", &[]));
        std::thread::sleep(Duration::from_millis(250));
    }
    stop.store(true, Ordering::Relaxed);
    let load = clients.join().unwrap();
    let loaded = started.elapsed();
    let (_, peak_kib) = weir.rss_kib();
    let delivered_during_load = sink.received().len();

    let drained = Instant::now();
    let (_, missing, duplicates) = await_all(&sink, &load.accepted, Duration::from_secs(300));
    let drain_time = drained.elapsed();
    let offered_items = (load.ok + load.refused) as f64 * PER_REQUEST as f64;
    let delivered_items = load.accepted.len() as f64;
    eprintln!(
        "overload {secs}s over {transport:?}: offered {:.0} records/s, the endpoint took {:.0} records/s ({:.1}x); \
         {} requests accepted, {} refused with 429/RESOURCE_EXHAUSTED ({} with a retry hint); \
         RSS idle {} MiB, peak {} MiB (limit {LIMIT_MIB} MiB, spike {SPIKE_MIB} MiB); \
         memory limiter peak {:.1} MiB; {} endpoint requests during load; drained in {drain_time:?}; \
         {} duplicates",
        offered_items / loaded.as_secs_f64(),
        delivered_items / (loaded + drain_time).as_secs_f64(),
        (offered_items / loaded.as_secs_f64())
            / (delivered_items / (loaded + drain_time).as_secs_f64()).max(1.0),
        load.ok,
        load.refused,
        load.hinted,
        idle_kib / 1024,
        peak_kib / 1024,
        peak_in_use / (1024.0 * 1024.0),
        delivered_during_load,
        duplicates,
    );
    assert!(load.refused > 0, "the load never hit the limit");
    assert_eq!(load.hinted, load.refused, "a refusal without a retry hint");
    // The issue's run offers 10x; a short run on a loaded machine offers
    // less (the clients share the cores with weir), so 3x there.
    let overload_factor = if secs >= 60 { 10.0 } else { 3.0 };
    assert!(
        offered_items >= overload_factor * delivered_items,
        "the load was not a {overload_factor}x overload ({offered_items} offered, {delivered_items} accepted)"
    );
    assert!(
        peak_in_use <= ((LIMIT_MIB - SPIKE_MIB) * 1024 * 1024) as f64,
        "the limiter held {peak_in_use} bytes"
    );
    let ceiling_kib = idle_kib + (LIMIT_MIB + OVERHEAD_MIB) * 1024;
    assert!(
        peak_kib <= ceiling_kib,
        "peak RSS {peak_kib} KiB over idle {idle_kib} + limit {LIMIT_MIB} MiB + overhead {OVERHEAD_MIB} MiB"
    );
    assert_none_missing(&missing, load.accepted.len(), "never arrived");
    assert_eq!(duplicates, 0);
}

fn short_run_secs() -> u64 {
    std::env::var("WEIR_OVERLOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

#[test]
fn overload_is_refused_and_memory_stays_bounded() {
    overload(short_run_secs(), Transport::Http);
}

#[test]
fn grpc_overload_is_refused_and_memory_stays_bounded() {
    overload(short_run_secs(), Transport::Grpc);
}

#[test]
#[ignore = "60 s of overload (the issue's acceptance run)"]
fn overload_for_60s() {
    overload(60, Transport::Http);
}

#[test]
#[ignore = "60 s of overload over gRPC (the issue's acceptance run)"]
fn grpc_overload_for_60s() {
    overload(60, Transport::Grpc);
}

/// A full memory limiter refuses a request by its `Content-Length`, before
/// the body is sent: the client gets 429 and `Retry-After` without writing it.
#[test]
fn a_declared_length_is_refused_before_the_body_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(None, common::sink::always_ok());
    sink.pause();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: 127.0.0.1:0}}
processors:
  memory_limiter: {{limit_mib: 2, spike_limit_mib: 1, check_interval: 3s}}
exporters:
  otlphttp:
    endpoint: http://{addr}
    retry_on_failure: {{initial_interval: 1s, max_elapsed_time: 0s}}
service:
  telemetry: {{metrics: {{address: 127.0.0.1:0}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter], exporters: [otlphttp]}}
"#,
        addr = sink.addr
    );
    let weir = Weir::start(dir.path(), &config);
    let addr = weir.http.unwrap();
    // Fill the 1 MiB budget: the endpoint is down, so nothing is given back.
    let mut block = 0;
    loop {
        let answer = post(addr, &logs(block * 100, 100, PAD));
        block += 1;
        match answer.status {
            200 => assert!(block < 100, "the budget never filled"),
            429 => break,
            other => panic!("unexpected status {other}"),
        }
    }
    let held = weir.metric("weir_memory_stage_bytes", &[("stage", "sending_queue")]);
    assert!(held > 0.0, "the in-memory queue's bytes are not reported");
    // Headers only: the answer must come without the body being sent.
    let response = common::plain::head_only(addr, &[], 100_000);
    assert!(response.starts_with("http/1.1 429"), "{response}");
    assert!(response.contains("retry-after: 3"), "{response}");
}
