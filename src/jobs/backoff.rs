//! Retry delays: exponential backoff with full jitter (a uniformly random delay between zero
//! and the exponential ceiling), which spreads retries of jobs that failed together, say
//! during a courier outage, instead of sending them back in one wave.

use std::time::Duration;

/// Base and cap of the exponential ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The delay after failed attempt `attempt` (1 for the first), with a fresh random draw.
    pub fn delay(&self, attempt: i32) -> Duration {
        backoff_delay(attempt, self.base, self.cap, rand::random::<f64>())
    }
}

/// `min(cap, base × 2^(attempt−1))`, without overflow for any attempt number.
pub fn backoff_ceiling(attempt: i32, base: Duration, cap: Duration) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(63);
    let factor = 1u64 << exponent;
    let base_ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    let ceiling = Duration::from_millis(base_ms.saturating_mul(factor));
    ceiling.min(cap)
}

/// Full jitter: `unit` (a random number in [0, 1)) scales the ceiling. Pure, so tests can pass
/// the random number.
pub fn backoff_delay(attempt: i32, base: Duration, cap: Duration, unit: f64) -> Duration {
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    backoff_ceiling(attempt, base, cap).mul_f64(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(5);
    const CAP: Duration = Duration::from_secs(3600);

    #[test]
    fn ceiling_doubles_then_stops_at_the_cap() {
        let secs: Vec<u64> = (1..=12)
            .map(|a| backoff_ceiling(a, BASE, CAP).as_secs())
            .collect();
        assert_eq!(
            secs,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff_ceiling(i32::MAX, BASE, CAP), CAP);
        assert_eq!(backoff_ceiling(0, BASE, CAP), BASE);
        assert_eq!(backoff_ceiling(-3, BASE, CAP), BASE);
    }

    #[test]
    fn jitter_scales_between_zero_and_the_ceiling() {
        assert_eq!(backoff_delay(3, BASE, CAP, 0.0), Duration::ZERO);
        assert_eq!(backoff_delay(3, BASE, CAP, 0.5), Duration::from_secs(10));
        assert_eq!(backoff_delay(3, BASE, CAP, 7.0), Duration::from_secs(20));
        assert_eq!(backoff_delay(3, BASE, CAP, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn random_delays_differ_and_stay_under_the_ceiling() {
        let backoff = Backoff::default();
        let delays: Vec<Duration> = (0..50).map(|_| backoff.delay(6)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(160)));
        let first = delays[0];
        assert!(delays.iter().any(|d| *d != first), "jittered");
    }
}
