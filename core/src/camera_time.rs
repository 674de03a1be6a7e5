//! Camera time: when the camera captured a picture, on the camera's own clock, from the RTCP
//! sender reports that pair an NTP wall-clock time with an RTP time stamp.
//!
//! A sender report says "RTP time stamp `r` is NTP time `t`"; a picture stamped `p` was then
//! captured at `t + (p − r) / clock rate`. The distance `p − r` is read as a signed 32-bit
//! difference, so the RTP time stamp's wrap-around (every 13 h at 90 kHz) needs no special
//! case, and a picture may lie before or after the report it is mapped with. Each report
//! becomes the new anchor (a camera clock that drifts is followed); one that disagrees with
//! the running mapping by more than a threshold is a clock step.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// When the camera captured a frame, on the camera's clock ([`Frame::camera_time`]).
///
/// [`Frame::camera_time`]: crate::Frame::camera_time
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraTime {
    /// The capture instant on the camera's wall clock.
    pub at: SystemTime,
    /// How the mapping from the stream's time stamps to the camera's clock was obtained.
    pub source: CameraTimeSource,
    /// How old the sender report the mapping comes from was when the frame was mapped.
    pub mapping_age: Duration,
}

/// How a [`CameraTime`] was obtained.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CameraTimeSource {
    /// Every sender report is followed: drift and steps of the camera's clock are tracked.
    SenderReports,
    /// Only the first sender report of the session is known (FFmpeg's
    /// `start_time_realtime`): the camera clock's drift after it is not followed.
    FirstSenderReport,
}

impl CameraTimeSource {
    /// A short name (`"sender_reports"`, `"first_sender_report"`), for logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            CameraTimeSource::SenderReports => "sender_reports",
            CameraTimeSource::FirstSenderReport => "first_sender_report",
        }
    }
}

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_TO_UNIX: u64 = 2_208_988_800;
/// 2000-01-01 as seconds since the Unix epoch: a report before it comes from a camera
/// that booted without a clock.
const YEAR_2000: u64 = 946_684_800;

/// The instant a 64-bit NTP time stamp (32.32 fixed point, seconds since 1900) stands for,
/// or `None` for zero and anything before 2000. NTP seconds wrap in February 2036; a value
/// below 2^31 is read as the era after the wrap (RFC 4330, section 3).
pub fn ntp_to_system_time(ntp: u64) -> Option<SystemTime> {
    if ntp == 0 {
        return None;
    }
    let seconds = ntp >> 32;
    let fraction = ntp & 0xffff_ffff;
    let since_1900 = if seconds < 1 << 31 {
        seconds + (1 << 32)
    } else {
        seconds
    };
    let unix = since_1900.checked_sub(NTP_TO_UNIX)?;
    if unix < YEAR_2000 {
        return None;
    }
    let nanos = (fraction * 1_000_000_000) >> 32;
    Some(UNIX_EPOCH + Duration::from_secs(unix) + Duration::from_nanos(nanos))
}

/// What a sender report did to the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderReportOutcome {
    /// It started or continued the mapping.
    Followed,
    /// It disagreed with the running mapping by `by` (later on the camera's clock if
    /// `backwards` is false): the mapping restarted from it.
    Step {
        /// How far the camera's clock moved.
        by: Duration,
        /// Whether it moved back.
        backwards: bool,
    },
    /// Its NTP time is zero or before 2000: ignored. `first` is true the first time in this
    /// clock's life, when a notice is due.
    Ignored {
        /// The first ignored report.
        first: bool,
    },
}

/// The mapping from one stream's RTP time stamps to its camera's clock, fed with its sender
/// reports (for backends; see the module docs).
#[derive(Debug, Clone)]
pub struct SenderReportClock {
    clock_rate: u32,
    step_threshold: Duration,
    source: CameraTimeSource,
    anchor: Option<Anchor>,
    ignored: bool,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    rtp: u32,
    at: SystemTime,
    received: Instant,
}

