//! OpenTelemetry consistent probability sampling (OTEP 235): 56-bit
//! randomness and rejection thresholds, and the `ot` entry of the W3C
//! `tracestate` that carries them (`rv:` randomness, `th:` threshold).
//!
//! An item is sampled when its randomness `R` is at least the threshold
//! `T`; `T = 0` samples everything, `T = 2^56` nothing.

/// 2^56: the number of distinct randomness values.
pub const MAX_ADJUSTED_COUNT: u64 = 1 << 56;
/// Hex digits of a full threshold or randomness value.
const NUM_HEX_DIGITS: u32 = 14;
/// The smallest probability a threshold can express.
pub const MIN_SAMPLING_PROBABILITY: f64 = 1.0 / MAX_ADJUSTED_COUNT as f64;

/// 56 bits of randomness of a trace (or log record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Randomness(pub u64);

impl Randomness {
    /// Used when there is none: every threshold but "never" samples it.
    pub const MISSING: Randomness = Randomness(MAX_ADJUSTED_COUNT - 1);

    /// The W3C level-2 randomness of a trace id: its last 7 bytes.
    pub fn from_trace_id(id: &[u8; 16]) -> Randomness {
        let mut b = [0u8; 8];
        b[1..].copy_from_slice(&id[9..]);
        Randomness(u64::from_be_bytes(b))
    }

    /// Parses an `rv` value: exactly 14 hex digits.
    pub fn parse(rv: &str) -> Option<Randomness> {
        if rv.len() != NUM_HEX_DIGITS as usize {
            return None;
        }
        u64::from_str_radix(rv, 16).ok().map(Randomness)
    }

    /// The `rv` value: 14 lower-case hex digits.
    pub fn rvalue(self) -> String {
        format!("{:014x}", self.0)
    }
}

/// A rejection threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold(pub u64);

impl Threshold {
    pub const ALWAYS: Threshold = Threshold(0);
    pub const NEVER: Threshold = Threshold(MAX_ADJUSTED_COUNT);

    pub fn should_sample(self, r: Randomness) -> bool {
        self != Threshold::NEVER && r.0 >= self.0
    }

    /// Parses a `th` value: 1 to 14 hex digits, trailing zeros implied.
    pub fn parse(th: &str) -> Option<Threshold> {
        if th.is_empty() || th.len() > NUM_HEX_DIGITS as usize {
            return None;
        }
        let v = u64::from_str_radix(th, 16).ok()?;
        Some(Threshold(v << (4 * (NUM_HEX_DIGITS - th.len() as u32))))
    }

    /// The `th` value: trailing zeros removed, `0` for always, empty for never.
    pub fn tvalue(self) -> String {
        if self == Threshold::ALWAYS {
            return "0".into();
        }
        if self == Threshold::NEVER {
            return String::new();
        }
        let full = format!("{:014x}", self.0);
        full.trim_end_matches('0').to_string()
    }

    /// The sampling probability this threshold means.
    pub fn probability(self) -> f64 {
        (MAX_ADJUSTED_COUNT - self.0) as f64 / MAX_ADJUSTED_COUNT as f64
    }

    /// The threshold for `fraction`, rounded to `precision` hex digits
    /// (more near 0 and 1, where relative error grows), as the Go
    /// collector's `ProbabilityToThresholdWithPrecision`. `None` when
    /// `fraction` is out of `[2^-56, 1]`.
    pub fn from_probability(fraction: f64, precision: u32) -> Option<Threshold> {
        if !(MIN_SAMPLING_PROBABILITY..=1.0).contains(&fraction) {
            return None;
        }
        if fraction == 1.0 {
            return Some(Threshold::ALWAYS);
        }
        let precision = if precision == 0 {
            NUM_HEX_DIGITS
        } else {
            precision.min(NUM_HEX_DIGITS)
        } as i32;
        let exp_f = frexp_exp(fraction);
        let exp_r = frexp_exp(1.0 - fraction);
        // Go's integer division truncates toward zero, as Rust's does.
        let precision =
            (NUM_HEX_DIGITS as i32).min((precision + exp_f / -4).max(precision + exp_r / -4));
        let scaled = (fraction * MAX_ADJUSTED_COUNT as f64).round() as u64;
        let mut threshold = MAX_ADJUSTED_COUNT - scaled;
        let shift = 4 * (NUM_HEX_DIGITS as i32 - precision);
        if shift != 0 {
            let half = 1u64 << (shift - 1);
            threshold += half;
            threshold >>= shift;
            threshold <<= shift;
        }
        Some(Threshold(threshold))
    }
}

