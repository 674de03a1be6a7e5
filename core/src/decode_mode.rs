//! What a stream decodes of what its camera sends ([`DecodeMode`]), and the rule every backend
//! asks before it decodes an access unit and before it converts a picture (the gate).

use crate::error::{Error, ErrorKind, Result};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What a stream decodes of what its camera sends: the cost of a camera follows what the
/// application reads of it. Set with
/// [`VideoStreamBuilder::decode_mode`](crate::VideoStreamBuilder::decode_mode), switched at
/// run time with [`VideoStream::set_decode_mode`](crate::VideoStream::set_decode_mode) (or a
/// group camera's [`StreamGroup::set_decode_mode`](crate::StreamGroup::set_decode_mode)).
///
/// A frame's sequence number counts the frames published, as in every mode; its PTS and
/// camera time are those of the picture decoded. Units left undecoded are counted in
/// [`Stats::units_skipped`](crate::Stats::units_skipped), pictures decoded but not converted
/// in [`Stats::frames_not_converted`](crate::Stats::frames_not_converted).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum DecodeMode {
    /// Every picture is decoded, converted and published.
    #[default]
    All,
    /// Only random-access units (key frames) reach the decoder: a camera with a 1 s key-frame
    /// interval costs one decode a second. Switching back to [`All`](Self::All) takes effect
    /// at the next key frame (the later pictures need it); a
    /// [`Notice::DecodeModeApplied`](crate::Notice::DecodeModeApplied) says when.
    KeyFrames,
    /// At most this many frames a second are converted and published. Pictures the codec lets
    /// a decoder drop without damaging later ones (H.264 non-reference pictures, such as the
    /// B-frames of most cameras) are not decoded when they would not be published; the others
    /// are decoded (later pictures need them) but not converted. Must be finite and above 0.
    MaxRate(f64),
}

impl DecodeMode {
    /// The mode, or an [`ErrorKind::InvalidArgument`] error for a rate that is not finite and
    /// above 0.
    pub fn checked(self) -> Result<DecodeMode> {
        match self {
            DecodeMode::MaxRate(rate) if !(rate.is_finite() && rate > 0.0) => Err(Error::new(
                ErrorKind::InvalidArgument,
                "core",
                format!("DecodeMode::MaxRate({rate}): the rate must be finite and above 0"),
            )),
            mode => Ok(mode),
        }
    }

    /// Lower-case name (`"all"`, `"key_frames"`, `"max_rate"`).
    pub fn name(self) -> &'static str {
        match self {
            DecodeMode::All => "all",
            DecodeMode::KeyFrames => "key_frames",
            DecodeMode::MaxRate(_) => "max_rate",
        }
    }
}

/// Which [`DecodeMode`]s a backend can run (part of its
/// [`Abilities`](crate::raw::Abilities)); [`DecodeMode::All`] always. A mode it cannot run is
/// an [`ErrorKind::Unsupported`] error from the setter, never ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeModes {
    /// [`DecodeMode::KeyFrames`]: it hands the decoder only random-access units.
    pub key_frames: bool,
    /// [`DecodeMode::MaxRate`]: it converts only the pictures the stream publishes.
    pub max_rate: bool,
}

impl DecodeModes {
    /// Every mode.
    pub const ALL: DecodeModes = DecodeModes {
        key_frames: true,
        max_rate: true,
    };
    /// [`DecodeMode::All`] only.
    pub const ALL_ONLY: DecodeModes = DecodeModes {
        key_frames: false,
        max_rate: false,
    };

    /// `mode` if the backend `backend` runs it; else the `Unsupported` error that says so (or
    /// `InvalidArgument` for a rate that is not finite and above 0).
    pub fn allow(self, mode: DecodeMode, backend: &'static str) -> Result<DecodeMode> {
        let mode = mode.checked()?;
        let runs = match mode {
            DecodeMode::All => true,
            DecodeMode::KeyFrames => self.key_frames,
            DecodeMode::MaxRate(_) => self.max_rate,
        };
        if runs {
            Ok(mode)
        } else {
            Err(Error::new(
                ErrorKind::Unsupported,
                backend,
                format!(
                    "{backend} cannot run DecodeMode::{mode:?}: its library decodes and \
                     converts every picture in one call"
                ),
            ))
        }
    }
}

/// A stream's mode, shared by its connections: each change gets a new revision, which a
/// connection's gate notices at its next unit.
#[derive(Debug, Default)]
pub(crate) struct ModeSetting {
    current: Mutex<(DecodeMode, u64, Option<Instant>)>,
}

