//! The load generator: `connections` tasks, each with one connection and one
//! request in flight, sending stamped copies of a template request until a
//! duration or an item count is reached, either as fast as the receiver
//! answers or paced to a fixed rate of items per second.
//!
//! Pacing is open-loop: request `k` is due at `start + k·batch / rate`
//! whatever happened before it, so a slow receiver shows up as latency and
//! a falling achieved rate, not as a quietly lower offered rate.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use weir_wire::Signal;

use crate::client::{Connection, Outcome, Target};
use crate::latency::{Latency, Summary};
use crate::stamp::stamp_request;

/// When a run stops.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    Duration(Duration),
    /// Exactly this many items (the last request may be shorter).
    Items(u64),
}

/// What to send, where, how fast and for how long.
#[derive(Clone)]
pub struct Plan {
    pub target: Target,
    /// The request to send: protobuf bytes of one `Export*ServiceRequest`.
    pub template: Bytes,
    pub template_items: usize,
    /// Items per second over all connections; `None`: as fast as accepted.
    pub rate: Option<f64>,
    pub limit: Limit,
    pub connections: usize,
    /// Re-sends of a request refused with a retryable status (429, 503,
    /// RESOURCE_EXHAUSTED, UNAVAILABLE) or lost to a broken connection.
    pub retries: u32,
    /// Stamp `loadgen.id` / `loadgen.sent_ns` on every item.
    pub stamp: bool,
    /// The id of the first item (so several runs can feed one sink).
    pub first_id: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub signal: &'static str,
    pub protocol: &'static str,
    pub connections: usize,
    pub elapsed_s: f64,
    /// Requests posted, retries included.
    pub requests: u64,
    /// Distinct items sent (a retried item counts once).
    pub items_sent: u64,
    /// Items the receiver accepted (whole requests, less `partial_success` rejections).
    pub items_accepted: u64,
    /// Items rejected inside accepted requests (`partial_success`).
    pub items_rejected: u64,
    /// Items given up on after their last refusal or error.
    pub items_failed: u64,
    /// Refused requests by status (`http 429`, `grpc 8`), retries included.
    pub refused: BTreeMap<String, u64>,
    /// Connection and protocol errors by message.
    pub errors: BTreeMap<String, u64>,
    pub bytes_sent: u64,
    /// Accepted items per second over the run.
    pub accepted_per_s: f64,
    /// From each post to its answer, over every attempt.
    pub latency: Summary,
}

#[derive(Default)]
struct Tally {
    requests: u64,
    items_sent: u64,
    items_accepted: u64,
    items_rejected: u64,
    items_failed: u64,
    refused: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    bytes_sent: u64,
    latency: Latency,
}

