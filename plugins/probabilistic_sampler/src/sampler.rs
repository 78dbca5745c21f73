//! The keep/drop decision for one span or log record, as the Go collector
//! makes it (`commonShouldSampleLogic`): find the item's randomness, check
//! an arriving threshold is consistent with it, pick the threshold (the
//! mode's, or "never" when the item is inconsistent and `fail_closed`),
//! let a priority attribute override it, compare, and record the threshold
//! in `tracestate` when kept.

use crate::config::{Config, Mode};
use crate::hashing;
use crate::threshold::{MIN_SAMPLING_PROBABILITY, Randomness, Threshold, TraceState};

/// A `sampling.priority` attribute's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Defer,
    Keep,
    Drop,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Never,
    HashSeed { seed: u32, threshold: Threshold },
    Equalizing { threshold: Threshold },
    Proportional { ratio: f64 },
}

/// A configured sampler for one signal.
#[derive(Debug, Clone)]
pub struct Sampler {
    kind: Kind,
    fail_closed: bool,
    precision: u32,
    /// Logs: hash the trace id (`traceID`) rather than an attribute.
    logs_trace_id: bool,
    logs_attribute: String,
    logs_seed: u32,
}

/// What became of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub keep: bool,
    /// The new `tracestate` of a kept span, when it changed.
    pub tracestate: Option<String>,
}

impl Sampler {
    /// The sampler `config` describes for traces (`logs: false`) or logs.
    pub fn new(config: &Config, logs: bool) -> Sampler {
        let pct = config.sampling_percentage.min(100.0);
        let mode = match config.mode {
            Some(mode) => mode,
            None if config.hash_seed != 0 => Mode::HashSeed,
            None if logs && config.attribute_source == crate::config::AttributeSource::Record => {
                Mode::HashSeed
            }
            None => Mode::Proportional,
        };
        let ratio = (f64::from(pct) / 100.0).max(MIN_SAMPLING_PROBABILITY);
        let kind = if pct == 0.0 {
            Kind::Never
        } else {
            match mode {
                Mode::HashSeed => match hashing::threshold(pct) {
                    Some(threshold) => Kind::HashSeed {
                        seed: config.hash_seed,
                        threshold,
                    },
                    None => Kind::Never,
                },
                Mode::Equalizing => Kind::Equalizing {
                    threshold: Threshold::from_probability(ratio, config.sampling_precision)
                        .unwrap_or(Threshold::NEVER),
                },
                Mode::Proportional => Kind::Proportional { ratio },
            }
        };
        Sampler {
            kind,
            fail_closed: config.fail_closed,
            precision: config.sampling_precision,
            logs_trace_id: config.attribute_source == crate::config::AttributeSource::TraceId,
            logs_attribute: config.from_attribute.clone(),
            logs_seed: config.hash_seed,
        }
    }

    /// Decides a span from its trace id, raw `tracestate` and priority.
    pub fn decide_span(&self, trace_id: &[u8], tracestate: &str, priority: Priority) -> Decision {
        let id = trace_id_array(trace_id);
        let parsed = TraceState::parse(tracestate);
        let (rnd, mut carrier, mut failed) = match self.kind {
            Kind::HashSeed { seed, .. } => {
                let rnd = Some(hashing::randomness_from_bytes(&id, seed));
                match parsed {
                    Err(_) => (rnd, None, true),
                    Ok(mut ts) => {
                        // Explicit consistent-sampling data must be left alone.
                        let in_use = ts.rv.is_some() || ts.th.is_some();
                        if !in_use && let Some(rnd) = rnd {
                            ts.set_rv(rnd);
                        }
                        (rnd, Some(ts), in_use)
                    }
                }
            }
            _ => match parsed {
                Err(_) => (None, None, true),
                Ok(ts) => {
                    let rnd = ts
                        .rv
                        .or_else(|| (id != [0; 16]).then(|| Randomness::from_trace_id(&id)));
                    (rnd, Some(ts), false)
                }
            },
        };
        if !failed {
            failed = !consistent(rnd, carrier.as_mut());
        }
        let threshold = self.threshold(failed, carrier.as_ref().and_then(|c| c.th), priority);
        let keep = threshold.should_sample(rnd.unwrap_or(Randomness::MISSING));
        let tracestate = match (keep, carrier) {
            (true, Some(mut ts)) => {
                // Refused when it would raise the arriving probability: keep it as it came.
                let _ = ts.update_threshold(threshold);
                let out = ts.serialize();
                (out != tracestate).then_some(out)
            }
            _ => None,
        };
        Decision { keep, tracestate }
    }

    /// Decides a log record from its trace id, the bytes of its randomness
    /// attribute (when configured and present) and its priority. Log records
    /// carry no `tracestate`; the `sampling.*` record attributes of the Go
    /// collector are neither read nor written.
    pub fn decide_log(
        &self,
        trace_id: &[u8],
        attribute: Option<&[u8]>,
        priority: Priority,
    ) -> bool {
        let id = trace_id_array(trace_id);
        let rnd = match self.kind {
            Kind::HashSeed { seed, .. } => {
                if self.logs_trace_id {
                    Some(hashing::randomness_from_bytes(&id, seed))
                } else {
                    attribute.map(|a| hashing::randomness_from_bytes(a, seed))
                }
            }
            _ => {
                if id != [0; 16] {
                    Some(Randomness::from_trace_id(&id))
                } else if self.logs_attribute.is_empty() {
                    None
                } else {
                    attribute.map(|a| hashing::randomness_from_bytes(a, self.logs_seed))
                }
            }
        };
        let threshold = self.threshold(rnd.is_none(), None, priority);
        threshold.should_sample(rnd.unwrap_or(Randomness::MISSING))
    }

    fn threshold(
        &self,
        failed: bool,
        arriving: Option<Threshold>,
        priority: Priority,
    ) -> Threshold {
        let threshold = if failed && self.fail_closed {
            Threshold::NEVER
        } else {
            match self.kind {
                Kind::Never => Threshold::NEVER,
                Kind::HashSeed { threshold, .. } | Kind::Equalizing { threshold } => threshold,
                Kind::Proportional { ratio } => {
                    let incoming = arriving.map_or(1.0, Threshold::probability);
                    Threshold::from_probability(incoming * ratio, self.precision)
                        .unwrap_or(Threshold::NEVER)
                }
            }
        };
        match priority {
            Priority::Defer => threshold,
            Priority::Keep => Threshold::ALWAYS,
            Priority::Drop => Threshold::NEVER,
        }
    }
}

/// Whether randomness exists and agrees with an arriving threshold; an
/// arriving threshold the randomness contradicts is removed (as the spec says).
fn consistent(rnd: Option<Randomness>, carrier: Option<&mut TraceState>) -> bool {
    let Some(rnd) = rnd else { return false };
    if let Some(ts) = carrier
        && let Some(th) = ts.th
        && !th.should_sample(rnd)
    {
        ts.th = None;
        return false;
    }
    true
}

/// A trace id as 16 bytes (a malformed one, of another length, is zero-padded).
fn trace_id_array(id: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = id.len().min(16);
    out[..n].copy_from_slice(&id[..n]);
    out
}