impl SenderReportClock {
    /// A clock for a stream whose RTP time stamps tick `clock_rate` times a second (90 000 for
    /// video), that calls a report off the running mapping by more than `step_threshold` a
    /// step. A clock rate of 0 maps nothing.
    pub fn new(clock_rate: u32, step_threshold: Duration, source: CameraTimeSource) -> Self {
        SenderReportClock {
            clock_rate,
            step_threshold,
            source,
            anchor: None,
            ignored: false,
        }
    }

    /// Takes a sender report pairing RTP time stamp `rtp` with NTP time `ntp`, received at
    /// `now`.
    pub fn sender_report(&mut self, ntp: u64, rtp: u32, now: Instant) -> SenderReportOutcome {
        let Some(at) = ntp_to_system_time(ntp) else {
            let first = !self.ignored;
            self.ignored = true;
            return SenderReportOutcome::Ignored { first };
        };
        let expected = self.anchor.and_then(|a| self.map(a, rtp));
        self.anchor = Some(Anchor {
            rtp,
            at,
            received: now,
        });
        let Some(expected) = expected else {
            return SenderReportOutcome::Followed;
        };
        let (by, backwards) = match at.duration_since(expected) {
            Ok(later) => (later, false),
            Err(e) => (e.duration(), true),
        };
        if by > self.step_threshold {
            SenderReportOutcome::Step { by, backwards }
        } else {
            SenderReportOutcome::Followed
        }
    }

    /// The camera time of a picture stamped `rtp`, mapped at `now`; `None` before the first
    /// usable sender report.
    pub fn camera_time(&self, rtp: u32, now: Instant) -> Option<CameraTime> {
        let anchor = self.anchor?;
        Some(CameraTime {
            at: self.map(anchor, rtp)?,
            source: self.source,
            mapping_age: now.saturating_duration_since(anchor.received),
        })
    }

    fn map(&self, anchor: Anchor, rtp: u32) -> Option<SystemTime> {
        if self.clock_rate == 0 {
            return None;
        }
        let ticks = i64::from(rtp.wrapping_sub(anchor.rtp) as i32);
        let nanos = ticks.unsigned_abs() as u128 * 1_000_000_000 / u128::from(self.clock_rate);
        let offset = Duration::from_nanos(nanos as u64);
        if ticks >= 0 {
            anchor.at.checked_add(offset)
        } else {
            anchor.at.checked_sub(offset)
        }
    }
}

