//! The scenarios, by theme. Each panics with a message saying what did not hold.

mod faults;
mod files;
mod group;
mod hostile;
mod pictures;
mod refusals;

pub use faults::*;
pub use files::*;
pub use group::*;
pub use hostile::*;
pub use pictures::*;
pub use refusals::*;

use super::helpers::EventRecorder;
use crate::{PATTERN_COLOURS, ServerOptions, TestServer};
use rtsp_stream_core::{
    CaptureBackend, Error, Frame, PixelFormat, VideoStream, VideoStreamBuilder,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The stop bound the tests assert (the goal is 100 ms; the machine is shared and noisy).
pub const STOP_BOUND: Duration = Duration::from_millis(500);
/// Stall deadline used by the suite.
pub const STALL: Duration = Duration::from_secs(2);
pub(crate) const FIRST_FRAME: Duration = Duration::from_secs(5);
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);
/// Attempts allowed where a backend cannot tell a permanent failure from a transient one.
pub const BLIND_ATTEMPTS: u32 = 3;

/// What a backend can find out, for the few scenarios where a decoder library hides it. A
/// scenario asserts the exact behaviour where the backend can, and the best available one
/// where it cannot; each field says what that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abilities {
    /// Tells a wrong password (RTSP 401) from other failures, as [`ErrorKind::Authentication`].
    /// Without it: the stream fails its attempts with a transient error and gives up after
    /// `max_reconnect_attempts`, and the password still appears nowhere.
    pub reports_authentication: bool,
    /// Tells the RTSP status of a refused request from other failures: an unknown path
    /// (404) as [`ErrorKind::NotFound`], a bad request (400) and a session description with
    /// no picture as permanent errors. Without it: the stream gives up after
    /// `max_reconnect_attempts` with a clear message.
    pub reports_rtsp_status: bool,
    /// Falls back from TCP to UDP by itself with a [`Notice::TransportFallback`] event, and
    /// refuses UDP when TCP is chosen explicitly ([`ErrorKind::TransportRefused`]). Without it:
    /// frames still arrive from a UDP-only server with the default transport (the library
    /// falls back silently), and an explicit transport is refused as a permanent error.
    pub reports_transport_fallback: bool,
    /// Opens several sources at once. Without it (a process-wide lock around opening), a
    /// blackholed camera delays the others' first frame by up to its open timeout; once open
    /// they must still keep their frame rate.
    pub opens_concurrently: bool,
    /// Frames carry the stream's presentation time stamps, growing from frame to frame.
    /// Without it: frames may have none.
    pub time_stamps: bool,
    /// Plays files. Without it: a file is a permanent error (unsupported or invalid source)
    /// on the first attempt.
    pub reads_files: bool,
    /// Decodes H.265 and MJPEG besides H.264. Without it: such a stream is a permanent
    /// `Unsupported` error that names the codec, on the first attempt.
    pub other_codecs: bool,
    /// Converts with the colour matrix the stream declares (BT.709 at 1080p here). Without
    /// it: only BT.601 streams are checked.
    pub follows_colour_matrix: bool,
    /// How far (in levels) the colours of the pattern may land from the truth: 3 for the core's
    /// conversion and swscale.
    pub colour_tolerance: u8,
}

impl Abilities {
    /// Everything: what the FFmpeg and GStreamer backends do.
    pub const ALL: Abilities = Abilities {
        reports_authentication: true,
        reports_rtsp_status: true,
        reports_transport_fallback: true,
        opens_concurrently: true,
        time_stamps: true,
        reads_files: true,
        other_codecs: true,
        follows_colour_matrix: true,
        colour_tolerance: 3,
    };
}

impl Default for Abilities {
    fn default() -> Self {
        Abilities::ALL
    }
}

