//! Numbers a camera, a decoder or a user supplies: time stamps, rates, picture sizes and the
//! options of a stream.
//!
//! Generators: any `i64` tick count and time base (zero, negative and extreme values
//! included); any `f64` second count (NaN, infinities, subnormals, huge values); any frame
//! rate ratio; durations up to `Duration::MAX`, back-off factors and jitter of any `f64`.
//!
//! Oracles: a time stamp is `None` or the exact value (computed here in 128-bit arithmetic
//! apart from the code); a rate is `None` or within 1–120; a stream builds or fails with
//! `InvalidConfig`, and its reconnect waits never exceed the cap — never a panic.

use super::ensure;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rtsp_stream_core::raw::{fps_of_ratio, pts_of_seconds, pts_of_ticks};
use rtsp_stream_core::{ErrorKind, MockBackend, MockConfig, MockScript, VideoStream};
use std::time::Duration;

/// Ticks and a time base, extreme values made likely.
pub fn ticks() -> impl Strategy<Value = (i64, i64, i64)> {
    let edge = || {
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(i64::MAX),
            Just(i64::MIN),
            Just(90_000),
            any::<i64>(),
            -1_000_000i64..1_000_000,
        ]
    };
    (edge(), edge(), edge())
}

/// The oracle for a time stamp of ticks.
pub fn check_ticks(ticks: i64, num: i64, den: i64) -> Result<(), TestCaseError> {
    let got = pts_of_ticks(ticks, num, den);
    let exact = (den != 0)
        .then(|| {
            i128::from(ticks)
                .checked_mul(i128::from(num))?
                .checked_mul(1_000_000_000)
                .map(|n| n / i128::from(den))
        })
        .flatten()
        .and_then(|n| u64::try_from(n).ok())
        .map(Duration::from_nanos);
    ensure(got == exact, || {
        format!("{ticks} × {num}/{den}: {got:?}, not {exact:?}")
    })
}

/// The oracle for seconds as a float.
pub fn check_seconds(seconds: f64) -> Result<(), TestCaseError> {
    let got = pts_of_seconds(seconds);
    match got {
        Some(d) => ensure(
            seconds.is_finite()
                && seconds >= 0.0
                && (d.as_secs_f64() - seconds).abs() <= seconds * 1e-12 + 1e-9,
            || format!("{seconds} became {d:?}"),
        ),
        None => ensure(
            !seconds.is_finite() || !(0.0..=1.8e19).contains(&seconds),
            || format!("{seconds} was refused"),
        ),
    }
}

/// The oracle for a frame rate ratio.
pub fn check_ratio(num: i64, den: i64) -> Result<(), TestCaseError> {
    let got = fps_of_ratio(num, den);
    ensure(got.is_none_or(|f| (1.0..=120.0).contains(&f)), || {
        format!("{num}/{den} gave {got:?}")
    })
}

/// Options as a user may pass them.
pub fn options() -> impl Strategy<Value = (Duration, Duration, f64, f64, Duration, u64)> {
    let duration = || {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            (0u64..100_000).prop_map(Duration::from_millis),
            any::<u64>().prop_map(Duration::from_secs),
        ]
    };
    let float = || {
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-1.0),
            Just(0.0),
            Just(1.0),
            any::<f64>(),
            0.0f64..4.0,
        ]
    };
    (
        duration(),
        duration(),
        float(),
        float(),
        duration(),
        any::<u64>(),
    )
}

/// The oracle for options: the stream builds or fails with `InvalidConfig`; the waits its
/// policy gives never exceed its cap.
pub fn check_options(
    (delay, cap, backoff, jitter, stall, frame_pixels): (
        Duration,
        Duration,
        f64,
        f64,
        Duration,
        u64,
    ),
) -> Result<(), TestCaseError> {
    let built =
        VideoStream::<MockBackend>::builder_with("mock://x", MockConfig::new(MockScript::new()))
            .reconnect_delay(delay)
            .max_reconnect_delay(cap)
            .reconnect_backoff(backoff)
            .reconnect_jitter(jitter)
            .stall_timeout(stall)
            .max_frame_pixels(frame_pixels)
            .build();
    match built {
        Ok(stream) => {
            let policy = stream.options().reconnect_policy();
            for step in [0, 1, 7, 63, 1000, u32::MAX] {
                for unit in [0.0, 0.5, 0.999] {
                    let wait = policy.delay_after(step, unit);
                    ensure(wait <= policy.max_delay, || {
                        format!("{policy:?}: step {step} waits {wait:?}")
                    })?;
                }
            }
            Ok(())
        }
        Err(e) => ensure(e.kind() == ErrorKind::InvalidConfig, || format!("{e}")),
    }
}
