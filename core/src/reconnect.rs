//! The reconnect decision: the public policy, and the private retry state that applies it.
//!
//! The supervisor asks one question after a connection ends — give up, or wait how long? —
//! and does no arithmetic of its own; everything that decides the answer lives here.

use crate::error::Error;
use crate::options::StreamOptions;
use std::time::Duration;

/// How a stream reconnects, as the builder's setters (`reconnect_delay`,
/// `reconnect_backoff`, `max_reconnect_delay`, `max_reconnect_attempts`, `reconnect_jitter`)
/// fill it; [`StreamOptions::reconnect_policy`] gives the policy of a set of options.
///
/// After the `n`-th consecutive failure (from 0) the stream waits
/// `delay × backoff^n`, capped at `max_delay`, minus up to `jitter` of itself; it gives up
/// after `max_attempts` consecutive failures, and at once on an error that retrying cannot
/// fix ([`Error::is_transient`] false). What counts as a success is not configurable: see
/// [`ReconnectPolicy::success_rule`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Wait before the first reconnection attempt after a drop or failure.
    pub delay: Duration,
    /// Multiplier of the wait after each consecutive failure (≥ 1.0).
    pub backoff: f64,
    /// Cap on the wait.
    pub max_delay: Duration,
    /// Consecutive failed attempts before giving up; `None`: never.
    pub max_attempts: Option<u32>,
    /// Fraction of each wait randomly taken off (0.0–1.0): the wait lies in
    /// `[d × (1 − jitter), d]`, so the cap stays a cap.
    pub jitter: f64,
}

/// What makes a connection count as successful, resetting the delay and the attempt count.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuccessRule {
    /// Its first frame arrived. A camera that accepts a connection and drops it before a
    /// frame is backed off like one that refuses, not hammered.
    FirstFrame,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        StreamOptions::default().reconnect_policy()
    }
}

impl ReconnectPolicy {
    /// The rule every stream follows: [`SuccessRule::FirstFrame`].
    pub fn success_rule(&self) -> SuccessRule {
        SuccessRule::FirstFrame
    }

    /// The wait after the `step`-th consecutive failure (from 0), with `random_unit` (in
    /// [0, 1)) of the jitter taken off.
    pub fn delay_after(&self, step: u32, random_unit: f64) -> Duration {
        let base = self.delay.as_secs_f64();
        let cap = self.max_delay.as_secs_f64();
        // powi saturates to infinity for large steps; min() then yields the cap.
        let grown = (base * self.backoff.powi(step.min(i32::MAX as u32) as i32)).min(cap);
        let capped = if grown >= cap {
            self.max_delay
        } else {
            // Exact for the common whole-second products (1 s × 2^n), which tests compare with ==.
            Duration::from_secs_f64(grown)
        };
        if self.jitter > 0.0 {
            capped.mul_f64(1.0 - self.jitter * random_unit.clamp(0.0, 1.0))
        } else {
            capped
        }
    }
}

impl StreamOptions {
    /// The reconnect policy these options describe.
    pub fn reconnect_policy(&self) -> ReconnectPolicy {
        ReconnectPolicy {
            delay: self.reconnect_delay,
            backoff: self.reconnect_backoff,
            max_delay: self.max_reconnect_delay,
            max_attempts: self.max_reconnect_attempts,
            jitter: self.reconnect_jitter,
        }
    }

    /// Sets the fields of `policy`.
    pub(crate) fn set_reconnect_policy(&mut self, policy: ReconnectPolicy) {
        self.reconnect_delay = policy.delay;
        self.reconnect_backoff = policy.backoff;
        self.max_reconnect_delay = policy.max_delay;
        self.max_reconnect_attempts = policy.max_attempts;
        self.reconnect_jitter = policy.jitter;
    }
}

/// The supervisor's answer after a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Wait this long, then try again.
    After(Duration),
    /// Stop trying.
    GiveUp,
}

/// One run's progress through its policy: everything the decision needs, nothing else.
pub(crate) struct RetryState {
    policy: ReconnectPolicy,
    /// Consecutive failed attempts since the last successful connection.
    failures: u32,
    /// Exponent of the next delay: grows with every wait, also after a drop of a working
    /// connection, and starts over with a success.
    step: u32,
    jitter: Jitter,
}

