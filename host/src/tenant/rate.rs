//! A tenant's rate limit: a token bucket of items, refilled continuously.
//!
//! A request passes while the bucket is not empty and is charged in full,
//! which may leave the bucket in debt; later requests wait until the debt
//! is repaid (Guava's `RateLimiter` pays for a request the same way). Over
//! time the tenant gets its rate, and a burst of at most `burst` plus one
//! request. The point of charging after the fact: whether a request passes
//! does not depend on its size, so it is known from the headers alone and
//! an over-limit request is refused before its body is read or decoded
//! ([`RateLimiter::check`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::tenancy::RateLimitConfig;

/// Items per second with a burst.
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

    /// Whether a request would pass now, taking nothing: the check made
    /// before a request's body is read.
    pub fn check(&self) -> Result<(), Duration> {
        self.check_at(Instant::now())
    }

    fn check_at(&self, now: Instant) -> Result<(), Duration> {
        self.update(now, |_| ())
    }

    /// Takes `items`, or says how long until a request could pass.
    pub fn take(&self, items: usize) -> Result<(), Duration> {
        self.take_at(items, Instant::now())
    }

    fn take_at(&self, items: usize, now: Instant) -> Result<(), Duration> {
        self.update(now, |tokens| *tokens -= items as f64)
    }

    /// Refills the bucket to `now`; if it is not empty, applies `charge`.
    fn update(&self, now: Instant, charge: impl FnOnce(&mut f64)) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = &mut *state;
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * self.rate).min(self.burst);
        *last = now;
        if *tokens > 0.0 {
            charge(tokens);
            return Ok(());
        }
        // The wait until the debt is repaid (and one item has come back).
        let missing = 1.0 - *tokens;
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
        // Empty: the next request waits for one item (10 ms).
        let wait = limiter.take_at(10, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.01).abs() < 1e-6, "{wait:?}");
        // 100 ms later, 10 items have come back: a request of 10 passes...
        assert!(
            limiter
                .take_at(10, start + Duration::from_millis(100))
                .is_ok()
        );
        // ...and the bucket is empty again.
        assert!(
            limiter
                .take_at(1, start + Duration::from_millis(100))
                .is_err()
        );
    }

    #[test]
    fn a_request_passes_while_the_bucket_is_not_empty_and_leaves_it_in_debt() {
        let limiter = RateLimiter::new(&RateLimitConfig {
            items_per_second: 10.0,
            burst: None,
        });
        let start = Instant::now();
        assert!(limiter.take_at(5, start).is_ok());
        // 5 items left: a request of 50 passes and leaves a debt of 45.
        assert!(limiter.take_at(50, start).is_ok());
        // The next item waits 4.6 s (45 repaid, then one more).
        let wait = limiter.take_at(1, start).unwrap_err();
        assert!((wait.as_secs_f64() - 4.6).abs() < 1e-6, "{wait:?}");
        assert!(
            limiter
                .take_at(1, start + Duration::from_millis(4500))
                .is_err()
        );
        assert!(
            limiter
                .take_at(1, start + Duration::from_millis(4600))
                .is_ok()
        );
    }

    #[test]
    fn the_check_takes_nothing() {
        let limiter = RateLimiter::new(&RateLimitConfig {
            items_per_second: 10.0,
            burst: Some(1),
        });
        let now = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at(now).is_ok());
        }
        assert!(limiter.take_at(1, now).is_ok());
        assert!(limiter.check_at(now).is_err());
    }

    #[test]
    fn over_a_long_run_the_rate_holds() {
        let limiter = RateLimiter::new(&RateLimitConfig {
            items_per_second: 1000.0,
            burst: Some(1000),
        });
        let start = Instant::now();
        // 10x the rate for 10 s: 100 requests of 100 items per second.
        let mut admitted = 0;
        for n in 0..1000u64 {
            let at = start + Duration::from_millis(n * 10);
            if limiter.take_at(100, at).is_ok() {
                admitted += 100;
            }
        }
        // At most the burst, plus the rate, plus one request.
        assert!(admitted <= 1000 + 10_000 + 100, "{admitted}");
        assert!(admitted >= 10_000, "{admitted}");
    }
}