/// A builder with the suite's deadlines (open and first frame 5 s, stall [`STALL`]) and a
/// short back-off (200 ms × 1.5ⁿ up to 1 s), reporting its events to `events`: for a backend's
/// own tests beside the suite.
pub fn builder<B: CaptureBackend>(
    url: &str,
    config: &B::Config,
    events: &EventRecorder,
) -> VideoStreamBuilder<B> {
    VideoStream::<B>::builder_with(url, config.clone())
        .open_timeout(Duration::from_secs(5))
        .first_frame_timeout(Duration::from_secs(5))
        .stall_timeout(STALL)
        .reconnect_delay(Duration::from_millis(200))
        .reconnect_backoff(1.5)
        .max_reconnect_delay(Duration::from_secs(1))
        .on_event(events.handler())
}

/// A stream of `url` built by [`builder`] and started (panics if it does not start).
pub fn start<B: CaptureBackend>(
    url: &str,
    config: &B::Config,
    events: &EventRecorder,
) -> VideoStream<B> {
    builder::<B>(url, config, events)
        .start()
        .expect("the stream starts")
}

/// Starts a stream of `url` built by [`builder`] with at most [`BLIND_ATTEMPTS`] attempts,
/// waits until it gives up (within [`PATIENCE`]) and returns its error with the events it
/// reported.
pub fn give_up<B: CaptureBackend>(url: &str, config: &B::Config) -> (Arc<Error>, EventRecorder) {
    let events = EventRecorder::new();
    let stream = builder::<B>(url, config, &events)
        .max_reconnect_attempts(BLIND_ATTEMPTS)
        .start()
        .expect("the stream starts");
    let error = events.gave_up(PATIENCE);
    stream.stop();
    (error, events)
}

/// The first frame of `stream`, within [`PATIENCE`]; panics with the events so far if none.
pub fn first_frame<B: CaptureBackend>(
    stream: &VideoStream<B>,
    events: &EventRecorder,
) -> Arc<Frame> {
    stream
        .wait_next(0, PATIENCE)
        .unwrap_or_else(|e| panic!("{e}: no frame; events {:?}", events.names()))
}

/// For a backend's own network tests: the suite's lock (one network scenario at a time) and
/// a test server with the default options.
pub fn default_server() -> (std::sync::MutexGuard<'static, ()>, TestServer) {
    let serial = super::helpers::serial();
    (serial, server(ServerOptions::default()))
}

pub(crate) fn server(options: ServerOptions) -> TestServer {
    TestServer::start(options).expect("the test server starts")
}

pub(crate) fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn close(a: u8, b: u8) -> bool {
    (a as i32 - b as i32).abs() <= 12
}

/// Asserts the three colour bars of the test picture within ±12 per channel (or in luma).
pub fn assert_pattern_colours(frame: &Frame) {
    let (w, h) = (frame.width(), frame.height());
    for (i, rgb) in PATTERN_COLOURS.iter().enumerate() {
        let x = w * (2 * i as u32 + 1) / 6;
        let px = frame.pixel(x, h / 4);
        let ok = match frame.pixel_format() {
            PixelFormat::Bgr8 => {
                close(px[0], rgb[2]) && close(px[1], rgb[1]) && close(px[2], rgb[0])
            }
            PixelFormat::Rgb8 => {
                close(px[0], rgb[0]) && close(px[1], rgb[1]) && close(px[2], rgb[2])
            }
            _ => {
                let luma = 0.299 * rgb[0] as f64 + 0.587 * rgb[1] as f64 + 0.114 * rgb[2] as f64;
                close(px[0], luma.round() as u8)
            }
        };
        assert!(
            ok,
            "bar {i} at ({x}, {}) in {}: got {px:?}, want RGB {rgb:?} (±12)",
            h / 4,
            frame.pixel_format()
        );
    }
}

/// Waits for the first frame of a connection newer than `after`'s, panicking with the events
/// so far if none comes within [`PATIENCE`].
pub(crate) fn next_connection_frame<B: CaptureBackend>(
    stream: &VideoStream<B>,
    after: &Frame,
    events: &EventRecorder,
    what: &str,
) -> Arc<Frame> {
    let mut seq = after.seq();
    loop {
        let frame = stream
            .wait_next(seq, PATIENCE)
            .unwrap_or_else(|e| panic!("{e}: no frame after {what}; events {:?}", events.names()));
        if frame.generation() > after.generation() {
            return frame;
        }
        seq = frame.seq();
    }
}
