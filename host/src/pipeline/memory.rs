//! The memory gate (`memory_limiter`): an exact byte budget for the request
//! bytes pipelines hold. A request is admitted only if its bytes fit; the
//! bytes are returned when the last batch holding them is exported or dropped.
//!
//! What a gate admits against, precisely: with `limit` and `spike` from
//! config, a request of `n` bytes is admitted while
//!
//! ```text
//! held + n + max(0, plugin_memory - spike) <= limit - spike
//! ```
//!
//! that is `held + n + max(plugin_memory, spike) <= limit`: the spike
//! headroom absorbs plugin instance memory first (and what the host
//! allocates beside the held bytes); plugin memory beyond it is taken from
//! what requests may hold. `held` includes what processors returned beyond
//! their input ([`MemoryGate::charge`]), which is never refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::ingest::Refusal;
use crate::config::MemoryLimiterConfig;
use crate::plugin::instance_memory_bytes;
use crate::telemetry::{StageLabels, metrics};

/// A byte budget shared by the pipelines that list one `memory_limiter`.
#[derive(Debug)]
pub struct MemoryGate {
    id: String,
    budget: usize,
    spike: usize,
    used: AtomicUsize,
    retry_after: Duration,
    /// Where the live plugin instances' memory is read (a test sets its own).
    plugin_memory: fn() -> usize,
}

/// Bytes admitted by a [`MemoryGate`], given back when dropped.
#[derive(Debug)]
pub struct MemoryPermit {
    gate: Arc<MemoryGate>,
    bytes: usize,
    /// The `weir_memory_stage_bytes` stage these bytes are also shown in.
    stage: Option<&'static str>,
}

impl MemoryGate {
    /// A gate whose budget is `limit - spike_limit` (the spike is headroom
    /// for what the host and plugins allocate beside the held bytes).
    pub fn new(id: &str, config: &MemoryLimiterConfig) -> Arc<Self> {
        Self::with_plugin_memory(id, config, instance_memory_bytes)
    }

    /// A tenant's `memory_limit_mib`: its request bytes (and what its
    /// processors returned beyond them), no headroom, and no share of the
    /// process's plugin memory (the pipelines' `memory_limiter` counts that).
    pub fn for_tenant(tenant: &str, limit_mib: u64) -> Arc<Self> {
        let config = MemoryLimiterConfig {
            limit_mib: Some(limit_mib),
            spike_limit_mib: Some(0),
            ..Default::default()
        };
        Self::with_plugin_memory(&format!("tenant {tenant}"), &config, || 0)
    }

