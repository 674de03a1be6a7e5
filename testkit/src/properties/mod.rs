//! Property tests of the code that reads text or numbers from a camera or a user: each a
//! generator that reaches the hard cases and an oracle beyond "does not panic". The test
//! suite runs them with fixed seeds (`tests/properties.rs`); `examples/benchmark
//! --properties` runs the scrubber's with fresh seeds and prints any failing seed.
//!
//! - [`scrubber`]: URLs built from parts (user-info holding `@ : / ? # ;` and multi-byte
//!   characters, ports 0–70000, path parameters, queries with `&` and `;`, fragments) and free
//!   text with secrets at every position: nothing printable ever holds a password or a secret
//!   parameter in any form a stream registers, and a second scrub changes nothing.
//! - [`lines`]: RTSP statuses and their error kinds; FFmpeg log lines of arbitrary bytes.
//! - [`numbers`]: time stamps, rates and picture sizes as cameras and decoders report them.
//!
//! The YUV conversion's properties (random planes against a scalar reference, damaged planes
//! that must be errors) are the core's own unit tests: they reach its private sink.

pub mod lines;
pub mod numbers;
pub mod scrubber;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

/// The seeds the test suite runs every property with: fixed, so a CI run is reproducible.
pub const CI_SEEDS: [u64; 3] = [0x5eed_0001, 0x5eed_0002, 0x5eed_0003];

/// Runs `test` on `cases` values of `strategy` drawn with `seed`. On failure: the seed, the
/// smallest failing value proptest found, and why — enough to replay it.
pub fn check<S>(
    name: &str,
    strategy: S,
    cases: u32,
    seed: u64,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> Result<(), String>
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, test) {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, value)) => Err(format!(
            "property {name} failed with seed {seed:#x}: {why}\n  minimal input: {value:?}"
        )),
        Err(TestError::Abort(why)) => Err(format!(
            "property {name} aborted with seed {seed:#x}: {why}"
        )),
    }
}

/// One value of `strategy` for `seed` (for examples and replays).
pub fn sample<S: Strategy>(strategy: &S, seed: u64) -> S::Value {
    let config = Config {
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    strategy
        .new_tree(&mut runner)
        .expect("a value can be drawn")
        .current()
}

/// `Err` with `message` unless `ok`, for oracles.
pub(crate) fn ensure(ok: bool, message: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if ok {
        Ok(())
    } else {
        Err(TestCaseError::fail(message()))
    }
}
