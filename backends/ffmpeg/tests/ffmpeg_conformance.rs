//! The FFmpeg backend against the shared conformance suite (real RTSP server on loopback,
//! fault proxy).

use rtsp_stream_ffmpeg::{FfmpegBackend, FfmpegConfig};

rtsp_stream_testkit::conformance_tests!(FfmpegBackend, FfmpegConfig::default());