impl RetryState {
    pub(crate) fn new(policy: ReconnectPolicy, seed: u64) -> Self {
        RetryState {
            policy,
            failures: 0,
            step: 0,
            jitter: Jitter::new(seed),
        }
    }

    /// Consecutive failed attempts so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// The connection met the success rule: the delay and the attempt count start over.
    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
        self.step = 0;
    }

    /// A connection ended with `error`; `succeeded` says whether it had met the success rule
    /// (a drop of a working connection is not a failed attempt). Give up, or wait how long.
    pub(crate) fn after(&mut self, error: &Error, succeeded: bool) -> Retry {
        if !succeeded {
            self.failures = self.failures.saturating_add(1);
        }
        let exhausted = self
            .policy
            .max_attempts
            .is_some_and(|max| self.failures >= max);
        if !error.is_transient() || exhausted {
            return Retry::GiveUp;
        }
        let delay = self.policy.delay_after(self.step, self.jitter.next_unit());
        self.step = self.step.saturating_add(1);
        Retry::After(delay)
    }
}

/// A small xorshift generator: jitter needs spread, not cryptographic quality, and pulling in a
/// random-number crate for it is not worth a dependency.
struct Jitter(u64);

impl Jitter {
    fn new(seed: u64) -> Self {
        Jitter(seed | 1)
    }

    /// A number in [0, 1).
    fn next_unit(&mut self) -> f64 {
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
    use crate::error::ErrorKind;

    fn policy(base: u64, factor: f64, cap: u64, jitter: f64) -> ReconnectPolicy {
        ReconnectPolicy {
            delay: Duration::from_secs(base),
            backoff: factor,
            max_delay: Duration::from_secs(cap),
            max_attempts: None,
            jitter,
        }
    }

    #[test]
    fn doubling_is_capped() {
        let p = policy(1, 2.0, 30, 0.0);
        let got: Vec<u64> = (0..8).map(|n| p.delay_after(n, 0.5).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(p.delay_after(u32::MAX, 0.0), Duration::from_secs(30));
    }

    #[test]
    fn constant_by_default() {
        let p = ReconnectPolicy::default();
        for n in 0..5 {
            assert_eq!(p.delay_after(n, 0.0), Duration::from_secs(1));
        }
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let p = policy(1, 2.0, 30, 0.25);
        let mut rng = Jitter::new(42);
        let mut seen_low = false;
        for n in 0..2000 {
            let step = n % 8;
            let full = policy(1, 2.0, 30, 0.0).delay_after(step, 0.0);
            let d = p.delay_after(step, rng.next_unit());
            assert!(d <= full && d >= full.mul_f64(0.75), "{d:?} vs {full:?}");
            seen_low |= d < full.mul_f64(0.8);
        }
        assert!(seen_low, "jitter never took anything off");
    }

    #[test]
    fn the_state_counts_failures_and_gives_up() {
        let refused = Error::new(ErrorKind::ConnectionRefused, "t", "");
        let mut state = RetryState::new(
            ReconnectPolicy {
                max_attempts: Some(3),
                ..policy(1, 2.0, 30, 0.0)
            },
            7,
        );
        assert_eq!(
            state.after(&refused, false),
            Retry::After(Duration::from_secs(1))
        );
        assert_eq!(
            state.after(&refused, false),
            Retry::After(Duration::from_secs(2))
        );
        state.succeeded();
        // A working connection dropped: no failed attempt, but the next wait still grows.
        assert_eq!(
            state.after(&refused, true),
            Retry::After(Duration::from_secs(1))
        );
        assert_eq!(
            state.after(&refused, false),
            Retry::After(Duration::from_secs(2))
        );
        assert_eq!(
            state.after(&refused, false),
            Retry::After(Duration::from_secs(4))
        );
        assert_eq!(state.failures(), 2);
        assert_eq!(state.after(&refused, false), Retry::GiveUp);
        let permanent = Error::new(ErrorKind::NotFound, "t", "");
        assert_eq!(
            RetryState::new(policy(1, 1.0, 1, 0.0), 1).after(&permanent, false),
            Retry::GiveUp
        );
    }
}
