//! `retry_on_failure`: sends one request until it is delivered, the server
//! refuses it for good, or the retry budget runs out. Waits grow
//! exponentially with jitter and never undercut the server's own hint
//! (`Retry-After`, gRPC `RetryInfo`).

use std::time::{Duration, Instant};

use crate::transport::config::RetryConfig;
use crate::transport::{NetworkSink, OutgoingRequest, SendOutcome};

/// How a request's delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// The server refused the data for good.
    Permanent(String),
    /// Still failing when `max_elapsed_time` (or `enabled: false`) said stop.
    GaveUp(String),
}

/// The wait before each retry.
#[derive(Debug)]
pub struct Backoff {
    config: RetryConfig,
    started: Instant,
    interval: Duration,
}

impl Backoff {
    pub fn new(config: &RetryConfig) -> Self {
        Backoff {
            config: config.clone(),
            started: Instant::now(),
            interval: config.initial_interval,
        }
    }

    /// The next wait, or `None` when the budget is spent. `hint` is the
    /// server's: the wait is never shorter.
    pub fn next(&mut self, hint: Option<Duration>) -> Option<Duration> {
        if !self.config.enabled {
            return None;
        }
        let f = self.config.randomization_factor;
        let jitter = 1.0 - f + 2.0 * f * fastrand::f64();
        let drawn = self.interval.mul_f64(jitter);
        self.interval = self
            .interval
            .mul_f64(self.config.multiplier)
            .min(self.config.max_interval);
        let wait = hint.map_or(drawn, |h| h.max(drawn));
        let budget = self.config.max_elapsed_time;
        if !budget.is_zero() && self.started.elapsed() + wait > budget {
            return None;
        }
        Some(wait)
    }
}

/// Sends `request` with retries; `on_retry` is told each retryable failure
/// and the wait before the next attempt.
pub async fn send_with_retry(
    sink: &NetworkSink,
    request: &OutgoingRequest,
    retry: &RetryConfig,
    mut on_retry: impl FnMut(&str, Duration),
) -> Delivered {
    let mut backoff = Backoff::new(retry);
    loop {
        match sink.send(request).await {
            SendOutcome::Sent => return Delivered::Sent,
            SendOutcome::Permanent { reason } => return Delivered::Permanent(reason),
            SendOutcome::Retryable {
                reason,
                retry_after,
            } => match backoff.next(retry_after) {
                Some(wait) => {
                    on_retry(&reason, wait);
                    tokio::time::sleep(wait).await;
                }
                None => return Delivered::GaveUp(reason),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(f: f64) -> RetryConfig {
        RetryConfig {
            enabled: true,
            initial_interval: Duration::from_millis(100),
            max_interval: Duration::from_millis(400),
            max_elapsed_time: Duration::from_secs(60),
            multiplier: 2.0,
            randomization_factor: f,
        }
    }

    #[test]
    fn grows_to_the_cap_and_honours_hints() {
        let mut b = Backoff::new(&config(0.0));
        let waits: Vec<u128> = (0..5).map(|_| b.next(None).unwrap().as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 400, 400]);
        // A server hint longer than the backoff wins; a shorter one does not.
        assert_eq!(
            b.next(Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            b.next(Some(Duration::from_millis(1))),
            Some(Duration::from_millis(400))
        );
    }

    #[test]
    fn jitter_stays_within_the_factor() {
        let mut b = Backoff::new(&config(0.5));
        let first = b.next(None).unwrap();
        assert!(
            first >= Duration::from_millis(50) && first <= Duration::from_millis(150),
            "{first:?}"
        );
    }

    #[test]
    fn stops_at_the_budget_or_when_disabled() {
        let mut c = config(0.0);
        c.max_elapsed_time = Duration::from_millis(250);
        let mut b = Backoff::new(&c);
        assert!(b.next(None).is_some());
        // A hint past the budget ends it.
        assert_eq!(b.next(Some(Duration::from_secs(10))), None);
        c.enabled = false;
        assert_eq!(Backoff::new(&c).next(None), None);
    }
}
