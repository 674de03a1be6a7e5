//! FFmpeg backend of `rtsp-stream`: anything libavformat opens (`rtsp://`, `rtsps://`,
//! `http(s)://`, files, devices with an input format), decoded by libavcodec and converted by
//! libswscale straight into the frame buffer the stream lends.
//!
//! Low-latency defaults, each for a measured reason:
//! - one decoding thread: FFmpeg's frame threading holds every frame back by one frame interval
//!   per extra thread (slice threading would not, but is only used by streams encoded with
//!   slices anyway);
//! - `fflags nobuffer`, `flags low_delay`, and no reordering queue for RTSP: nothing waits in a
//!   buffer that a live view does not need;
//! - short stream probing (`analyzeduration` 100 ms, `probesize` 64 KiB): the default probing
//!   costs about a second before the first frame;
//! - RTSP over TCP by default with an automatic fallback to UDP when the server answers
//!   `461 Unsupported Transport`; UDP on request, per stream (never a process-wide setting).
//!
//! Every blocking call is interruptible: the interrupt callback, installed for the input's whole
//! life, polls the stream's cancellation and its moving deadline, and FFmpeg's socket `timeout`
//! bounds each I/O operation as a second line. After a decode error or a frame FFmpeg marks
//! corrupt, frames are skipped until the next key frame (counted in the stream's decode errors),
//! so a smeared picture is never delivered. FFmpeg's own log output goes to the `log` crate
//! (target `rtsp_stream::ffmpeg`) with credentials removed, through the process's one owner of
//! FFmpeg's log, the crate `rtsp-stream-ffmpeg-log`.
// Unsafe code here: FFmpeg is called through its C API.
#![allow(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod capture;
mod error;
mod open;

use std::time::Duration;

/// The FFmpeg backend. See the crate docs.
#[derive(Debug, Clone, Copy)]
pub struct FfmpegBackend;

/// Settings specific to FFmpeg. Everything backend-neutral (transport, deadlines, pixel format)
/// comes from the stream's options.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct FfmpegConfig {
    /// Input format for devices and raw inputs (`"v4l2"`, `"lavfi"` …), as `ffmpeg -f`.
    pub input_format: Option<String>,
    /// Extra demuxer / protocol options, as `ffmpeg -KEY VALUE` before `-i`. They override the
    /// defaults this backend sets.
    pub options: Vec<(String, String)>,
    /// Decoder threads (default 1: see the crate docs for why).
    pub decoder_threads: usize,
    /// How long to probe a stream before the first frame (default 100 ms).
    pub analyze_duration: Duration,
    /// Deliver files at their own frame rate, like a live source (default true). Without it a
    /// file is decoded as fast as possible.
    pub pace_files: bool,
    /// Start a file again at its end instead of finishing the stream (default false).
    pub loop_files: bool,
    /// The certificate authorities `https://` servers are checked against (default `None`:
    /// the system's store). Certificates are always checked for `https://`; `rtsps://`,
    /// whose TLS FFmpeg 5.1 cannot check, is refused unless the stream allows unverified TLS.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for FfmpegConfig {
    fn default() -> Self {
        FfmpegConfig {
            input_format: None,
            options: Vec::new(),
            decoder_threads: 1,
            analyze_duration: Duration::from_millis(100),
            pace_files: true,
            loop_files: false,
            ca_file: None,
        }
    }
}

const NAME: &str = "ffmpeg";
