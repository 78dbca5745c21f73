//! Logs whose records carry a sequence number, posted over plain HTTP, and
//! a tally of which numbers a sink received (and how often): for tests that
//! compare what the collector acknowledged with what arrived.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;

use super::sink::{Received, Sink};

/// A logs request whose records carry `seq` = `first..first+count`, each
/// with a body of `pad` bytes.
pub fn logs(first: i64, count: i64, pad: usize) -> Vec<u8> {
    let records = (first..first + count)
        .map(|seq| LogRecord {
            time_unix_nano: 1_700_000_000_000_000_000 + seq as u64,
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!(
                    "line {seq} {}",
                    "x".repeat(pad)
                ))),
            }),
            attributes: vec![KeyValue {
                key: "seq".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(seq)),
                }),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// One answer: the status (0 when the connection failed) and `Retry-After`.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub latency: Duration,
}

/// POSTs OTLP protobuf to `/v1/logs`.
pub fn post(addr: SocketAddr, body: &[u8]) -> Answer {
    let started = Instant::now();
    let failed = || Answer {
        status: 0,
        retry_after: None,
        latency: started.elapsed(),
    };
    let Ok(mut tcp) = TcpStream::connect(addr) else {
        return failed();
    };
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /v1/logs HTTP/1.1\r\nHost: weir\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if tcp.write_all(head.as_bytes()).is_err() || tcp.write_all(body).is_err() {
        return failed();
    }
    let mut response = Vec::new();
    let _ = tcp.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let retry_after = response.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("retry-after")
            .then(|| v.trim().to_string())
    });
    Answer {
        status,
        retry_after,
        latency: started.elapsed(),
    }
}

/// Clients on `threads` threads posting requests of `per_request`
/// numbered records (from `first` on, each number once) until `stop` or
/// until the collector is gone; returns the seqs acknowledged with 200 and
/// the count of 429/503 answers.
pub fn send_until(
    addr: SocketAddr,
    threads: i64,
    per_request: i64,
    first: i64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(Vec<i64>, usize)> {
    std::thread::spawn(move || {
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(0usize));
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (accepted, refused, stop) = (accepted.clone(), refused.clone(), stop.clone());
                std::thread::spawn(move || {
                    // Thread t sends blocks t, t+threads, ... of per_request records.
                    let mut block = t;
                    while !stop.load(Ordering::Relaxed) {
                        let from = first + block * per_request;
                        match post(addr, &logs(from, per_request, 64)).status {
                            200 => accepted.lock().unwrap().extend(from..from + per_request),
                            429 | 503 => {
                                *refused.lock().unwrap() += 1;
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            // The collector is gone (killed or stopped): nothing more to send.
                            0 => break,
                            other => panic!("unexpected status {other}"),
                        }
                        block += threads;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let accepted = accepted.lock().unwrap().clone();
        let refused = *refused.lock().unwrap();
        (accepted, refused)
    })
}

/// The `seq` of every record a request carried.
pub fn seqs(r: &Received) -> Vec<i64> {
    let request = ExportLogsServiceRequest::decode(r.decoded().as_slice()).expect("OTLP logs");
    request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .filter_map(|lr| match lr.attributes[0].value.as_ref()?.value {
            Some(any_value::Value::IntValue(i)) => Some(i),
            _ => None,
        })
        .collect()
}

/// How often each seq arrived at `sink`.
pub fn tally(sink: &Sink) -> BTreeMap<i64, usize> {
    let mut counts = BTreeMap::new();
    for r in sink.received() {
        for s in seqs(&r) {
            *counts.entry(s).or_default() += 1;
        }
    }
    counts
}

/// Fails the test when any acknowledged record is `missing` (as
/// [`await_all`] reports them), saying how many of the `accepted` `what`
/// ("never arrived") and naming the first few.
pub fn assert_none_missing(missing: &[i64], accepted: usize, what: &str) {
    assert!(
        missing.is_empty(),
        "{} of {accepted} acknowledged records {what}, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

/// Waits until every seq in `accepted` arrived (or `timeout`); returns the
/// tally, the missing seqs and how many arrived more than once.
pub fn await_all(
    sink: &Sink,
    accepted: &[i64],
    timeout: Duration,
) -> (BTreeMap<i64, usize>, Vec<i64>, usize) {
    let deadline = Instant::now() + timeout;
    loop {
        let counts = tally(sink);
        let missing: Vec<i64> = accepted
            .iter()
            .copied()
            .filter(|s| !counts.contains_key(s))
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            let duplicates = counts.values().filter(|n| **n > 1).count();
            return (counts, missing, duplicates);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
