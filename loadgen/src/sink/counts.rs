//! What the sink counts per signal: requests, items, bytes, ids seen (and
//! so missing and duplicated), and end-to-end latency from the items'
//! `loadgen.sent_ns` stamp to their arrival.

use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use weir_wire::{Signal, WireError};

use super::ids::IdSet;
use crate::latency::{Latency, Summary};
use crate::stamp::read_stamps;

#[derive(Debug, Default)]
struct SignalCounts {
    requests: u64,
    items: u64,
    bytes: u64,
    unstamped: u64,
    ids: IdSet,
    latency: Latency,
    first: Option<Instant>,
    last: Option<Instant>,
}

/// Counts for all signals, shared by the connections of a sink.
#[derive(Debug, Default)]
pub struct Counts {
    signals: [Mutex<SignalCounts>; 3],
    bad_requests: Mutex<u64>,
}

/// A signal's summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SignalReport {
    pub signal: &'static str,
    pub requests: u64,
    pub items: u64,
    pub bytes: u64,
    /// Items from the first to the last arrival, per second.
    pub items_per_s: f64,
    pub active_s: f64,
    /// Items without a `loadgen.id`.
    pub unstamped: u64,
    pub distinct_ids: u64,
    pub duplicate_ids: u64,
    /// Ids in `0..expected` (or `0..=max id seen`) that never arrived.
    pub missing_ids: u64,
    pub first_missing: Vec<u64>,
    pub max_id: Option<u64>,
    /// From `loadgen.sent_ns` to arrival (same clock: same host).
    pub latency: Summary,
}

