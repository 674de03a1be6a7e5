//! What the stream tells the application.

use crate::error::Error;
use crate::frame::StreamProps;
use crate::transport::Transport;
use std::sync::Arc;
use std::time::Duration;

/// Something a backend tells the application while a connection is up.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The server refused `from` (e.g. RTSP 461 for TCP) and the backend is using `to`.
    TransportFallback {
        /// The transport that was refused.
        from: Transport,
        /// The one in use now.
        to: Transport,
    },
    /// Messages from the decoding thread came faster than the stream's supervisor took them
    /// (a camera changing its picture size on every frame, a backend repeating a notice), and
    /// `merged` of them were merged into newer ones of the same kind: the events between them
    /// were not sent. State changes are never merged. Counted in
    /// [`Stats::messages_coalesced`](crate::Stats::messages_coalesced).
    Lagged {
        /// How many messages were merged since the last such notice.
        merged: u64,
    },
    /// A sender report disagreed with the running mapping from the stream's time stamps to
    /// the camera's clock by more than [`StreamOptions::clock_step_threshold`]: the camera's
    /// clock was set (NTP, a user, daylight saving on cameras that run local time), and
    /// [`Frame::camera_time`] follows the new clock from this report on.
    ///
    /// [`StreamOptions::clock_step_threshold`]: crate::StreamOptions::clock_step_threshold
    /// [`Frame::camera_time`]: crate::Frame::camera_time
    ClockStep {
        /// How far the camera's clock moved.
        by: Duration,
        /// Whether it moved back.
        backwards: bool,
    },
    /// The camera sends sender reports with a zero or pre-2000 NTP time (it has no clock):
    /// they are ignored, and frames carry no camera time until a usable one comes. Sent once
    /// per connection.
    SenderReportsIgnored,
    /// A [`DecodeMode`](crate::DecodeMode) asked for took effect, `waited` after it was
    /// asked for: at once for `KeyFrames`; for a switch to `All` (or `MaxRate`) after
    /// `KeyFrames`, at the next key frame, which the pictures after it need.
    DecodeModeApplied {
        /// The mode now in effect.
        mode: crate::DecodeMode,
        /// How long after the switch it took effect.
        waited: Duration,
    },
}

/// Why an announced connection (one that sent [`Event::Connected`]) dropped. The ends of the
/// stream itself are events of their own ([`Event::EndOfStream`], [`Event::Stopped`],
/// [`Event::GaveUp`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum DisconnectReason {
    /// No new frame for `stall_timeout` (or no first frame within `first_frame_timeout`).
    Stalled,
    /// The backend reported an error.
    Error(Arc<Error>),
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisconnectReason::Stalled => f.write_str("stalled"),
            DisconnectReason::Error(e) => write!(f, "{e}"),
        }
    }
}

/// A step of the stream's life, passed to the `on_event` callback on the stream's supervising
/// thread, in the order they happen.
///
/// Events compare equal when they say the same thing (errors by kind, backend and message).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An attempt to open the source begins. `attempt` counts consecutive attempts since the
    /// last connection that delivered a frame (1 for the first).
    Connecting {
        /// Consecutive attempt number, from 1.
        attempt: u32,
    },
    /// The source is open and its picture size known: at once when the backend knows the size
    /// on opening, else together with the first frame (just before
    /// [`FirstFrame`](Event::FirstFrame)). A connection that opens but never delivers a frame
    /// of a size unknown at opening is a failed attempt, without `Connected` or
    /// `Disconnected`.
    Connected {
        /// What the backend knows about the stream.
        props: StreamProps,
        /// The connection's generation: its number among the connections of this stream that
        /// opened (1 for the first), as its frames carry it.
        generation: u64,
    },
    /// The first frame of this connection arrived: the connection counts as successful and the
    /// back-off starts over.
    FirstFrame {
        /// Width of the frame.
        width: u32,
        /// Height of the frame.
        height: u32,
        /// Time from the start of the attempt to the frame.
        after: Duration,
    },
    /// No frame arrived for the stall deadline; the connection is being dropped.
    Stalled {
        /// How long the stream went without a frame.
        after: Duration,
    },
    /// An announced connection ([`Connected`](Event::Connected)) ended.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
    /// Waiting before the next attempt.
    BackingOff {
        /// Consecutive failed attempts so far (0 right after a drop of a working connection).
        failures: u32,
        /// How long the wait is.
        delay: Duration,
    },
    /// The stream stopped retrying (attempts exhausted or a permanent error) and is stopped.
    GaveUp {
        /// The last error.
        error: Arc<Error>,
    },
    /// The frame size changed within a connection or from one connection to the next.
    ResolutionChanged {
        /// The properties now.
        props: StreamProps,
    },
    /// A notice from the backend, e.g. an RTSP transport fallback.
    Notice(Notice),
    /// The source ended (end of a file); the stream is finished.
    EndOfStream,
    /// `stop()` was called; the last event of a run.
    Stopped,
}

impl Event {
    /// The event's snake-case name (`"connecting"`, `"first_frame"` …), as used in logs and
    /// JSON output.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Connecting { .. } => "connecting",
            Event::Connected { .. } => "connected",
            Event::FirstFrame { .. } => "first_frame",
            Event::Stalled { .. } => "stalled",
            Event::Disconnected { .. } => "disconnected",
            Event::BackingOff { .. } => "backing_off",
            Event::GaveUp { .. } => "gave_up",
            Event::ResolutionChanged { .. } => "resolution_changed",
            Event::Notice(Notice::TransportFallback { .. }) => "transport_fallback",
            Event::Notice(Notice::Lagged { .. }) => "lagged",
            Event::Notice(Notice::ClockStep { .. }) => "clock_step",
            Event::Notice(Notice::SenderReportsIgnored) => "sender_reports_ignored",
            Event::Notice(Notice::DecodeModeApplied { .. }) => "decode_mode_applied",
            Event::EndOfStream => "end_of_stream",
            Event::Stopped => "stopped",
        }
    }
}