/// The binary exponent `e` of `x = m * 2^e` with `m` in `[0.5, 1)` (C's `frexp`).
fn frexp_exp(x: f64) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: normalise first.
        return frexp_exp(x * (1u64 << 54) as f64) - 54;
    }
    exp - 1022
}

/// A span's `tracestate`, with its `ot` entry parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceState {
    /// `rv:` if present and valid.
    pub rv: Option<Randomness>,
    /// `rv:` as it arrived (upper-case digits pass through unchanged).
    rv_text: String,
    /// `th:` if present and valid.
    pub th: Option<Threshold>,
    /// Other `key:value` members of the `ot` entry, in order.
    ot_extra: Vec<(String, String)>,
    /// The other vendors' entries, in order, verbatim.
    others: Vec<String>,
}

/// The `tracestate` could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceStateError(pub String);

impl TraceState {
    /// Parses a W3C `tracestate` header value (empty is fine).
    pub fn parse(raw: &str) -> Result<TraceState, TraceStateError> {
        let mut ts = TraceState::default();
        for member in raw.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            let (key, value) = member.split_once('=').ok_or_else(|| {
                TraceStateError(format!("tracestate member `{member}` has no `=`"))
            })?;
            if key != "ot" {
                ts.others.push(member.to_string());
                continue;
            }
            if value.len() > 256 {
                return Err(TraceStateError(
                    "ot tracestate value longer than 256".into(),
                ));
            }
            for part in value.split(';') {
                let (k, v) = part
                    .split_once(':')
                    .ok_or_else(|| TraceStateError(format!("ot member `{part}` has no `:`")))?;
                let key_ok = k.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && k.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
                let value_ok = v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                if !key_ok || !value_ok {
                    return Err(TraceStateError(format!("ot member `{part}` is malformed")));
                }
                match k {
                    "rv" => {
                        ts.rv = Some(Randomness::parse(v).ok_or_else(|| {
                            TraceStateError(format!("rv `{v}` is not 14 hex digits"))
                        })?);
                        ts.rv_text = v.to_string();
                    }
                    "th" => {
                        ts.th = Some(Threshold::parse(v).ok_or_else(|| {
                            TraceStateError(format!("th `{v}` is not 1-14 hex digits"))
                        })?)
                    }
                    _ => ts.ot_extra.push((k.to_string(), v.to_string())),
                }
            }
        }
        Ok(ts)
    }

    /// Serialises: the `ot` entry first (`rv`, `th`, then the rest), then
    /// the other vendors' entries as they came.
    pub fn serialize(&self) -> String {
        let mut ot = Vec::new();
        if self.rv.is_some() {
            ot.push(format!("rv:{}", self.rv_text));
        }
        if let Some(th) = self.th {
            let tv = th.tvalue();
            if !tv.is_empty() {
                ot.push(format!("th:{tv}"));
            }
        }
        for (k, v) in &self.ot_extra {
            ot.push(format!("{k}:{v}"));
        }
        let mut members = Vec::new();
        if !ot.is_empty() {
            members.push(format!("ot={}", ot.join(";")));
        }
        members.extend(self.others.iter().cloned());
        members.join(",")
    }

    /// Sets explicit randomness (`rv:`).
    pub fn set_rv(&mut self, rv: Randomness) {
        self.rv = Some(rv);
        self.rv_text = rv.rvalue();
    }

    /// Records that the item was sampled at `threshold`. Refused (and the
    /// state left as it was) when it would raise the arriving probability.
    pub fn update_threshold(&mut self, threshold: Threshold) -> Result<(), TraceStateError> {
        if threshold == Threshold::NEVER {
            self.th = None;
            return Ok(());
        }
        if let Some(existing) = self.th
            && existing > threshold
        {
            return Err(TraceStateError(
                "cannot raise existing sampling probability".into(),
            ));
        }
        self.th = Some(threshold);
        Ok(())
    }
}
