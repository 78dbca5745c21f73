//! Latency histograms (microseconds, 3 significant digits) and their summary.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Records durations in microseconds, from 1 µs to 1 hour (larger values
/// are clamped to the top).
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

const MAX_US: u64 = 3_600_000_000;

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds"))
    }
}

impl Latency {
    pub fn record(&mut self, elapsed: Duration) {
        self.record_us(u64::try_from(elapsed.as_micros()).unwrap_or(MAX_US));
    }

    /// Records `count` samples of `us` microseconds.
    pub fn record_n_us(&mut self, us: u64, count: u64) {
        self.0.saturating_record_n(us.clamp(1, MAX_US), count);
    }

    pub fn record_us(&mut self, us: u64) {
        self.record_n_us(us, 1);
    }

    pub fn merge(&mut self, other: &Latency) {
        // Same bounds on both sides, so adding cannot fail.
        self.0.add(&other.0).expect("histograms with equal bounds");
    }

    pub fn summary(&self) -> Summary {
        let h = &self.0;
        if h.is_empty() {
            return Summary::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Summary {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} samples)",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms, self.count
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut a = Latency::default();
        let mut b = Latency::default();
        for us in 1..=500 {
            a.record(Duration::from_micros(us * 1000));
        }
        for us in 501..=1000 {
            b.record_us(us * 1000);
        }
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 1000);
        // 3 significant digits: within 0.1%.
        assert!((s.p50_ms - 500.0).abs() <= 0.5, "{s}");
        assert!((s.p99_ms - 990.0).abs() <= 1.0, "{s}");
        assert!((s.max_ms - 1000.0).abs() <= 1.0, "{s}");
        assert_eq!(Latency::default().summary(), Summary::default());
    }
}
