//! Backend-neutral options of a stream.

use crate::error::{Error, ErrorKind};
use crate::frame::PixelFormat;
use crate::transport::Transport;
use std::time::Duration;

/// Every option of a stream that is not specific to one backend. Set through
/// [`VideoStreamBuilder`](crate::VideoStreamBuilder); backends read it from
/// [`OpenRequest::options`](crate::raw::OpenRequest::options). Start from
/// `StreamOptions::default()` and set fields (new fields may come: it is `#[non_exhaustive]`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct StreamOptions {
    /// Wait before the first reconnection attempt after a drop or failure (default 1 s).
    pub reconnect_delay: Duration,
    /// Multiplier of the wait after each consecutive failure (default 1.0: constant).
    pub reconnect_backoff: f64,
    /// Cap on the wait (default 30 s).
    pub max_reconnect_delay: Duration,
    /// Fraction of the wait that is randomly taken off, 0.0–1.0 (default 0: none). With
    /// jitter `j` the wait lies in `[delay × (1 − j), delay]`, so the cap stays a cap.
    pub reconnect_jitter: f64,
    /// Seed of the jitter's random numbers (default `None`: taken from the clock at start).
    /// Streams given the same seed and options back off in step; a
    /// [`StreamGroup`](crate::StreamGroup) gives each camera its own.
    pub jitter_seed: Option<u64>,
    /// Wait on the stream's clock before the first attempt of each start (default 0). A
    /// [`StreamGroup`](crate::StreamGroup) staggers the starts of its cameras with it.
    pub start_delay: Duration,
    /// Consecutive failed attempts before giving up (default `None`: never).
    pub max_reconnect_attempts: Option<u32>,
    /// Deadline for opening the source (default 10 s).
    pub open_timeout: Duration,
    /// Deadline for the first frame after opening (default 10 s).
    pub first_frame_timeout: Duration,
    /// No new frame for this long means the feed dropped (default 5 s).
    pub stall_timeout: Duration,
    /// Bound on `stop()` and `Drop` (default 100 ms). A backend still blocked after it is left
    /// behind on a muted, detached thread.
    pub stop_timeout: Duration,
    /// How long a cancelled backend may take to return before its thread is detached
    /// (default 1 s). Cancellation-aware backends return within milliseconds.
    pub cancel_grace: Duration,
    /// Pixel format of delivered frames (default BGR8).
    pub pixel_format: PixelFormat,
    /// RTSP transport (default [`Transport::Auto`]).
    pub transport: Transport,
    /// Capture buffer size hint in frames, where the backend has one (OpenCV's
    /// `CAP_PROP_BUFFERSIZE`); `None` keeps the backend's default.
    pub buffer_size: Option<u32>,
    /// Frames the stream keeps for reuse (default 4: the slot's frame, the one being decoded,
    /// two held by the application), 2–64. The pool grows on demand up to this size; when
    /// every pooled frame is held, a publish allocates a frame outside the pool (freed when
    /// its last holder drops it) and counts it in
    /// [`Stats::frames_beyond_pool`](crate::Stats::frames_beyond_pool): frames are never
    /// dropped or delayed for lack of a buffer.
    pub frame_pool: usize,
    /// Allocate all [`frame_pool`](Self::frame_pool) frames as soon as the first frame's size
    /// is known, and again after a size change (default false: grow on demand). With an eager
    /// pool of n, a consumer that holds at most n − 2 frames at a time causes no allocation in
    /// the core's publish path.
    pub eager_frame_pool: bool,
    /// The largest picture accepted, in pixels (default 4096 × 2160). A larger one is a
    /// permanent error naming its size, refused before a decoder allocates for it where the
    /// decoder lets that be checked: a hostile or misconfigured camera cannot make the process
    /// hold gigabytes of frames.
    pub max_frame_pixels: u64,
    /// Open `rtsps://` (and, where the backend cannot verify it, `https://`) without checking
    /// the server's certificate (default false: such a source is refused by backends whose
    /// TLS layer cannot verify — FFmpeg 5.1's RTSP client, OpenCV — with an error that names
    /// GStreamer, which verifies). With it, the log says once per stream that the certificate
    /// was not checked.
    pub allow_unverified_tls: bool,
    /// A sender report that disagrees with the running mapping from time stamps to the
    /// camera's clock by more than this is a clock step (default 100 ms): the mapping restarts
    /// and [`Notice::ClockStep`](crate::Notice::ClockStep) says so.
    pub clock_step_threshold: Duration,
    /// How long the stream keeps its frames for a group's
    /// [`aligned`](crate::StreamGroup::aligned) reads (default zero: only the newest frame).
    /// 500 ms covers the network and decoding delays of cameras on one site. The frames are
    /// held, so the frame pool is enlarged by the frames that span holds at 30 fps (at most
    /// 64 in all): memory per camera grows by that many frames (a 1080p BGR frame is 6.2 MB;
    /// 500 ms at 15 fps holds 8).
    pub aligned_history: Duration,
    /// What the stream decodes of what its camera sends (default
    /// [`DecodeMode::All`](crate::DecodeMode::All)); switch it at run time with
    /// [`VideoStream::set_decode_mode`](crate::VideoStream::set_decode_mode). A mode the
    /// backend cannot run is the error `build()` returns.
    pub decode_mode: crate::DecodeMode,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            reconnect_delay: Duration::from_secs(1),
            reconnect_backoff: 1.0,
            max_reconnect_delay: Duration::from_secs(30),
            reconnect_jitter: 0.0,
            jitter_seed: None,
            start_delay: Duration::ZERO,
            max_reconnect_attempts: None,
            open_timeout: Duration::from_secs(10),
            first_frame_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(5),
            stop_timeout: Duration::from_millis(100),
            cancel_grace: Duration::from_secs(1),
            pixel_format: PixelFormat::Bgr8,
            transport: Transport::Auto,
            buffer_size: None,
            frame_pool: 4,
            eager_frame_pool: false,
            max_frame_pixels: 4096 * 2160,
            allow_unverified_tls: false,
            clock_step_threshold: Duration::from_millis(100),
            aligned_history: Duration::ZERO,
            decode_mode: crate::DecodeMode::All,
        }
    }
}