impl ModeSetting {
    pub(crate) fn set(&self, mode: DecodeMode, now: Instant) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        *current = (mode, current.1 + 1, Some(now));
    }

    /// The mode, its revision and when it was set.
    pub(crate) fn get(&self) -> (DecodeMode, u64, Option<Instant>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection's side of the decode mode.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    revision: u64,
    /// A unit later pictures depend on was left undecoded: nothing but a key frame decodes.
    broken: bool,
    /// A change of mode not yet applied: when it was asked for.
    pending: Option<Instant>,
    /// [`DecodeMode::MaxRate`]: when the next picture may be published.
    due: Option<Instant>,
}

/// What the gate said of a unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct UnitDecision {
    pub(crate) decode: bool,
    /// The mode took effect with this unit, this long after it was asked for.
    pub(crate) applied: Option<Duration>,
}

impl Gate {
    /// A gate for a connection that starts under `revision` (no notice for it).
    pub(crate) fn new(revision: u64) -> Self {
        Gate {
            revision,
            ..Gate::default()
        }
    }

    /// Whether to decode a unit under the stream's setting (mode, revision, when asked) at
    /// `now`. `droppable` is asked only under `MaxRate`, of a unit that would not be
    /// published: reading a unit costs a pass over its bytes.
    pub(crate) fn unit(
        &mut self,
        (mode, revision, asked): (DecodeMode, u64, Option<Instant>),
        random_access: bool,
        droppable: impl FnOnce() -> bool,
        now: Instant,
    ) -> UnitDecision {
        if revision != self.revision {
            self.revision = revision;
            self.pending = Some(asked.unwrap_or(now));
            self.due = None;
        }
        let decode = match mode {
            DecodeMode::KeyFrames => random_access,
            _ if self.broken => random_access,
            DecodeMode::All => true,
            DecodeMode::MaxRate(rate) => self.is_due(rate, now) || !droppable(),
        };
        if random_access && decode {
            self.broken = false;
        }
        // What MaxRate leaves out is droppable; what KeyFrames leaves out, later pictures
        // may need.
        if !decode && mode == DecodeMode::KeyFrames {
            self.broken = true;
        }
        // KeyFrames applies at once; the others with the first unit they decode.
        let applied = (decode || mode == DecodeMode::KeyFrames)
            .then(|| self.pending.take())
            .flatten()
            .map(|asked| now.saturating_duration_since(asked));
        UnitDecision { decode, applied }
    }

    /// Whether to convert and publish a picture decoded at `now` (and, if so, counts it
    /// against the rate).
    pub(crate) fn picture(&mut self, mode: DecodeMode, now: Instant) -> bool {
        let DecodeMode::MaxRate(rate) = mode else {
            return true;
        };
        if !self.is_due(rate, now) {
            return false;
        }
        let interval = interval(rate);
        // The next slot one interval after this one's, this one never more than half an
        // interval in the past: a steady camera is decimated evenly, and a pause earns no
        // burst.
        let floor = now.checked_sub(interval / 2).unwrap_or(now);
        let base = self.due.map_or(now, |due| due.max(floor));
        self.due = base.checked_add(interval);
        true
    }

    /// Whether a picture at `now` would be published at `rate`: an eighth of the interval
    /// early counts, so that a camera's jitter does not make every other slot late.
    fn is_due(&self, rate: f64, now: Instant) -> bool {
        self.due.is_none_or(|due| {
            now.checked_add(interval(rate) / 8)
                .is_none_or(|early| early >= due)
        })
    }
}