/// The NTP time stamp of `t` (for tests and test servers).
pub fn system_time_to_ntp(t: SystemTime) -> u64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = (since.as_secs() + NTP_TO_UNIX) & 0xffff_ffff;
    let fraction = (u128::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (seconds << 32) | fraction as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STEP: Duration = Duration::from_millis(100);

    fn unix(seconds: f64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs_f64(seconds)
    }

    fn apart(a: SystemTime, b: SystemTime) -> Duration {
        a.duration_since(b).unwrap_or_else(|e| e.duration())
    }

    #[test]
    fn zero_and_pre_2000_reports_are_ignored_once_noticed() {
        let mut clock = SenderReportClock::new(90_000, STEP, CameraTimeSource::SenderReports);
        let now = Instant::now();
        assert_eq!(
            clock.sender_report(0, 1, now),
            SenderReportOutcome::Ignored { first: true }
        );
        let y1996 = system_time_to_ntp(unix(820_454_400.0));
        assert_eq!(
            clock.sender_report(y1996, 1, now),
            SenderReportOutcome::Ignored { first: false }
        );
        assert_eq!(clock.camera_time(1, now), None);
    }

    #[test]
    fn ntp_after_the_2036_wrap_is_read_in_the_next_era() {
        // 2040-01-01 is past the NTP seconds' wrap (2036-02-07).
        let t = unix(2_208_988_800.0);
        assert_eq!(ntp_to_system_time(system_time_to_ntp(t)), Some(t));
    }

    proptest! {
        /// Any instant from 2000 to 2100 survives the round trip through NTP within a
        /// nanosecond.
        #[test]
        fn ntp_round_trips(seconds in 946_684_800.0f64..4_102_444_800.0) {
            let t = unix(seconds);
            let back = ntp_to_system_time(system_time_to_ntp(t)).expect("after 2000");
            prop_assert!(apart(back, t) <= Duration::from_nanos(1));
        }

        /// A picture within ±2^31 ticks of the report maps to the report's time plus its
        /// distance, across the time stamps' wrap-around, at any clock rate.
        #[test]
        fn pictures_map_across_the_wrap(
            anchor in any::<u32>(),
            distance in -(1i64 << 31) + 1..(1i64 << 31),
            rate in prop_oneof![Just(90_000u32), Just(8_000), Just(48_000), 1_000u32..200_000],
            seconds in 1_000_000_000.0f64..3_000_000_000.0,
        ) {
            let mut clock = SenderReportClock::new(rate, STEP, CameraTimeSource::SenderReports);
            let now = Instant::now();
            let at = unix(seconds);
            prop_assert_eq!(
                clock.sender_report(system_time_to_ntp(at), anchor, now),
                SenderReportOutcome::Followed
            );
            let picture = anchor.wrapping_add(distance as u32);
            let mapped = clock.camera_time(picture, now).expect("mapped").at;
            let expected = distance as f64 / f64::from(rate);
            let got = if mapped >= at {
                apart(mapped, at).as_secs_f64()
            } else {
                -apart(mapped, at).as_secs_f64()
            };
            prop_assert!((got - expected).abs() < 2e-6, "{} vs {}", got, expected);
        }

        /// Reports from a clock that drifts (up to 1000 ppm) are followed without a step;
        /// a jump beyond the threshold is a step of that size, either way.
        #[test]
        fn drift_is_followed_and_jumps_are_steps(
            anchor in any::<u32>(),
            ppm in -1000.0f64..1000.0,
            jump_ms in prop_oneof![-100_000i64..-150, 150i64..100_000],
        ) {
            let mut clock = SenderReportClock::new(90_000, STEP, CameraTimeSource::SenderReports);
            let now = Instant::now();
            let start = unix(1_800_000_000.0);
            // Reports every 5 s of RTP time; the camera's clock runs `ppm` fast.
            for k in 0..20u32 {
                let rtp = anchor.wrapping_add(k * 450_000);
                let wall = start + Duration::from_secs_f64(f64::from(k) * 5.0 * (1.0 + ppm / 1e6));
                prop_assert_eq!(
                    clock.sender_report(system_time_to_ntp(wall), rtp, now),
                    SenderReportOutcome::Followed
                );
            }
            let rtp = anchor.wrapping_add(20 * 450_000);
            let wall = start + Duration::from_secs_f64(100.0 * (1.0 + ppm / 1e6));
            let jumped = if jump_ms > 0 {
                wall + Duration::from_millis(jump_ms as u64)
            } else {
                wall - Duration::from_millis(jump_ms.unsigned_abs())
            };
            match clock.sender_report(system_time_to_ntp(jumped), rtp, now) {
                SenderReportOutcome::Step { by, backwards } => {
                    prop_assert_eq!(backwards, jump_ms < 0);
                    let error = by.as_secs_f64() * 1000.0 - jump_ms.unsigned_abs() as f64;
                    // The drift over the last 5 s is part of what the step measured.
                    prop_assert!(error.abs() < 6.0, "by {:?} for {} ms", by, jump_ms);
                }
                other => prop_assert!(false, "{:?} for a jump of {} ms", other, jump_ms),
            }
            // The mapping restarted from the report after the step.
            let mapped = clock.camera_time(rtp, now).expect("mapped").at;
            prop_assert!(apart(mapped, jumped) < Duration::from_micros(1));
        }
    }
}