impl StreamOptions {
    /// The longest any duration option can be: a longer one, up to `Duration::MAX` (a way of
    /// saying "never"), is taken as this. A day without a connection or a frame means the
    /// camera is gone, and decoders take timeouts in 32-bit milliseconds (OpenCV: at most
    /// 24.8 days) or 64-bit microseconds (FFmpeg), which a longer value would overflow.
    pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

    /// The history a camera that asks for aligned reads keeps by default
    /// ([`VideoStreamBuilder::aligned`](crate::VideoStreamBuilder::aligned)): 500 ms covers the
    /// network and decoding delays of cameras on one site.
    pub const DEFAULT_ALIGNED_HISTORY: Duration = Duration::from_millis(500);

    /// The options with every duration capped at [`MAX_DURATION`](Self::MAX_DURATION).
    pub(crate) fn clamped(mut self) -> Self {
        for d in [
            &mut self.reconnect_delay,
            &mut self.max_reconnect_delay,
            &mut self.open_timeout,
            &mut self.first_frame_timeout,
            &mut self.stall_timeout,
            &mut self.stop_timeout,
            &mut self.cancel_grace,
            &mut self.start_delay,
            &mut self.clock_step_threshold,
            &mut self.aligned_history,
        ] {
            *d = (*d).min(Self::MAX_DURATION);
        }
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |what: String| Err(Error::core(ErrorKind::InvalidConfig, what));
        if !(self.reconnect_backoff.is_finite() && self.reconnect_backoff >= 1.0) {
            return bad(format!(
                "reconnect_backoff must be ≥ 1.0, got {}",
                self.reconnect_backoff
            ));
        }
        if !(0.0..=1.0).contains(&self.reconnect_jitter) {
            return bad(format!(
                "reconnect_jitter must be within 0.0–1.0, got {}",
                self.reconnect_jitter
            ));
        }
        if self.max_reconnect_delay < self.reconnect_delay {
            return bad("max_reconnect_delay is shorter than reconnect_delay".into());
        }
        if self.max_frame_pixels == 0 {
            return bad("max_frame_pixels must be at least 1".into());
        }
        if !(2..=64).contains(&self.frame_pool) {
            return bad(format!(
                "frame_pool must be within 2–64 (the slot's frame and the one being decoded \
                 take two), got {}",
                self.frame_pool
            ));
        }
        for (name, value) in [
            ("open_timeout", self.open_timeout),
            ("first_frame_timeout", self.first_frame_timeout),
            ("stall_timeout", self.stall_timeout),
            ("stop_timeout", self.stop_timeout),
        ] {
            if value.is_zero() {
                return bad(format!("{name} must be longer than zero"));
            }
        }
        Ok(())
    }
}
