//! What a backend opens and what it can do, declared once, by the backend itself.
//!
//! The facade's run-time choice ([`AnyBackend`]: which backend opens a source, in what order
//! they are tried, which OpenCV `CAP_*` number stands for which) and the conformance suite's
//! expectations are derived from these declarations; nothing else names a backend.
//!
//! [`AnyBackend`]: https://docs.rs/rtsp-stream/latest/rtsp_stream/struct.AnyBackend.html

use crate::camera_time::CameraTimeSource;
use crate::decode_mode::DecodeModes;
use crate::redact::SourceUrl;

/// A backend's declaration of itself: returned by
/// [`CaptureBackend::describe`](crate::CaptureBackend::describe) for a configuration.
#[derive(Debug, Clone, Copy)]
pub struct Description {
    /// Whether it opens `source` at all (a scheme it speaks, a device it reads). The
    /// automatic choice takes the first backend, in [`auto_rank`](Self::auto_rank) order,
    /// that does.
    pub opens: fn(&SourceUrl) -> bool,
    /// The same in words, for an error that says why no backend was chosen (`"rtsp:// only"`).
    pub opens_in_words: &'static str,
    /// Its place in the automatic choice, lowest first; `None`: never chosen automatically
    /// (the mock). Backends state what was measured (BENCHMARKS.md): retina 10, GStreamer 20,
    /// FFmpeg 30, OpenCV 40, the webcam 50.
    pub auto_rank: Option<u8>,
    /// OpenCV's `CAP_*` numbers (`cv2.CAP_FFMPEG` …) this backend stands for, for programs
    /// written against OpenCV's `VideoCapture(source, apiPreference)`.
    pub opencv_apis: &'static [i32],
    /// What it can find out and do, where decoder libraries differ.
    pub abilities: Abilities,
    /// The conditions of the README's compatibility matrix (firmware quirks, impaired
    /// networks) where it does not simply work: each names the condition as the conformance
    /// scenario does, whether it works with a limit or cannot, and why (for "cannot", the
    /// library's missing API and what the user gets instead). Conditions not listed work.
    pub limits: &'static [Limit],
    /// Which of the backend's configurations this describes, when it has several that differ
    /// (`"libavcodec"`); empty otherwise. A column of the compatibility matrix.
    pub variant: &'static str,
}

/// A condition where a backend does not simply work (see [`Description::limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The condition, as the conformance scenario names its matrix row.
    pub condition: &'static str,
    /// Works with a limit, or cannot.
    pub kind: LimitKind,
    /// The limit, or the missing API and what the user gets instead.
    pub why: &'static str,
}

/// How a backend falls short of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// It works, with the limit named (for example: it reconnects to recover).
    Limited,
    /// Its library offers no way: the user gets what the reason says (a named error).
    Cannot,
}

impl Description {
    /// A backend that opens every source, is never chosen automatically, stands for no OpenCV
    /// API and can do everything [`Abilities::ALL`] lists.
    pub const fn new() -> Description {
        Description {
            opens: opens_anything,
            opens_in_words: "any source",
            auto_rank: None,
            opencv_apis: &[],
            abilities: Abilities::ALL,
            limits: &[],
            variant: "",
        }
    }
}

impl Default for Description {
    fn default() -> Self {
        Description::new()
    }
}

fn opens_anything(_: &SourceUrl) -> bool {
    true
}

/// What a backend can find out, where a decoder library hides it. Where a backend lacks an
/// ability, the stream still behaves well; each field says how. The conformance suite
/// asserts the exact behaviour where the backend declares the ability, and the best available
/// one where it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abilities {
    /// Tells a wrong password (RTSP 401) from other failures, as
    /// [`ErrorKind::Authentication`](crate::ErrorKind::Authentication). Without it: the
    /// stream fails its attempts with a transient error and gives up after
    /// `max_reconnect_attempts`, and the password still appears nowhere.
    pub reports_authentication: bool,
    /// Tells the RTSP status of a refused request from other failures: an unknown path (404)
    /// as [`ErrorKind::NotFound`](crate::ErrorKind::NotFound), a bad request (400) and a
    /// session description with no picture as permanent errors. Without it: the stream gives
    /// up after `max_reconnect_attempts` with a clear message.
    pub reports_rtsp_status: bool,
    /// Falls back from TCP to UDP by itself with a `Notice::TransportFallback` event, and
    /// refuses UDP when TCP is chosen explicitly (`ErrorKind::TransportRefused`). Without it:
    /// frames still arrive from a UDP-only server with the default transport (the library
    /// falls back silently), and an explicit transport is refused as a permanent error.
    pub reports_transport_fallback: bool,
    /// Opens several sources at once. Without it (a process-wide lock around opening), a
    /// blackholed camera delays the others' first frame by up to its open timeout; once open
    /// they still keep their frame rate.
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
    /// Converts with the colour matrix the stream declares. Without it: BT.601 always.
    pub follows_colour_matrix: bool,
    /// How far (in levels) its colours may land from the truth: 3 for the core's conversion
    /// and swscale.
    pub colour_tolerance: u8,
    /// What it does with TLS.
    pub tls: TlsRule,
    /// Refuses a picture over `max_frame_pixels` before its decoder allocates for it (from
    /// the stream's parameter sets or caps). Without it: the size is known only once a picture
    /// is decoded, and the stream still ends cleanly with an error.
    pub refuses_size_before_decoding: bool,
    /// Gives frames their [`camera_time`](crate::Frame::camera_time), and how. `None`: the
    /// library offers no way (the backend's docs name the missing API); frames carry `None`,
    /// with no error.
    pub camera_time: Option<CameraTimeSource>,
    /// The [`DecodeMode`](crate::DecodeMode)s it runs; another is an `Unsupported` error
    /// from the setter.
    pub decode_modes: DecodeModes,
}

impl Abilities {
    /// Everything.
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
        tls: TlsRule::Verifies,
        refuses_size_before_decoding: true,
        camera_time: Some(CameraTimeSource::SenderReports),
        decode_modes: DecodeModes::ALL,
    };
}

impl Default for Abilities {
    fn default() -> Self {
        Abilities::ALL
    }
}

/// What a backend does with TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRule {
    /// It checks certificates: a self-signed server is an error, never a frame.
    Verifies,
    /// It cannot check them for `rtsps://` (and `https://` when `https` is true): such a
    /// source is refused with a permanent `Unsupported` error (see
    /// [`refuse_unverifiable_tls`](crate::raw::refuse_unverifiable_tls)), unless unverified
    /// TLS is allowed.
    CannotVerify {
        /// `https://` is refused too.
        https: bool,
    },
    /// It has no TLS: `rtsps://` is a permanent `Unsupported` error; `https://` not a source.
    None,
}

/// Source rules backends share.
impl SourceUrl {
    /// A local camera: a device index, `/dev/video*` or a `/dev/v4l/…` path.
    pub fn is_local_device(&self) -> bool {
        let text = self.expose().trim();
        text.parse::<u32>().is_ok()
            || text.starts_with("/dev/video")
            || text.starts_with("/dev/v4l/")
    }
}
