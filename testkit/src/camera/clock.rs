//! The camera's clock: when it captures each frame, what its sender reports say.
//!
//! The camera's wall clock runs at `1 + drift` times our rate and reads ours plus an offset
//! (plus a step, once it has happened); its media clock (frames and their time stamps) runs
//! at that rate times `1 + media drift`. Frame `p` is captured when the media clock has run
//! `p / fps` seconds: at our elapsed `e_p = p / fps / media rate`, at camera time
//! `start + offset + e_p × rate (+ step)`. A sender report at our elapsed `e` pairs the
//! camera's wall clock then with its media clock then: mapping a frame's time stamp through
//! it gives exactly that capture time when the media drift is zero, and one off by
//! `(e_p − e) × media drift` otherwise.

use super::Shared;
use crate::rtp::ntp_of;
use std::time::{Duration, Instant, SystemTime};

/// A camera's clock relative to ours.
#[derive(Debug, Clone, Default)]
pub struct CameraClock {
    /// The camera's wall clock minus ours, in milliseconds (positive: it is ahead).
    pub offset_ms: i64,
    /// How much faster the camera's clock runs, in parts per million.
    pub drift_ppm: f64,
    /// How much faster the camera's media clock (the encoder's, which paces the frames and
    /// stamps them) runs than its wall clock, in parts per million: a camera whose wall clock
    /// NTP keeps right while its encoder's oscillator runs free. Sender reports then map the
    /// stream's time stamps correctly only near the time they were sent.
    pub media_drift_ppm: f64,
    /// This long into the stream the camera's wall clock jumps by this many milliseconds (its
    /// media clock does not): an NTP correction on the camera.
    pub step: Option<(Duration, i64)>,
    /// Sender reports carry a zero NTP time (`Some(true)`) or one before 2000 (`Some(false)`):
    /// a camera whose clock was never set.
    pub bogus_ntp: Option<bool>,
}

/// The camera's wall clock against ours.
fn rate(shared: &Shared) -> f64 {
    1.0 + shared.scenario.clock.drift_ppm * 1e-6
}

/// The camera's media clock against ours.
fn media_rate(shared: &Shared) -> f64 {
    rate(shared) * (1.0 + shared.scenario.clock.media_drift_ppm * 1e-6)
}

fn shift(time: SystemTime, ms: i64) -> SystemTime {
    let by = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 { time + by } else { time - by }
}

/// Our elapsed time when frame `p` is captured.
pub(super) fn elapsed_of_frame(shared: &Shared, p: u64) -> Duration {
    Duration::from_secs_f64(p as f64 / f64::from(shared.clip.fps()) / media_rate(shared))
}

/// The camera's wall clock at our elapsed `e`.
pub(super) fn camera_wall(shared: &Shared, e: Duration) -> SystemTime {
    let clock = &shared.scenario.clock;
    let mut t = shift(shared.start.1, clock.offset_ms) + e.mul_f64(rate(shared));
    if let Some((at, ms)) = clock.step
        && e >= at
    {
        t = shift(t, ms);
    }
    t
}

pub(super) fn capture_time(shared: &Shared, p: u64) -> SystemTime {
    camera_wall(shared, elapsed_of_frame(shared, p))
}

/// When the AU at decoding position `n` is sent: when its picture is captured, plus the
/// pictures a B-frame encoder holds back.
pub(super) fn send_instant(shared: &Shared, n: u64) -> Instant {
    let held = match shared.scenario.content.codec {
        crate::content::ContentCodec::H264BFrames => 2,
        _ => 0,
    };
    shared.start.0 + elapsed_of_frame(shared, n + held)
}

/// The RTP time stamp (90 kHz) of the camera's media clock at our elapsed `e`, before jumps.
pub(super) fn media_ticks(shared: &Shared, e: Duration) -> u64 {
    (e.as_secs_f64() * media_rate(shared) * 90_000.0).round() as u64
}

/// The NTP time a sender report at our elapsed `e` carries.
pub(super) fn report_ntp(shared: &Shared, e: Duration) -> u64 {
    match shared.scenario.clock.bogus_ntp {
        Some(true) => 0,
        // 1996-01-01: a camera that booted without a clock.
        Some(false) => ntp_of(SystemTime::UNIX_EPOCH + Duration::from_secs(820_454_400)),
        None => ntp_of(camera_wall(shared, e)),
    }
}
