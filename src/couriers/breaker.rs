//! A per-courier circuit breaker: after `threshold` consecutive outages (timeouts, 5xx,
//! connection errors) calls stop for `open_for`; then one probe call is let through, and its
//! outcome closes the breaker or opens it again. Refusals do not count: a courier that says
//! "no" to one route is up.
//!
//! Per process: each replica learns a courier is down from its own calls, which costs at most
//! `threshold` calls per replica and needs no shared state.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum Inner {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out since `since`; a probe that never reports is replaced after `open_for`.
    HalfOpen {
        since: Instant,
    },
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    inner: Mutex<Inner>,
}

/// Calls are refused for now; try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerOpen {
    pub retry_in: Duration,
}

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// May a call go out now? When the open period is over, the first caller becomes the probe.
    pub fn allow(&self) -> Result<(), BreakerOpen> {
        let now = Instant::now();
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } if now < until => Err(BreakerOpen {
                retry_in: until - now,
            }),
            Inner::HalfOpen { since } if now < since + self.open_for => Err(BreakerOpen {
                retry_in: since + self.open_for - now,
            }),
            Inner::Open { .. } | Inner::HalfOpen { .. } => {
                *inner = Inner::HalfOpen { since: now };
                Ok(())
            }
        }
    }

    pub fn record_success(&self) {
        *self.lock() = Inner::Closed { failures: 0 };
    }

    /// An outage: counts towards opening; a failed probe opens again at once.
    pub fn record_failure(&self) {
        let now = Instant::now();
        let mut inner = self.lock();
        let failures = match *inner {
            Inner::Closed { failures } => failures + 1,
            Inner::Open { .. } | Inner::HalfOpen { .. } => self.threshold,
        };
        *inner = if failures >= self.threshold {
            Inner::Open {
                until: now + self.open_for,
            }
        } else {
            Inner::Closed { failures }
        };
    }

    /// How long calls stay refused; `None` when one may go out now.
    pub fn retry_in(&self) -> Option<Duration> {
        let now = Instant::now();
        match *self.lock() {
            Inner::Open { until } if now < until => Some(until - now),
            Inner::HalfOpen { since } if now < since + self.open_for => {
                Some(since + self.open_for - now)
            }
            _ => None,
        }
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() < until => BreakerState::Open,
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_probes_once() {
        let breaker = Breaker::new(3, Duration::from_millis(40));
        for _ in 0..2 {
            breaker.record_failure();
            assert!(breaker.allow().is_ok());
        }
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(breaker.allow().is_err());
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.allow().is_ok(), "the probe goes out");
        assert!(breaker.allow().is_err(), "only one probe at a time");
        breaker.record_failure();
        assert_eq!(
            breaker.state(),
            BreakerState::Open,
            "a failed probe reopens"
        );
        std::thread::sleep(Duration::from_millis(50));
        assert!(breaker.allow().is_ok());
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.allow().is_ok());
    }

    #[test]
    fn retry_in_says_how_long_calls_stay_refused() {
        let breaker = Breaker::new(1, Duration::from_secs(60));
        assert_eq!(breaker.retry_in(), None);
        breaker.record_failure();
        let wait = breaker.retry_in().expect("open");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        breaker.record_success();
        assert_eq!(breaker.retry_in(), None);
    }

    #[test]
    fn success_resets_the_count() {
        let breaker = Breaker::new(2, Duration::from_secs(60));
        breaker.record_failure();
        breaker.record_success();
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
