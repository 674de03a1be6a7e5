//! GStreamer backend of `rtsp-stream`: `rtspsrc` for `rtsp://` and `rtsps://`, `uridecodebin`
//! for every other URI or file, or a pipeline of the application's own (for hardware decoders),
//! always ending in an `appsink` that keeps one buffer, drops older ones and is not synced to
//! the clock for live sources.
//!
//! Low-latency defaults, each for a measured reason:
//! - `rtspsrc latency=0`: the jitter buffer's default of 2000 ms is two seconds of delay on
//!   every frame. Over TCP (the default transport) packets cannot arrive out of order, so a
//!   jitter buffer only adds delay; over UDP on a lossy network raise
//!   [`GstreamerConfig::latency`] to let late packets be reordered.
//! - one decoding thread for `avdec_*` decoders: libav's frame threading holds every frame back
//!   by a frame interval per extra thread.
//! - `avdec_*` with `output-corrupt=false`: the first frame delivered is the first decodable
//!   one, never a grey picture concealed before the first key frame.
//!
//! Two things real cameras need that rtspsrc does not do by itself: over TCP it sends no
//! keep-alive while media flows, so the capture sends a `GET_PARAMETER` every
//! [`GstreamerConfig::keep_alive`]; and a camera that changes its SSRC gets a second pad from
//! rtspsrc, so every pad of the video stream feeds the decoder through a `funnel`.
//!
//! RTSP transport is TCP by default, with a fallback to UDP when the server answers
//! `461 Unsupported Transport`; credentials go through `user-id`/`user-pw`, never the URL.
//!
//! Every wait is bounded: frames are pulled with `try_pull_sample` in short slices that check
//! the stream's cancellation and deadlines, the bus is read without blocking, and `close`
//! sets the pipeline to NULL. No GLib main loop runs. `rtspsrc` never reports a data stall
//! (neither over TCP nor UDP), so stalls are noticed by the stream's own watchdog.
// Unsafe code here: the socket probe reads GStreamer's file descriptors.
#![allow(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod camera_clock;
mod capture;
mod debug_log;
mod error;
mod open;
mod pipeline;
#[cfg(target_os = "linux")]
mod sockets;
#[cfg(not(target_os = "linux"))]
mod sockets {
    //! Elsewhere an abandoned RTSP open is left to finish on its own (see the Linux module).
    #[derive(Debug)]
    pub(crate) struct OpenWatch;
    impl OpenWatch {
        pub(crate) fn start(_host: &str, _port: u16) -> Option<Self> {
            None
        }
        pub(crate) fn claim(&mut self) {}
        pub(crate) fn abandon(&self) -> bool {
            false
        }
    }
}

use std::time::Duration;

/// The GStreamer backend. See the crate docs.
#[derive(Debug, Clone, Copy)]
pub struct GstreamerBackend;

/// Settings specific to GStreamer. Everything backend-neutral (transport, deadlines, pixel
/// format, credentials) comes from the stream's options.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct GstreamerConfig {
    /// `rtspsrc` jitter-buffer latency (default 0: see the crate docs).
    pub latency: Duration,
    /// A pipeline of your own in `gst-launch-1.0` syntax, ending in an appsink named
    /// [`appsink_name`](Self::appsink_name), e.g.
    /// `"rtspsrc name=src ! rtph264depay ! h264parse ! vah264dec ! videoconvert ! appsink name=sink"`.
    /// The stream sets the appsink's caps (the requested pixel format), its one-buffer
    /// dropping queue and `sync=false`; put a `videoconvert` before it. An element named `src`
    /// gets the stream's source as its `location` (or `uri`) and the credentials as
    /// `user-id`/`user-pw` where it has those properties. `None` (default) builds the pipeline
    /// from the source.
    pub pipeline: Option<String>,
    /// Name of the appsink in a custom [`pipeline`](Self::pipeline) (default `"sink"`).
    pub appsink_name: String,
    /// Threads of `avdec_*` decoders (default 1: see the crate docs).
    pub decoder_threads: u32,
    /// Longest single wait for a frame before checking cancellation and the bus again
    /// (default 20 ms). It bounds how long a cancelled read takes to return.
    pub pull_slice: Duration,
    /// Deliver files at their own frame rate, like a live source (default true).
    pub pace_files: bool,
    /// Take the decoder's YUV picture out of the appsink and convert it with the core's SIMD
    /// conversion, straight into the frame's buffer (default true). `false`: `videoconvert`
    /// converts to the pixel format and the picture is copied into the buffer, which costs
    /// about twice the CPU per frame (BENCHMARKS.md).
    pub core_conversion: bool,
    /// How often an RTSP session over TCP is kept alive with a `GET_PARAMETER` request
    /// (default 1 s; `None`: never). rtspsrc sends keep-alives over TCP only while no media
    /// arrives, and does not tell the session timeout it was given, so a camera that counts
    /// only RTSP requests as liveness would expire a session that is playing; the request is
    /// small and sent on the connection that is already open. One at a time: the next waits
    /// for the previous one's answer (rtspsrc 1.22 aborts the process when they pile up on a
    /// busy machine).
    pub keep_alive: Option<Duration>,
}

impl Default for GstreamerConfig {
    fn default() -> Self {
        GstreamerConfig {
            latency: Duration::ZERO,
            pipeline: None,
            appsink_name: "sink".into(),
            decoder_threads: 1,
            pull_slice: Duration::from_millis(20),
            pace_files: true,
            core_conversion: true,
            keep_alive: Some(Duration::from_secs(1)),
        }
    }
}

const NAME: &str = "gstreamer";
