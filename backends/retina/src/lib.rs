//! retina backend of `rtsp-stream`: RTSP through the [retina](https://docs.rs/retina) crate
//! (the RTSP client of the Moonfire NVR), decoded by openh264 (bundled source, no system
//! library) or, with this crate's `ffmpeg` feature, by libavcodec alone (no libavformat).
//!
//! Why it is fast and cheap: retina hands over each access unit complete, on the RTP marker
//! bit, so the decoder gets a whole picture at once and returns it at once — no parser waiting
//! for the next access unit, no reordering queue, one decoding thread. The decoder's YUV is
//! converted once, by the core's SIMD conversion, straight into the lent buffer.
//!
//! - Sources: `rtsp://` only (`rtsps://` is a clear [`Unsupported`](rtsp_stream_core::ErrorKind)
//!   error: retina 0.4 has no TLS).
//! - Transport: the core's rule — TCP (interleaved) first, UDP on a real `461`, or as chosen.
//! - Authentication: Basic and Digest; credentials go to retina's session options, never into
//!   the URL it is given.
//! - Threads: retina's tokio runs as a current-thread runtime *on the capture thread*: no
//!   thread of its own per stream. A host name is resolved on a short helper thread under the
//!   open deadline; a lookup still in flight when the stream stops is the one thread this
//!   backend may leave behind (it ends when the system's resolver returns).
//! - Cancellation: every await races [`CaptureContext::changed`](rtsp_stream_core::raw::CaptureContext::changed)
//!   and a timer for the current deadline, so a stop or a new deadline is seen at once, without
//!   polling.
//! - Stop: one best-effort `TEARDOWN`, bounded by a quarter of the stream's `stop_timeout`,
//!   skipped when the connection failed or was silent for three frame intervals (a frozen
//!   peer would only make the stop wait out the bound).
//! - Codecs: H.264 with openh264 (see [`RetinaDecoder`] for the profiles it decodes); H.264,
//!   H.265 (retina's H.265 depacketizer is young: best effort) and MJPEG with libavcodec. A
//!   codec the chosen decoder cannot decode is a permanent `Unsupported` error naming the
//!   decoder that could.
// Unsafe code here: libavcodec's log routing takes FFmpeg's C functions.
#![allow(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod capture;
mod codec;
mod colour;
mod decode;
mod error;
mod open;
mod session;

pub use capture::RetinaCapture;
pub use session::lookups_in_flight;

/// The retina backend. See the crate docs.
#[derive(Debug, Clone, Copy)]
pub struct RetinaBackend;

/// The decoder behind retina.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetinaDecoder {
    /// Cisco's openh264 (bundled source, built with the crate): H.264 only. Decodes
    /// Constrained Baseline fully; Main and High with CABAC, 8×8 transforms and B-frames as
    /// measured in this crate's tests (see the README's decoder table); not interlaced
    /// streams. The default.
    #[default]
    OpenH264,
    /// libavcodec through ffmpeg-next's decoder only (feature `ffmpeg`): H.264 of every
    /// profile, H.265 and MJPEG.
    #[cfg(feature = "ffmpeg")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ffmpeg")))]
    Libavcodec,
}

impl RetinaDecoder {
    /// The decoder's name, as errors and the README say it.
    pub fn name(self) -> &'static str {
        match self {
            RetinaDecoder::OpenH264 => "openh264",
            #[cfg(feature = "ffmpeg")]
            RetinaDecoder::Libavcodec => "libavcodec",
        }
    }
}

/// Settings specific to retina. Everything backend-neutral (transport, deadlines, pixel
/// format) comes from the stream's options.
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub struct RetinaConfig {
    /// Which decoder turns the access units into pictures (default: openh264).
    pub decoder: RetinaDecoder,
}

impl RetinaConfig {
    /// The configuration with `decoder`.
    pub fn with_decoder(decoder: RetinaDecoder) -> Self {
        RetinaConfig { decoder }
    }
}

const NAME: &str = "retina";
