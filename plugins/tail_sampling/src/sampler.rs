//! The tail sampler's state: traces held until `decision_wait` after their
//! first span, then decided by the policies at once; a table bounded by
//! `num_traces` (the oldest decided early when full); and a cache of recent
//! decisions that late spans follow.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::config::Config;
use crate::policy::{Policy, combine};
use crate::trace::{StoredSpan, Trace, TraceId, assemble, explode};

/// Most spans in one released request.
const MAX_SPANS_PER_REQUEST: usize = 8192;

/// Counts since the last [`TailSampler::take_stats`], reported as plugin counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub traces_sampled: u64,
    pub traces_not_sampled: u64,
    /// Decided before `decision_wait` because `num_traces` was reached.
    pub traces_decided_early: u64,
    /// Decided before `decision_wait` by a flush (shutdown, reload).
    pub traces_flushed: u64,
    pub spans_sampled: u64,
    pub spans_not_sampled: u64,
    /// Spans of already-decided traces, passed on or dropped as decided.
    pub late_spans_sampled: u64,
    pub late_spans_not_sampled: u64,
}

/// Remembered decisions, oldest forgotten first.
struct DecisionCache {
    capacity: usize,
    set: HashSet<TraceId>,
    order: VecDeque<TraceId>,
}

impl DecisionCache {
    fn new(capacity: usize) -> Self {
        DecisionCache {
            capacity,
            set: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    fn insert(&mut self, id: TraceId) {
        if self.capacity == 0 || !self.set.insert(id) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }

    fn contains(&self, id: &TraceId) -> bool {
        self.set.contains(id)
    }
}

/// The spans of one trace held while it waits for its decision.
struct Held {
    spans: Vec<StoredSpan>,
}

/// The tail sampler of one instance (one tenant of one pipeline).
pub struct TailSampler {
    policies: Vec<Policy>,
    /// Whether any policy reads span attributes (else they are not decoded).
    read_attributes: bool,
    decision_wait: u64,
    num_traces: usize,
    traces: HashMap<TraceId, Held>,
    /// Undecided traces by arrival of their first span.
    arrivals: VecDeque<(TraceId, u64)>,
    sampled: DecisionCache,
    not_sampled: DecisionCache,
    stats: Stats,
}

impl TailSampler {
    /// Builds the policies; errors name the policy and key.
    pub fn new(config: &Config) -> Result<TailSampler, String> {
        if config.policies.is_empty() {
            return Err("policies: at least one policy is needed".into());
        }
        if config.num_traces == 0 {
            return Err("num_traces: must be at least 1".into());
        }
        let policies = config
            .policies
            .iter()
            .map(Policy::build)
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = HashSet::new();
        for p in &policies {
            if !names.insert(p.name.as_str()) {
                return Err(format!("policies: the name `{}` is used twice", p.name));
            }
        }
        let wait_secs = (config.decision_wait.0 / 1_000_000_000).max(1) as usize;
        let capacity =
            (config.expected_new_traces_per_sec.saturating_mul(wait_secs)).min(config.num_traces);
        let cache = |n: usize| if n == 0 { config.num_traces } else { n };
        Ok(TailSampler {
            read_attributes: policies.iter().any(Policy::reads_attributes),
            policies,
            decision_wait: config.decision_wait.0,
            num_traces: config.num_traces,
            traces: HashMap::with_capacity(capacity),
            arrivals: VecDeque::with_capacity(capacity),
            sampled: DecisionCache::new(cache(config.decision_cache.sampled_cache_size)),
            not_sampled: DecisionCache::new(cache(config.decision_cache.non_sampled_cache_size)),
            stats: Stats::default(),
        })
    }

    /// Takes in a request's spans at `now` (ns). Returns what can go on at
    /// once: late spans of traces already sampled, and traces decided early
    /// to make room.
    pub fn process(&mut self, payload: &[u8], now: u64) -> Result<Vec<Vec<u8>>, String> {
        let mut release = Vec::new();
        for (id, held) in explode(payload)? {
            if let Some(trace) = self.traces.get_mut(&id) {
                trace.spans.push(held);
            } else if self.sampled.contains(&id) {
                self.stats.late_spans_sampled += 1;
                release.push(held);
            } else if self.not_sampled.contains(&id) {
                self.stats.late_spans_not_sampled += 1;
            } else {
                while self.traces.len() >= self.num_traces {
                    let Some((oldest, _)) = self.arrivals.pop_front() else {
                        break;
                    };
                    self.stats.traces_decided_early += 1;
                    self.decide(oldest, now, &mut release);
                }
                self.arrivals.push_back((id, now));
                self.traces.insert(id, Held { spans: vec![held] });
            }
        }
        Ok(assemble(release, MAX_SPANS_PER_REQUEST))
    }

    /// Decides every trace whose `decision_wait` is over at `now`.
    pub fn tick(&mut self, now: u64) -> Vec<Vec<u8>> {
        let mut release = Vec::new();
        while let Some(&(id, arrived)) = self.arrivals.front() {
            if arrived.saturating_add(self.decision_wait) > now {
                break;
            }
            self.arrivals.pop_front();
            self.decide(id, now, &mut release);
        }
        assemble(release, MAX_SPANS_PER_REQUEST)
    }

    /// Decides every held trace now (shutdown or reload): nothing is left held.
    pub fn flush(&mut self, now: u64) -> Vec<Vec<u8>> {
        let mut release = Vec::new();
        while let Some((id, _)) = self.arrivals.pop_front() {
            self.stats.traces_flushed += 1;
            self.decide(id, now, &mut release);
        }
        assemble(release, MAX_SPANS_PER_REQUEST)
    }

    fn decide(&mut self, id: TraceId, now: u64, release: &mut Vec<StoredSpan>) {
        let Some(trace) = self.traces.remove(&id) else {
            return;
        };
        let secs = now / 1_000_000_000;
        let view = Trace::view(id, &trace.spans, self.read_attributes);
        let keep = combine(
            self.policies
                .iter_mut()
                .map(|p| p.evaluate(&view, secs))
                .collect::<Vec<_>>(),
        );
        let spans = trace.spans.len() as u64;
        if keep {
            self.stats.traces_sampled += 1;
            self.stats.spans_sampled += spans;
            self.sampled.insert(id);
            release.extend(trace.spans);
        } else {
            self.stats.traces_not_sampled += 1;
            self.stats.spans_not_sampled += spans;
            self.not_sampled.insert(id);
        }
    }

    /// Traces held undecided.
    pub fn held_traces(&self) -> usize {
        self.traces.len()
    }

    /// The counts since the last call.
    pub fn take_stats(&mut self) -> Stats {
        std::mem::take(&mut self.stats)
    }
}