    /// A gate that reads plugin instance memory from `plugin_memory` (tests).
    pub(super) fn with_plugin_memory(
        id: &str,
        config: &MemoryLimiterConfig,
        plugin_memory: fn() -> usize,
    ) -> Arc<Self> {
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
            .unwrap_or(limit / 5)
            .min(limit);
        Arc::new(MemoryGate {
            id: id.to_string(),
            budget: usize::try_from(limit - spike).unwrap_or(usize::MAX),
            spike: usize::try_from(spike).unwrap_or(usize::MAX),
            used: AtomicUsize::new(0),
            retry_after: config.check_interval.unwrap_or(Duration::from_secs(1)),
            plugin_memory,
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

    /// Plugin instance memory beyond the spike headroom: taken from the budget.
    fn plugin_excess(&self) -> usize {
        (self.plugin_memory)().saturating_sub(self.spike)
    }

    /// A request that could never fit (413 / `RESOURCE_EXHAUSTED`, no hint).
    fn too_large(&self, bytes: usize) -> Refusal {
        Refusal::TooLarge(format!(
            "request of {bytes} bytes is larger than the {} budget of {} bytes",
            self.id, self.budget
        ))
    }

    fn exhausted(&self, used: usize, excess: usize, bytes: usize) -> Refusal {
        metrics().memory_refused_requests.inc();
        let plugins = if excess > 0 {
            format!(" (plus {excess} bytes of plugin memory beyond the spike headroom)")
        } else {
            String::new()
        };
        Refusal::Exhausted {
            retry_after: self.retry_after,
            reason: format!(
                "{}: {used} of {} bytes held{plugins}, no room for a {bytes}-byte request; retry after {:?}",
                self.id, self.budget, self.retry_after
            ),
        }
    }

    /// Refuses (with the retry hint) when `bytes` would not fit now, and
    /// (without one) when they could never fit; reserves nothing (see
    /// [`Ingest::precheck`](super::Ingest::precheck)).
    pub fn precheck(&self, bytes: usize) -> Result<(), Refusal> {
        if bytes > self.budget {
            return Err(self.too_large(bytes));
        }
        let used = self.used.load(Ordering::Relaxed);
        let excess = self.plugin_excess();
        if used + excess + bytes > self.budget {
            return Err(self.exhausted(used, excess, bytes));
        }
        Ok(())
    }

    /// Admits `bytes` or refuses with a retry hint.
    pub fn try_acquire(self: &Arc<Self>, bytes: usize) -> Result<MemoryPermit, Refusal> {
        self.acquire(bytes, None)
    }

    /// Holds room for a body of `bytes` while it is read (shown as the
    /// `receive` stage), or refuses as [`try_acquire`](Self::try_acquire)
    /// would: concurrent readers cannot read more than the gate has room for.
    pub fn reserve(self: &Arc<Self>, bytes: usize) -> Result<MemoryPermit, Refusal> {
        self.acquire(bytes, Some("receive"))
    }

    fn acquire(
        self: &Arc<Self>,
        bytes: usize,
        stage: Option<&'static str>,
    ) -> Result<MemoryPermit, Refusal> {
        if bytes > self.budget {
            return Err(self.too_large(bytes));
        }
        let excess = self.plugin_excess();
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            if used + excess + bytes > self.budget {
                return Err(self.exhausted(used, excess, bytes));
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
        Ok(self.permit(bytes, stage))
    }

    /// Charges `bytes` that are already in memory and must be kept (a
    /// processor returned more than it was given): never refused, so the
    /// gate may go over its budget; new requests are refused until it is
    /// back under. Shown in `weir_memory_stage_bytes{stage}` while held,
    /// when a stage is named.
    pub fn charge(self: &Arc<Self>, bytes: usize, stage: Option<&'static str>) -> MemoryPermit {
        self.used.fetch_add(bytes, Ordering::AcqRel);
        self.permit(bytes, stage)
    }

    fn permit(self: &Arc<Self>, bytes: usize, stage: Option<&'static str>) -> MemoryPermit {
        metrics().memory_in_use_bytes.inc_by(bytes as i64);
        if let Some(stage) = stage {
            stage_gauge(stage).inc_by(bytes as i64);
        }
        MemoryPermit {
            gate: self.clone(),
            bytes,
            stage,
        }
    }
}

impl MemoryPermit {
    /// The gate these bytes are held against.
    pub fn gate(&self) -> &Arc<MemoryGate> {
        &self.gate
    }

    /// The bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Room held for a body while it is read (see [`MemoryGate::reserve`]):
/// given back when dropped, just before the body is admitted for real.
#[derive(Debug, Default)]
pub struct Reservation(pub Vec<MemoryPermit>);

impl Reservation {
    /// The bytes held, summed over the gates.
    pub fn bytes(&self) -> usize {
        self.0.iter().map(MemoryPermit::bytes).sum()
    }
}

impl Drop for MemoryPermit {
    fn drop(&mut self) {
        self.gate.used.fetch_sub(self.bytes, Ordering::AcqRel);
        metrics().memory_in_use_bytes.dec_by(self.bytes as i64);
        if let Some(stage) = self.stage {
            stage_gauge(stage).dec_by(self.bytes as i64);
        }
    }
}

/// One stage of `weir_memory_stage_bytes`.
pub fn stage_gauge(stage: &str) -> prometheus_client::metrics::gauge::Gauge {
    metrics()
        .memory_stage_bytes
        .get_or_create(&StageLabels::of(stage))
        .clone()
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

    const MIB: usize = 1024 * 1024;

    fn config(limit_mib: u64, spike_mib: u64) -> MemoryLimiterConfig {
        MemoryLimiterConfig {
            limit_mib: Some(limit_mib),
            spike_limit_mib: Some(spike_mib),
            ..Default::default()
        }
    }

    fn gate(limit_mib: u64, spike_mib: u64) -> Arc<MemoryGate> {
        MemoryGate::with_plugin_memory("memory_limiter", &config(limit_mib, spike_mib), || 0)
    }

    #[test]
    fn admits_until_the_budget_then_refuses_with_a_hint() {
        let g = gate(3, 1);
        assert_eq!(g.budget(), 2 * MIB);
        let a = g.try_acquire(MIB).unwrap();
        let _b = g.try_acquire(MIB).unwrap();
        match g.try_acquire(1) {
            Err(Refusal::Exhausted { retry_after, .. }) => {
                assert_eq!(retry_after, Duration::from_secs(1))
            }
            other => panic!("expected exhausted, got {other:?}"),
        }
        // Before a body is read, its declared length is checked the same way.
        assert!(matches!(g.precheck(1), Err(Refusal::Exhausted { .. })));
        drop(a);
        assert!(g.precheck(MIB).is_ok());
        assert_eq!(g.used(), MIB);
        assert!(g.try_acquire(MIB).is_ok());
    }

    #[test]
    fn a_reservation_holds_room_while_a_body_is_read() {
        let g = gate(3, 1);
        let reading = g.reserve(MIB + MIB / 2).unwrap();
        // A second body of the same size no longer fits while the first is read.
        assert!(matches!(g.reserve(MIB), Err(Refusal::Exhausted { .. })));
        drop(reading);
        assert_eq!(g.used(), 0);
        assert!(g.reserve(2 * MIB).is_ok());
    }

    #[test]
    fn a_request_larger_than_the_budget_is_too_large_not_retryable() {
        let g = gate(2, 1);
        assert!(matches!(g.try_acquire(2 * MIB), Err(Refusal::TooLarge(_))));
        // Refused before reading as well: a declared 64 MiB never fits.
        assert!(matches!(g.precheck(64 * MIB), Err(Refusal::TooLarge(_))));
        assert_eq!(g.used(), 0);
    }

    #[test]
    fn a_charge_is_never_refused_and_blocks_admission_until_given_back() {
        let g = gate(3, 1);
        let request = g.try_acquire(MIB).unwrap();
        // A processor tripled its output: 2 MiB more than the request.
        let grown = g.charge(2 * MIB, Some("plugin_output"));
        assert_eq!(g.used(), 3 * MIB, "over the 2 MiB budget, and kept");
        assert_eq!(grown.bytes(), 2 * MIB);
        assert!(matches!(g.precheck(1), Err(Refusal::Exhausted { .. })));
        assert!(matches!(g.try_acquire(1), Err(Refusal::Exhausted { .. })));
        drop(grown);
        drop(request);
        assert_eq!(g.used(), 0);
        assert!(g.try_acquire(2 * MIB).is_ok());
    }

    #[test]
    fn plugin_memory_beyond_the_spike_comes_out_of_the_budget() {
        // 10 MiB limit, 2 MiB spike: 8 MiB for requests. Plugins hold 5 MiB:
        // 3 MiB past the spike, so 5 MiB is left for requests.
        let g = MemoryGate::with_plugin_memory("memory_limiter", &config(10, 2), || 5 * MIB);
        let _a = g.try_acquire(5 * MIB).unwrap();
        match g.try_acquire(1) {
            Err(Refusal::Exhausted { reason, .. }) => {
                assert!(reason.contains("plugin memory"), "{reason}")
            }
            other => panic!("expected exhausted, got {other:?}"),
        }
        // Plugin memory within the spike costs requests nothing.
        let g = MemoryGate::with_plugin_memory("memory_limiter", &config(10, 2), || 2 * MIB);
        assert!(g.try_acquire(8 * MIB).is_ok());
    }
}
