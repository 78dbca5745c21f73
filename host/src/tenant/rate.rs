//! A tenant's rate limit: a token bucket of items, refilled continuously.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::tenancy::RateLimitConfig;

/// Items per second with a burst. A request larger than the burst passes
/// when the bucket is full and leaves it in debt, so a large request is
/// slowed, never refused forever.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    pub fn new(config: &RateLimitConfig) -> Self {
        let burst = config
            .burst
            .map(|b| b as f64)
            .unwrap_or(config.items_per_second.ceil())
            .max(1.0);
        RateLimiter {
            rate: config.items_per_second,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes `items`, or says how long until they would fit.
    pub fn take(&self, items: usize) -> Result<(), Duration> {
        self.take_at(items, Instant::now())
    }

    fn take_at(&self, items: usize, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = &mut *state;
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * self.rate).min(self.burst);
        *last = now;
        let want = items as f64;
        if want <= *tokens || (want > self.burst && *tokens >= self.burst) {
            *tokens -= want;
            return Ok(());
        }
        let missing = want.min(self.burst) - *tokens;
        Err(Duration::from_secs_f64(missing / self.rate).max(Duration::from_millis(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(&RateLimitConfig {
            items_per_second: 100.0,
            burst: Some(200),
        });
        let start = Instant::now();
        assert!(limiter.take_at(150, start).is_ok());
        assert!(limiter.take_at(50, start).is_ok());
        let wait = limiter.take_at(10, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        // 100 ms later, 10 items have come back.
        assert!(
            limiter
                .take_at(10, start + Duration::from_millis(100))
                .is_ok()
        );
        assert!(
            limiter
                .take_at(1, start + Duration::from_millis(100))
                .is_err()
        );
    }

    #[test]
    fn a_request_above_the_burst_passes_only_from_a_full_bucket() {
        let limiter = RateLimiter::new(&RateLimitConfig {
            items_per_second: 10.0,
            burst: None,
        });
        let start = Instant::now();
        assert!(limiter.take_at(50, start).is_ok());
        // In debt by 40: the next item waits 4.1 s.
        let wait = limiter.take_at(1, start).unwrap_err();
        assert!((wait.as_secs_f64() - 4.1).abs() < 1e-6, "{wait:?}");
    }
}
