//! Test tools for `rtsp-stream` and for applications built on it.
//!
//! - [`TestServer`]: a real RTSP server on 127.0.0.1 (GStreamer's gst-rtsp-server) serving a
//!   generated picture of known colours with the wall-clock time of each frame drawn into it,
//!   so tests can check pixels and measure latency from decoded frames.
//! - [`camera`]: a scriptable RTSP camera serving pre-encoded, camera-like [`content`] over
//!   TCP and UDP, its RTP, RTCP and RTSP behaviour and its network impairments set by a
//!   scenario, with the ground truth of what it sent.
//! - [`FaultProxy`]: a TCP proxy on loopback that can pass, blackhole, cut, refuse or delay.
//! - [`HostilePeer`]: RTSP peers that misbehave on purpose (slow answers, huge headers, error
//!   statuses, unusable session descriptions).
//! - [`hostile_camera`]: a seeded generator of random well-framed and malformed camera
//!   answers, and the runs of a backend against it in a child process.
//! - [`conformance`]: the scenarios every network backend passes, generic over
//!   [`CaptureBackend`](rtsp_stream_core::CaptureBackend).
//! - [`clip`]: short video files for tests of file sources.
//! - [`process`]: thread, file-descriptor, memory and CPU figures of a process (Linux).
//! - [`properties`]: generators and oracles of the property tests of camera and user input.
// Unsafe code here: the process probes (setrlimit, sysconf) call libc.
#![allow(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// For the conformance macros, which name the core's items from the calling crate.
#[doc(hidden)]
pub use rtsp_stream_core;

pub mod camera;
mod child;
pub mod clip;
pub mod conformance;
pub mod content;
pub mod demo;
mod hostile;
pub mod hostile_camera;
mod pattern;
pub mod process;
pub mod properties;
mod proxy;
mod rng;
pub mod rtp;
mod server;

pub use hostile::{HostilePeer, HostilePeerProcess, Hostility};
pub use pattern::{
    PATTERN_COLOURS, decode_stamp, decode_stamp_packed, stamp_age, stamp_micros_now,
};
pub use proxy::{FaultProxy, ProxyMode};
pub use server::{Codec, Colorimetry, H264Profile, ServerOptions, TestServer, TestServerProcess};

/// Errors of the test tools (setting up servers and proxies).
#[derive(Debug)]
pub struct TestkitError(pub String);

impl std::fmt::Display for TestkitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestkitError {}

impl From<std::io::Error> for TestkitError {
    fn from(e: std::io::Error) -> Self {
        TestkitError(e.to_string())
    }
}

impl From<gstreamer::glib::Error> for TestkitError {
    fn from(e: gstreamer::glib::Error) -> Self {
        TestkitError(e.to_string())
    }
}

impl From<gstreamer::glib::BoolError> for TestkitError {
    fn from(e: gstreamer::glib::BoolError) -> Self {
        TestkitError(e.to_string())
    }
}