/// Runs `plan` to its limit and reports.
pub async fn run(plan: Plan) -> anyhow::Result<Report> {
    anyhow::ensure!(
        plan.template_items > 0,
        "the template request holds no items"
    );
    anyhow::ensure!(plan.connections > 0, "need at least one connection");
    if let Some(rate) = plan.rate {
        anyhow::ensure!(rate > 0.0, "--rate must be positive");
    }
    // Fail fast (before the clock starts) if the target is not there.
    let mut first = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections {
        first.push(Connection::connect(&plan.target).await?);
    }
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = first
        .into_iter()
        .map(|conn| tokio::spawn(worker(plan.clone(), conn, next.clone(), start)))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let t = task.await?;
        total.requests += t.requests;
        total.items_sent += t.items_sent;
        total.items_accepted += t.items_accepted;
        total.items_rejected += t.items_rejected;
        total.items_failed += t.items_failed;
        total.bytes_sent += t.bytes_sent;
        total.latency.merge(&t.latency);
        for (k, v) in t.refused {
            *total.refused.entry(k).or_default() += v;
        }
        for (k, v) in t.errors {
            *total.errors.entry(k).or_default() += v;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(Report {
        signal: plan.target.signal.as_str(),
        protocol: match plan.target.protocol {
            crate::client::Protocol::Grpc => "grpc",
            crate::client::Protocol::Http => "http",
        },
        connections: plan.connections,
        elapsed_s: elapsed,
        requests: total.requests,
        items_sent: total.items_sent,
        items_accepted: total.items_accepted,
        items_rejected: total.items_rejected,
        items_failed: total.items_failed,
        refused: total.refused,
        errors: total.errors,
        bytes_sent: total.bytes_sent,
        accepted_per_s: total.items_accepted as f64 / elapsed.max(1e-9),
        latency: total.latency.summary(),
    })
}

/// One connection's loop: take the next request number, wait for its time,
/// send it (and re-send while refused and retries remain).
async fn worker(
    plan: Arc<Plan>,
    mut conn: Connection,
    next: Arc<AtomicU64>,
    start: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let batch = plan.template_items as u64;
    let mut broken = false;
    loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let offset = k * batch;
        let items = match plan.limit {
            Limit::Items(total) if offset >= total => break,
            Limit::Items(total) => (total - offset).min(batch),
            Limit::Duration(d) if start.elapsed() >= d => break,
            Limit::Duration(_) => batch,
        };
        if let Some(rate) = plan.rate {
            let due = start + Duration::from_secs_f64(offset as f64 / rate);
            if let Limit::Duration(d) = plan.limit
                && due >= start + d
            {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        let body = if plan.stamp {
            let sent_ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let signal = plan.target.signal;
            let id = plan.first_id + offset;
            match stamp_request(signal, &plan.template, items as usize, id, sent_ns) {
                Ok((bytes, _)) => Bytes::from(bytes),
                Err(e) => {
                    *tally.errors.entry(format!("template: {e}")).or_default() += 1;
                    break;
                }
            }
        } else if items < batch {
            match truncate(plan.target.signal, &plan.template, items as usize) {
                Ok(bytes) => bytes,
                Err(e) => {
                    *tally.errors.entry(format!("template: {e}")).or_default() += 1;
                    break;
                }
            }
        } else {
            plan.template.clone()
        };
        tally.items_sent += items;
        let mut attempts = 0;
        loop {
            attempts += 1;
            if broken {
                match Connection::connect(&plan.target).await {
                    Ok(c) => {
                        conn = c;
                        broken = false;
                    }
                    Err(e) => {
                        *tally.errors.entry(format!("{e:#}")).or_default() += 1;
                        if attempts > plan.retries {
                            tally.items_failed += items;
                            break;
                        }
                        tokio::time::sleep(backoff(attempts)).await;
                        continue;
                    }
                }
            }
            tally.requests += 1;
            tally.bytes_sent += body.len() as u64;
            let sent = Instant::now();
            let outcome = conn.send(body.clone()).await;
            tally.latency.record(sent.elapsed());
            match outcome {
                Ok(Outcome::Accepted { rejected }) => {
                    tally.items_accepted += items.saturating_sub(rejected);
                    tally.items_rejected += rejected.min(items);
                    break;
                }
                Ok(Outcome::Refused { status, retryable }) => {
                    *tally.refused.entry(status).or_default() += 1;
                    if !retryable || attempts > plan.retries {
                        tally.items_failed += items;
                        break;
                    }
                }
                Err(e) => {
                    *tally.errors.entry(format!("{e:#}")).or_default() += 1;
                    broken = true;
                    if attempts > plan.retries {
                        tally.items_failed += items;
                        break;
                    }
                }
            }
            tokio::time::sleep(backoff(attempts)).await;
        }
    }
    tally
}

/// 5, 10, 20, ... ms, at most 1 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((5u64 << attempt.min(8)).min(1000))
}

/// The template's first `keep` items (for a short last request).
fn truncate(signal: Signal, template: &[u8], keep: usize) -> Result<Bytes, weir_wire::WireError> {
    let mut index = 0;
    let edited = weir_wire::edit_items(signal, template, |_, _, _| {
        index += 1;
        if index > keep {
            weir_wire::ItemEdit::Drop
        } else {
            weir_wire::ItemEdit::Keep
        }
    })?;
    Ok(edited.map_or_else(|| Bytes::copy_from_slice(template), Bytes::from))
}
