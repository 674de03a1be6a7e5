//! Observable state and counters.

use crate::error::Error;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where the stream is in its life.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, or stopped by `stop()`.
    Stopped,
    /// Opening the source.
    Connecting,
    /// Open; frames are (or are about to be) delivered.
    Streaming,
    /// The feed went silent; the connection is being dropped.
    Stalled,
    /// The connection ended; deciding what next.
    Disconnected,
    /// Waiting before the next attempt.
    BackingOff,
    /// Attempts exhausted or a permanent error: the stream is stopped and can be started again.
    GaveUp,
    /// The source ended (end of a file).
    Finished,
}

impl State {
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_u8(v: u8) -> State {
        Self::ALL[v as usize]
    }

    /// Every state, in the order of the enum.
    pub(crate) const ALL: [State; 8] = [
        State::Stopped,
        State::Connecting,
        State::Streaming,
        State::Stalled,
        State::Disconnected,
        State::BackingOff,
        State::GaveUp,
        State::Finished,
    ];

    /// Lower-case name (`"streaming"`, `"backing_off"` …).
    pub fn name(self) -> &'static str {
        match self {
            State::Stopped => "stopped",
            State::Connecting => "connecting",
            State::Streaming => "streaming",
            State::Stalled => "stalled",
            State::Disconnected => "disconnected",
            State::BackingOff => "backing_off",
            State::GaveUp => "gave_up",
            State::Finished => "finished",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A snapshot of the stream's counters, from [`VideoStream::stats`](crate::VideoStream::stats).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Stats {
    /// State at the time of the snapshot.
    pub state: State,
    /// Frames decoded and published since the stream was built.
    pub frames_decoded: u64,
    /// Sequence number of the newest published frame (0 before any).
    pub last_seq: u64,
    /// Published frames that were replaced (or cleared) before any `read*` call returned them.
    pub frames_overwritten_unread: u64,
    /// Frames allocated outside the frame pool because every pooled frame was held (see
    /// [`StreamOptions::frame_pool`](crate::StreamOptions::frame_pool)); none was dropped.
    pub frames_beyond_pool: u64,
    /// Frame rate measured over the recent frames: 0 before two frames, and again once no frame
    /// has come for max(2 s, 3 frame intervals) — an outage reads as 0, not as the last rate.
    pub measured_fps: f64,
    /// Frames the decoder reported it could not decode.
    pub decode_errors: u64,
    /// Frames not delivered because their data was incomplete: after a loss (a packet missing
    /// over UDP), until the next key frame.
    pub frames_skipped: u64,
    /// Access units the [`DecodeMode`](crate::DecodeMode) kept from the decoder (every unit
    /// but the key frames under `KeyFrames`; non-reference pictures over the rate under
    /// `MaxRate`; the units before the next key frame after a switch back to `All`).
    pub units_skipped: u64,
    /// Pictures decoded but neither converted nor published because they came over
    /// [`DecodeMode::MaxRate`](crate::DecodeMode::MaxRate)'s rate.
    pub frames_not_converted: u64,
    /// The decode mode in effect (as last set).
    pub decode_mode: crate::DecodeMode,
    /// Pictures the decoder gave, converted or not (with every picture published, equal to
    /// `frames_decoded` apart from pictures refused or damaged).
    pub pictures_decoded: u64,
    /// Pictures decoded a second, measured as `measured_fps` is.
    pub decoded_fps: f64,
    /// Time spent decoding, from each unit handed to the decoder to its picture, where the
    /// capture thread decodes (retina, FFmpeg, webcams; not GStreamer, whose decoder runs on
    /// threads of its own, nor OpenCV, whose `grab` decodes out of sight): zero elsewhere.
    pub decode_time: Duration,
    /// Time spent converting pictures into frames (and handing them over).
    pub convert_time: Duration,
    /// Reconnection attempts made (every attempt after the first of each run).
    pub reconnects: u64,
    /// The camera's clock against ours, in seconds: the median, over the newest frames with a
    /// [`camera_time`](crate::Frame::camera_time), of camera time − receive time. It includes
    /// the network and decoding delay (tens of milliseconds); seconds or more mean the
    /// camera's clock is wrong. `None` before a frame with a camera time.
    pub camera_clock_offset: Option<f64>,
    /// Frames the stream holds for aligned reads
    /// ([`aligned_history`](crate::VideoStreamBuilder::aligned_history)), and their pixel
    /// bytes: the memory alignment costs this camera.
    pub aligned_history: (usize, u64),
    /// Connections opened (generation of the newest).
    pub generation: u64,
    /// Panics of the backend on its capture thread: each ended its connection with an error
    /// carrying the (scrubbed) panic message, retried with back-off like any transient error.
    pub backend_panics: u64,
    /// Messages of the capture thread to the supervisor (picture-size changes, notices) merged
    /// into a newer one of the same kind because they came faster than the supervisor took
    /// them; state changes are never merged. Each merge also reaches the events as
    /// [`Notice::Lagged`](crate::Notice::Lagged).
    pub messages_coalesced: u64,
    /// The most recent error.
    pub last_error: Option<Arc<Error>>,
    /// When the most recent error happened (wall clock, per the stream's clock).
    pub last_error_at: Option<SystemTime>,
    /// Since when the stream has not been streaming (wall clock, per the stream's clock): the
    /// moment it left [`State::Streaming`], or started without reaching it; `None` while
    /// streaming and before the first `start()`.
    pub offline_since: Option<SystemTime>,
    /// Time since the newest frame was published (per the stream's clock).
    pub since_last_frame: Option<Duration>,
    /// Worker threads of this stream still alive, detached ones included.
    pub live_threads: usize,
    /// Threads left behind because a backend ignored cancellation, still alive.
    pub detached_threads: usize,
}
