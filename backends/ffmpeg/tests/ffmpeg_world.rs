//! The FFmpeg backend in the compatibility matrix's conditions (firmware quirks, impaired
//! networks).

use rtsp_stream_ffmpeg::{FfmpegBackend, FfmpegConfig};

rtsp_stream_testkit::world_tests!(FfmpegBackend, FfmpegConfig::default());