fn interval(rate: f64) -> Duration {
    Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::from_secs(86_400))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn setting(mode: DecodeMode, revision: u64, at: Instant) -> (DecodeMode, u64, Option<Instant>) {
        (mode, revision, Some(at))
    }

    #[test]
    fn rates_must_be_finite_and_above_zero() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0] {
            let e = DecodeMode::MaxRate(rate).checked().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{rate}");
        }
        assert!(DecodeMode::MaxRate(1e-9).checked().is_ok());
        assert!(DecodeMode::MaxRate(1e9).checked().is_ok());
        let e = DecodeModes::ALL_ONLY
            .allow(DecodeMode::KeyFrames, "a-backend")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.message().contains("KeyFrames"), "{}", e.message());
        let e = DecodeModes::ALL_ONLY
            .allow(DecodeMode::MaxRate(f64::NAN), "a-backend")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            DecodeModes::ALL_ONLY
                .allow(DecodeMode::All, "a-backend")
                .is_ok()
        );
    }

    /// Whether a unit is droppable is never asked outside MaxRate (it costs a pass over the
    /// unit's bytes).
    fn not_asked() -> bool {
        panic!("a unit's droppability asked outside MaxRate")
    }

    /// A 15 fps stream with a key frame every 15 units: under KeyFrames only the key frames
    /// decode; back to All, nothing decodes until the next key frame, which applies the
    /// switch, and everything after it decodes.
    #[test]
    fn key_frames_then_all_waits_for_the_next_key_frame() {
        let t0 = Instant::now();
        let frame = Duration::from_nanos(66_666_667);
        let mut gate = Gate::new(0);
        let key_frames = setting(DecodeMode::KeyFrames, 1, t0);
        let mut decoded = Vec::new();
        for n in 0..45u32 {
            let d = gate.unit(key_frames, n % 15 == 0, not_asked, t0 + frame * n);
            if n == 0 {
                assert_eq!(d.applied, Some(Duration::ZERO));
            } else {
                assert_eq!(d.applied, None);
            }
            if d.decode {
                decoded.push(n);
            }
        }
        assert_eq!(decoded, [0, 15, 30]);
        let asked = t0 + frame * 50;
        let all = setting(DecodeMode::All, 2, asked);
        let mut applied = None;
        decoded.clear();
        for n in 51..80u32 {
            let d = gate.unit(all, n % 15 == 0, not_asked, t0 + frame * n);
            if d.decode {
                decoded.push(n);
            }
            applied = applied.or(d.applied);
        }
        assert_eq!(decoded, (60..80).collect::<Vec<_>>());
        assert_eq!(applied, Some(frame * 10));
    }

    /// Under MaxRate a droppable unit decodes only when its picture would be published; the
    /// others always do, and a skipped droppable unit breaks nothing.
    #[test]
    fn max_rate_skips_only_droppable_units() {
        let t0 = Instant::now();
        let frame = Duration::from_nanos(66_666_667);
        let mut gate = Gate::new(0);
        let rate = setting(DecodeMode::MaxRate(5.0), 1, t0);
        let (mut decoded, mut published) = (0, 0);
        for n in 0..150u32 {
            let now = t0 + frame * n;
            // I B B P B B P …: the B-frames droppable.
            let (key, droppable) = (n % 15 == 0, n % 3 != 0);
            let d = gate.unit(rate, key, || droppable, now);
            if !droppable {
                assert!(d.decode, "unit {n}: a reference unit is always decoded");
            }
            if d.decode {
                decoded += 1;
                if gate.picture(DecodeMode::MaxRate(5.0), now) {
                    published += 1;
                }
            }
        }
        // 10 s at 5 a second; the 50 reference units decode, a few B-frames do.
        assert!((48..=51).contains(&published), "{published}");
        assert!(decoded < 70, "{decoded} decoded");
    }

    proptest! {
        /// Over any run of pictures at any spacing, MaxRate publishes at most rate × span + 1
        /// in any span, and from a steady camera 1.5 times faster than the rate, at least 0.7
        /// of the rate.
        #[test]
        fn max_rate_publishes_at_most_the_rate(
            rate in 0.5f64..60.0,
            fps in 1.0f64..120.0,
            jitter in proptest::collection::vec(0.0f64..0.3, 200),
        ) {
            let t0 = Instant::now();
            let mut gate = Gate::new(0);
            let mut published = Vec::new();
            for (n, j) in jitter.iter().enumerate() {
                let at = t0 + Duration::from_secs_f64((n as f64 + j) / fps);
                if gate.picture(DecodeMode::MaxRate(rate), at) {
                    published.push(at);
                }
            }
            for (i, a) in published.iter().enumerate() {
                for (k, b) in published.iter().enumerate().skip(i) {
                    let span = b.duration_since(*a).as_secs_f64();
                    prop_assert!((k - i) as f64 <= rate * span + 1.0,
                        "{} pictures in {span} s at rate {rate}", k - i + 1);
                }
            }
            let seconds = 199.0 / fps;
            if fps > rate * 1.5 && seconds * rate >= 10.0 {
                let got = published.len() as f64 / seconds;
                prop_assert!(got >= 0.7 * rate, "{got} a second at rate {rate}, camera {fps} fps");
            }
        }
    }
}
