//! The memory gate (`memory_limiter`): an exact byte budget for the request
//! bytes pipelines hold. A request is admitted only if its bytes fit; the
//! bytes are returned when the last batch holding them is exported or dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::ingest::Refusal;
use crate::config::MemoryLimiterConfig;
use crate::telemetry::metrics;

/// A byte budget shared by the pipelines that list one `memory_limiter`.
#[derive(Debug)]
pub struct MemoryGate {
    id: String,
    budget: usize,
    used: AtomicUsize,
    retry_after: Duration,
}

/// Bytes admitted by a [`MemoryGate`], given back when dropped.
#[derive(Debug)]
pub struct MemoryPermit {
    gate: Arc<MemoryGate>,
    bytes: usize,
}

impl MemoryGate {
    /// A gate whose budget is `limit - spike_limit` (the spike is headroom
    /// for what the host and plugins allocate beside the held bytes).
    pub fn new(id: &str, config: &MemoryLimiterConfig) -> Arc<Self> {
        const MIB: u64 = 1024 * 1024;
        let total = total_memory_bytes();
        let limit = config
            .limit_mib
            .map(|m| m * MIB)
            .or_else(|| config.limit_percentage.map(|p| total / 100 * p))
            .unwrap_or(total);
        let spike = config
            .spike_limit_mib
            .map(|m| m * MIB)
            .or_else(|| config.spike_limit_percentage.map(|p| total / 100 * p))
            .unwrap_or(limit / 5);
        let budget = usize::try_from(limit.saturating_sub(spike)).unwrap_or(usize::MAX);
        Arc::new(MemoryGate {
            id: id.to_string(),
            budget,
            used: AtomicUsize::new(0),
            retry_after: config.check_interval.unwrap_or(Duration::from_secs(1)),
        })
    }

    /// The bytes this gate admits at most.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes held right now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Refuses (with the retry hint) when `bytes` would not fit now;
    /// reserves nothing (see [`Ingest::precheck`](super::Ingest::precheck)).
    pub fn precheck(&self, bytes: usize) -> Result<(), Refusal> {
        let used = self.used.load(Ordering::Relaxed);
        if bytes <= self.budget && used + bytes > self.budget {
            metrics().memory_refused_requests.inc();
            return Err(Refusal::Exhausted {
                retry_after: self.retry_after,
                reason: format!(
                    "{}: {used} of {} bytes held, no room for a {bytes}-byte request; retry after {:?}",
                    self.id, self.budget, self.retry_after
                ),
            });
        }
        Ok(())
    }

    /// Admits `bytes` or refuses with a retry hint.
    pub fn try_acquire(self: &Arc<Self>, bytes: usize) -> Result<MemoryPermit, Refusal> {
        if bytes > self.budget {
            return Err(Refusal::Invalid(format!(
                "request of {bytes} bytes is larger than the {} budget of {} bytes",
                self.id, self.budget
            )));
        }
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            if used + bytes > self.budget {
                metrics().memory_refused_requests.inc();
                return Err(Refusal::Exhausted {
                    retry_after: self.retry_after,
                    reason: format!(
                        "{}: {used} of {} bytes held; retry after {:?}",
                        self.id, self.budget, self.retry_after
                    ),
                });
            }
            match self.used.compare_exchange_weak(
                used,
                used + bytes,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => used = actual,
            }
        }
        metrics().memory_in_use_bytes.inc_by(bytes as i64);
        Ok(MemoryPermit {
            gate: self.clone(),
            bytes,
        })
    }
}

impl Drop for MemoryPermit {
    fn drop(&mut self) {
        self.gate.used.fetch_sub(self.bytes, Ordering::AcqRel);
        metrics().memory_in_use_bytes.dec_by(self.bytes as i64);
    }
}

/// The memory the process may use: the cgroup limit if there is one, else
/// the machine's total.
fn total_memory_bytes() -> u64 {
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok());
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    match (cgroup, meminfo) {
        (Some(c), Some(m)) => c.min(m),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        (None, None) => 1 << 30,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(limit_mib: u64, spike_mib: u64) -> Arc<MemoryGate> {
        MemoryGate::new(
            "memory_limiter",
            &MemoryLimiterConfig {
                limit_mib: Some(limit_mib),
                spike_limit_mib: Some(spike_mib),
                ..Default::default()
            },
        )
    }

    #[test]
    fn admits_until_the_budget_then_refuses_with_a_hint() {
        let g = gate(3, 1);
        assert_eq!(g.budget(), 2 * 1024 * 1024);
        let a = g.try_acquire(1024 * 1024).unwrap();
        let _b = g.try_acquire(1024 * 1024).unwrap();
        match g.try_acquire(1) {
            Err(Refusal::Exhausted { retry_after, .. }) => {
                assert_eq!(retry_after, Duration::from_secs(1))
            }
            other => panic!("expected exhausted, got {other:?}"),
        }
        // Before a body is read, its declared length is checked the same way.
        assert!(matches!(g.precheck(1), Err(Refusal::Exhausted { .. })));
        drop(a);
        assert!(g.precheck(1024 * 1024).is_ok());
        assert_eq!(g.used(), 1024 * 1024);
        assert!(g.try_acquire(1024 * 1024).is_ok());
    }

    #[test]
    fn a_request_larger_than_the_budget_is_invalid_not_retryable() {
        let g = gate(2, 1);
        assert!(matches!(
            g.try_acquire(2 * 1024 * 1024),
            Err(Refusal::Invalid(_))
        ));
    }
}