fn index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Counts {
    /// Counts one request of `signal`; a malformed one is refused and
    /// counted as bad (none of its items are counted).
    pub fn record(&self, signal: Signal, body: &[u8]) -> Result<u64, WireError> {
        let arrival = Instant::now();
        let arrival_ns = now_ns();
        // Read the stamps outside the lock; apply them under it.
        let mut stamps = Vec::new();
        if let Err(e) = read_stamps(signal, body, |s| stamps.push(s)) {
            *self.bad_requests.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            return Err(e);
        }
        let mut c = self.signals[index(signal)]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        c.requests += 1;
        c.items += stamps.len() as u64;
        c.bytes += body.len() as u64;
        c.first.get_or_insert(arrival);
        c.last = Some(arrival);
        // Items of one request mostly share a send time: record runs at once.
        let mut run: Option<(u64, u64)> = None;
        for stamp in &stamps {
            match stamp.id {
                Some(id) => {
                    c.ids.insert(id);
                }
                None => c.unstamped += 1,
            }
            if let Some(sent) = stamp.sent_ns {
                let us = arrival_ns.saturating_sub(sent) / 1000;
                match &mut run {
                    Some((value, n)) if *value == us => *n += 1,
                    _ => {
                        if let Some((value, n)) = run.take() {
                            c.latency.record_n_us(value, n);
                        }
                        run = Some((us, 1));
                    }
                }
            }
        }
        if let Some((value, n)) = run {
            c.latency.record_n_us(value, n);
        }
        Ok(stamps.len() as u64)
    }

    /// Items received so far, over all signals (distinct ids for stamped
    /// items, so a duplicate does not count toward `--expect`).
    pub fn received(&self) -> u64 {
        self.signals
            .iter()
            .map(|s| {
                let c = s.lock().unwrap_or_else(|p| p.into_inner());
                c.ids.distinct() + c.ids.out_of_range() + c.unstamped
            })
            .sum()
    }

    /// When the last item arrived.
    pub fn last_arrival(&self) -> Option<Instant> {
        self.signals
            .iter()
            .filter_map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).last)
            .max()
    }

    pub fn bad_requests(&self) -> u64 {
        *self.bad_requests.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Summaries of the signals that received anything; ids are checked
    /// against `0..expected` when given, else against `0..=max id seen`.
    pub fn report(&self, expected: Option<u64>) -> Vec<SignalReport> {
        Signal::ALL
            .into_iter()
            .filter_map(|signal| {
                let c = self.signals[index(signal)]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if c.requests == 0 {
                    return None;
                }
                let active = match (c.first, c.last) {
                    (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
                    _ => 0.0,
                };
                let end = expected.or(c.ids.max().map(|m| m + 1)).unwrap_or(0);
                Some(SignalReport {
                    signal: signal.as_str(),
                    requests: c.requests,
                    items: c.items,
                    bytes: c.bytes,
                    items_per_s: if active > 0.0 {
                        c.items as f64 / active
                    } else {
                        0.0
                    },
                    active_s: active,
                    unstamped: c.unstamped,
                    distinct_ids: c.ids.distinct(),
                    duplicate_ids: c.ids.duplicates(),
                    missing_ids: if c.ids.distinct() > 0 {
                        c.ids.missing_below(end)
                    } else {
                        0
                    },
                    first_missing: c.ids.first_missing(end, 10),
                    max_id: c.ids.max(),
                    latency: c.latency.summary(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{Shape, synthetic};
    use crate::stamp::stamp_request;

    fn stamped(signal: Signal, first_id: u64, items: usize) -> Vec<u8> {
        let shape = Shape {
            items,
            resources: 3,
            attributes: 1,
            payload_bytes: 0,
        };
        stamp_request(
            signal,
            &synthetic(signal, &shape),
            items,
            first_id,
            now_ns(),
        )
        .unwrap()
        .0
    }

    #[test]
    fn counts_missing_and_duplicate_ids_per_signal() {
        let counts = Counts::default();
        counts
            .record(Signal::Traces, &stamped(Signal::Traces, 0, 100))
            .unwrap();
        counts
            .record(Signal::Traces, &stamped(Signal::Traces, 200, 100))
            .unwrap();
        counts
            .record(Signal::Traces, &stamped(Signal::Traces, 250, 10))
            .unwrap();
        counts
            .record(Signal::Logs, &stamped(Signal::Logs, 0, 5))
            .unwrap();
        let report = counts.report(Some(300));
        assert_eq!(report.len(), 2);
        let traces = &report[0];
        assert_eq!(traces.signal, "traces");
        assert_eq!((traces.requests, traces.items), (3, 210));
        assert_eq!(traces.distinct_ids, 200);
        assert_eq!(traces.duplicate_ids, 10);
        assert_eq!(traces.missing_ids, 100);
        assert_eq!(traces.first_missing, (100..110).collect::<Vec<_>>());
        assert_eq!(traces.latency.count, 210);
        let logs = &report[1];
        assert_eq!(
            (logs.items, logs.distinct_ids, logs.duplicate_ids),
            (5, 5, 0)
        );
        // Expected 300 of each signal: the logs are short too.
        assert_eq!(logs.missing_ids, 295);
        assert_eq!(counts.received(), 205);
        // Without an expectation, gaps below the largest id are missing.
        assert_eq!(counts.report(None)[0].missing_ids, 100);
        assert_eq!(counts.report(None)[1].missing_ids, 0);
    }

    #[test]
    fn unstamped_items_are_counted_and_bad_requests_refused() {
        let counts = Counts::default();
        let plain = synthetic(
            Signal::Metrics,
            &Shape {
                items: 42,
                resources: 2,
                attributes: 0,
                payload_bytes: 0,
            },
        );
        assert_eq!(counts.record(Signal::Metrics, &plain).unwrap(), 42);
        assert!(
            counts
                .record(Signal::Metrics, &plain[..plain.len() - 1])
                .is_err()
        );
        let report = counts.report(None);
        assert_eq!(
            (report[0].items, report[0].unstamped, report[0].missing_ids),
            (42, 42, 0)
        );
        assert_eq!(counts.bad_requests(), 1);
        assert_eq!(counts.received(), 42);
    }
}
