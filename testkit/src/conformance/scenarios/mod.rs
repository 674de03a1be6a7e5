//! The scenarios, by theme. Each panics with a message saying what did not hold.

pub mod camera_time;
pub mod decode_modes;
mod faults;
mod files;
mod group;
mod hostile;
mod hostile_input;
mod pictures;
mod refusals;
pub mod world;

pub use faults::*;
pub use files::*;
pub use group::*;
pub use hostile::*;
pub use hostile_input::*;
pub use pictures::*;
pub use refusals::*;

use super::helpers::{EventRecorder, serial};
use crate::{PATTERN_COLOURS, ServerOptions, TestServer};
use rtsp_stream_core::{
    CaptureBackend, Error, Frame, PixelFormat, VideoStream, VideoStreamBuilder,
};
use std::net::SocketAddr;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

/// The stop bound the tests assert (the goal is 100 ms; the machine is shared and noisy).
pub const STOP_BOUND: Duration = Duration::from_millis(500);
/// Stall deadline used by the suite.
pub const STALL: Duration = Duration::from_secs(2);
pub(crate) const FIRST_FRAME: Duration = Duration::from_secs(5);
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);
/// Attempts allowed where a backend cannot tell a permanent failure from a transient one.
pub const BLIND_ATTEMPTS: u32 = 3;

/// What a backend can find out, as it declares it ([`CaptureBackend::describe`]): a scenario
/// asserts the exact behaviour where the backend has the ability, and the best available one
/// where it does not.
pub use rtsp_stream_core::raw::{Abilities, TlsRule};

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

/// What most scenarios start with: the suite's lock (network scenarios run one at a time), a
/// test server with the default options and an event recorder for the stream under test.
pub(crate) struct Stage {
    _serial: MutexGuard<'static, ()>,
    pub(crate) server: TestServer,
    pub(crate) events: EventRecorder,
}

impl Stage {
    pub(crate) fn new() -> Stage {
        let serial = serial();
        Stage {
            _serial: serial,
            server: server(ServerOptions::default()),
            events: EventRecorder::new(),
        }
    }

    /// A stream of the server (through `port` when given: a proxy's), built by [`builder`].
    pub(crate) fn builder<B: CaptureBackend>(
        &self,
        config: &B::Config,
        port: Option<u16>,
    ) -> VideoStreamBuilder<B> {
        let url = match port {
            Some(port) => self.server.url_via(port),
            None => self.server.url(),
        };
        builder::<B>(&url, config, &self.events)
    }
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
