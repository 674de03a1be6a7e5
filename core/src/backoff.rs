//! The back-off schedule.

use crate::options::StreamOptions;
use std::time::Duration;

/// `reconnect_delay × reconnect_backoff^step`, capped at `max_reconnect_delay`, minus up to
/// `reconnect_jitter` of itself.
pub(crate) fn delay(options: &StreamOptions, step: u32, random_unit: f64) -> Duration {
    let base = options.reconnect_delay.as_secs_f64();
    let cap = options.max_reconnect_delay.as_secs_f64();
    // powi saturates to infinity for large steps; min() then yields the cap.
    let grown = (base
        * options
            .reconnect_backoff
            .powi(step.min(i32::MAX as u32) as i32))
    .min(cap);
    let capped = if grown >= cap {
        options.max_reconnect_delay
    } else {
        // Exact for the common whole-second products (1 s × 2^n), which tests compare with ==.
        Duration::from_secs_f64(grown)
    };
    if options.reconnect_jitter > 0.0 {
        capped.mul_f64(1.0 - options.reconnect_jitter * random_unit.clamp(0.0, 1.0))
    } else {
        capped
    }
}

/// A small xorshift generator: jitter needs spread, not cryptographic quality, and pulling in a
/// random-number crate for it is not worth a dependency.
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        Jitter(seed | 1)
    }

    /// A number in [0, 1).
    pub(crate) fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(base: u64, factor: f64, cap: u64, jitter: f64) -> StreamOptions {
        StreamOptions {
            reconnect_delay: Duration::from_secs(base),
            reconnect_backoff: factor,
            max_reconnect_delay: Duration::from_secs(cap),
            reconnect_jitter: jitter,
            ..StreamOptions::default()
        }
    }

    #[test]
    fn doubling_is_capped() {
        let o = opts(1, 2.0, 30, 0.0);
        let got: Vec<u64> = (0..8).map(|n| delay(&o, n, 0.5).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(delay(&o, u32::MAX, 0.0), Duration::from_secs(30));
    }

    #[test]
    fn constant_by_default() {
        let o = StreamOptions::default();
        for n in 0..5 {
            assert_eq!(delay(&o, n, 0.0), Duration::from_secs(1));
        }
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let o = opts(1, 2.0, 30, 0.25);
        let mut rng = Jitter::new(42);
        let mut seen_low = false;
        for n in 0..2000 {
            let step = n % 8;
            let full = delay(&opts(1, 2.0, 30, 0.0), step, 0.0);
            let d = delay(&o, step, rng.next_unit());
            assert!(d <= full && d >= full.mul_f64(0.75), "{d:?} vs {full:?}");
            seen_low |= d < full.mul_f64(0.8);
        }
        assert!(seen_low, "jitter never took anything off");
    }
}
