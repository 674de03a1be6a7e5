//! For backend authors: everything a decoder implements and uses, apart from the application
//! API at the crate root (the same split as opendal's `raw`).
//!
//! A backend implements [`CaptureBackend`] (its `Config`, its name, `open`) and [`Capture`]
//! (`read`, `props`, `close`); the stream runs it on a capture thread of its own and hands it
//! an [`OpenRequest`] and a [`CaptureContext`]. The rules every backend follows live here once,
//! so that no backend writes them again:
//!
//! - [`open_with_transport`]: RTSP over TCP first, UDP only on a real `461 Unsupported
//!   Transport` and only when the application did not choose a transport;
//! - [`rtsp_status_kind`]: what an RTSP status of a refused request means;
//! - [`refuse_unverifiable_tls`]: TLS a backend cannot verify is refused unless allowed;
//! - [`plausible_fps`], [`fps_of_ratio`], [`pts_of_ticks`], [`pts_of_seconds`]: rates and time
//!   stamps as streams report them, checked (a camera's zero, huge or non-finite number is
//!   `None`, never a panic);
//! - [`codec_name`]: codec names as the stream reports them, whatever the decoder calls them;
//! - [`CaptureContext::checkpoint`]: the cancellation check between blocking steps;
//! - [`CaptureContext::should_decode`] before a unit reaches the decoder and
//!   [`CaptureContext::should_convert`] before a picture is converted: the stream's
//!   [`DecodeMode`](crate::DecodeMode), counted and timed; [`h264_unit_is_droppable`] tells the
//!   H.264 units no picture refers to;
//! - [`FilePacer`]: files delivered at their own rate, like a live source;
//! - `YuvPicture` (feature `yuv`): a decoder's YUV picture into the lent buffer, with the
//!   colour rule of every backend (the declared matrix, else BT.709 from 720 lines up);
//! - [`BackendError`]: a backend's own error, mapped into the public
//!   [`Error`](crate::Error) with the decoder library's error as its source.

use crate::LOG_TARGET;
use crate::error::{ErrorKind, Result};
use crate::event::Notice;
use crate::transport::Transport;
use std::time::Duration;

pub use crate::backend::{Capture, CaptureBackend, ReadStatus};
pub use crate::camera_time::{
    SenderReportClock, SenderReportOutcome, ntp_to_system_time, system_time_to_ntp,
};
pub use crate::context::{CaptureContext, ContextChanged};
pub use crate::description::{Abilities, Description, Limit, LimitKind, TlsRule};
pub use crate::error::BackendError;
pub use crate::frame::FrameSink;
pub use crate::memory::StreamMemory;
pub use crate::nal::{
    annex_b_units, h264_unit_is_droppable, h264_units_are_droppable, length_prefixed_units,
};
pub use crate::pacer::FilePacer;
pub use crate::quote::{QUOTE_LIMIT, one_line};
pub use crate::redact::redact_everywhere;
pub use crate::request::OpenRequest;
pub use crate::wake::WakeSignal;
#[cfg(feature = "yuv")]
#[cfg_attr(docsrs, doc(cfg(feature = "yuv")))]
pub use crate::yuv::{Plane, YuvLayout, YuvMatrix, YuvPicture, YuvRange};

/// Opens `request` with the transport rule of every backend, calling `open` with the transport
/// to use (`None` for sources that are not RTSP).
///
/// RTSP goes over TCP (interleaved) unless the application asked for UDP. When the server
/// refuses TCP — `open` returns an error of kind [`ErrorKind::TransportRefused`], which a
/// backend reports only for a real RTSP `461 Unsupported Transport` — and the application left
/// the transport on [`Transport::Auto`], it is tried once more over UDP, with a
/// [`Notice::TransportFallback`] and a log line. An explicitly chosen transport is never
/// changed: the refusal is the stream's (permanent) error.
pub fn open_with_transport<T>(
    request: &OpenRequest,
    ctx: &CaptureContext,
    mut open: impl FnMut(Option<Transport>) -> Result<T>,
) -> Result<T> {
    if !request.source().is_rtsp() {
        return open(None);
    }
    let first = match request.transport() {
        Transport::Udp => Transport::Udp,
        _ => Transport::Tcp,
    };
    match open(Some(first)) {
        Err(e)
            if e.kind() == ErrorKind::TransportRefused
                && first == Transport::Tcp
                && request.transport() == Transport::Auto =>
        {
            log::warn!(
                target: LOG_TARGET,
                "{}: the server refused RTSP over TCP (461), falling back to UDP",
                request.source()
            );
            ctx.notify(Notice::TransportFallback {
                from: Transport::Tcp,
                to: Transport::Udp,
            });
            ctx.checkpoint("falling back to UDP")?;
            open(Some(Transport::Udp))
        }
        other => other,
    }
}

/// The rule for a backend whose TLS layer cannot verify a server's certificate for the
/// `schemes` it names (FFmpeg 5.1's RTSP client for `rtsps`, OpenCV for `rtsps` and
/// `https`): a source of such a scheme is refused with a permanent
/// [`ErrorKind::Unsupported`] error that names GStreamer (which verifies) and the way to allow
/// it anyway, unless the stream allows unverified TLS
/// ([`StreamOptions::allow_unverified_tls`](crate::StreamOptions::allow_unverified_tls)) — then
/// it opens, and the log says once per stream that the certificate was not checked.
pub fn refuse_unverifiable_tls(
    request: &OpenRequest,
    backend: &'static str,
    schemes: &[&str],
) -> Result<()> {
    let Some(scheme) = request
        .source()
        .scheme()
        .filter(|s| schemes.contains(&s.as_str()))
    else {
        return Ok(());
    };
    if !request.options().allow_unverified_tls {
        return Err(crate::Error::new(
            ErrorKind::Unsupported,
            backend,
            format!(
                "{scheme}:// through {backend} cannot check the server's certificate; use a \
                 backend that checks it (GStreamer does), or allow unverified TLS \
                 (VideoStreamBuilder::allow_unverified_tls)"
            ),
        ));
    }
    #[derive(Clone)]
    struct Warned;
    if request.memory().get::<Warned>().is_none() {
        request.memory().set(Warned);
        log::warn!(
            target: LOG_TARGET,
            "{}: the server's certificate is not checked ({backend} cannot; allowed by \
             allow_unverified_tls)",
            request.source()
        );
    }
    Ok(())
}

/// What an RTSP (or HTTP) status of a refused request means for the stream: `None` for a
/// status that is not a refusal (1xx–3xx, or not a status at all), else the error kind every
/// backend reports for it.
///
/// Answers that retrying the same request cannot change are permanent: 400 and 413/414 (the
/// request cannot be right: [`ErrorKind::InvalidSource`]), 401, 403 and 407 (credentials), 404
/// and 410 (no such path), 461 (transport refused, see [`open_with_transport`]), 405, 406,
/// 415, 451, 456–460, 501, 505 and 551 (what was asked is not supported). Every other refusal
/// (408, 453 not enough bandwidth, 454 session not found, 5xx of a camera that is booting or
/// busy, statuses no RFC names) is transient ([`ErrorKind::Other`]).
pub fn rtsp_status_kind(status: u16) -> Option<ErrorKind> {
    match status {
        400 | 413 | 414 => Some(ErrorKind::InvalidSource),
        401 | 403 | 407 => Some(ErrorKind::Authentication),
        404 | 410 => Some(ErrorKind::NotFound),
        461 => Some(ErrorKind::TransportRefused),
        405 | 406 | 415 | 451 | 456..=460 | 501 | 505 | 551 => Some(ErrorKind::Unsupported),
        400..=599 => Some(ErrorKind::Other),
        _ => None,
    }
}

/// `fps` if it is a frame rate a real stream has (1–120 per second); `None` for the 0, NaN or
/// 90,000 that streams without a declared rate report.
pub fn plausible_fps(fps: f64) -> Option<f64> {
    (1.0..=120.0).contains(&fps).then_some(fps)
}

/// The frame rate `numerator / denominator` as a stream or decoder states it (a time base, an
/// SDP's rate, caps), if it is [plausible](plausible_fps); `None` for a zero denominator and
/// for any other value.
pub fn fps_of_ratio(numerator: i64, denominator: i64) -> Option<f64> {
    if denominator == 0 {
        return None;
    }
    plausible_fps(numerator as f64 / denominator as f64)
}

/// A time stamp of `ticks` in units of `numerator / denominator` seconds (a stream's time
/// base), as a duration from the stream's start: `None` for a negative result, a zero
/// denominator, or one beyond what a `Duration` holds — never a panic, whatever a camera or
/// a decoder reports.
pub fn pts_of_ticks(ticks: i64, numerator: i64, denominator: i64) -> Option<Duration> {
    if denominator == 0 {
        return None;
    }
    // Exact in 128 bits: |ticks × numerator| < 2^126, and the nanoseconds fit a u64 for
    // 584 years.
    let nanos = i128::from(ticks)
        .checked_mul(i128::from(numerator))?
        .checked_mul(1_000_000_000)?
        / i128::from(denominator);
    u64::try_from(nanos).ok().map(Duration::from_nanos)
}

/// A time in seconds as a stream or decoder reports it (a position, a time stamp), as a
/// duration: `None` for a negative, non-finite or overflowing value, never a panic.
pub fn pts_of_seconds(seconds: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(seconds).ok()
}

/// The stream's name for a codec, from whatever a decoder or an RTP payload calls it:
/// `"h264"`, `"hevc"`, `"mjpeg"`, else the name in lower case — with only letters, digits and
/// `. _ + -` kept and at most 32 of them, since a camera's SDP may name it anything.
pub fn codec_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "h264" | "avc" | "avc1" | "x264" | "h.264" => "h264".into(),
        "h265" | "hevc" | "hev1" | "hvc1" | "h.265" => "hevc".into(),
        "jpeg" | "jpg" => "mjpeg".into(),
        // MJPG, MJPE (OpenCV's four-character codes), MJPEG.
        m if m.starts_with("mjp") => "mjpeg".into(),
        _ => lower
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "._+-".contains(*c))
            .take(32)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::error::Error;
    use crate::options::StreamOptions;
    use std::sync::Arc;

    fn request(url: &str, transport: Transport) -> OpenRequest {
        let options = StreamOptions {
            transport,
            ..StreamOptions::default()
        };
        OpenRequest::new(url, None, options)
    }

    fn refusing(tried: &mut Vec<Option<Transport>>) -> impl FnMut(Option<Transport>) -> Result<()> {
        move |t| {
            tried.push(t);
            match t {
                Some(Transport::Tcp) => Err(Error::new(ErrorKind::TransportRefused, "t", "461")),
                _ => Ok(()),
            }
        }
    }

    #[test]
    fn udp_only_after_a_refused_tcp_and_only_on_auto() {
        let ctx = CaptureContext::new(Arc::new(SystemClock), "t");
        let mut tried = Vec::new();
        open_with_transport(
            &request("rtsp://h/x", Transport::Auto),
            &ctx,
            refusing(&mut tried),
        )
        .unwrap();
        assert_eq!(tried, [Some(Transport::Tcp), Some(Transport::Udp)]);
        assert_eq!(
            ctx.take_notices().0,
            [Notice::TransportFallback {
                from: Transport::Tcp,
                to: Transport::Udp
            }]
        );
        let mut tried = Vec::new();
        let err = open_with_transport(
            &request("rtsp://h/x", Transport::Tcp),
            &ctx,
            refusing(&mut tried),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TransportRefused);
        assert_eq!(tried, [Some(Transport::Tcp)]);
        let mut tried = Vec::new();
        open_with_transport(
            &request("rtsp://h/x", Transport::Udp),
            &ctx,
            refusing(&mut tried),
        )
        .unwrap();
        assert_eq!(tried, [Some(Transport::Udp)]);
        let mut tried = Vec::new();
        open_with_transport(
            &request("/tmp/a.mp4", Transport::Auto),
            &ctx,
            refusing(&mut tried),
        )
        .unwrap();
        assert_eq!(tried, [None]);
        assert!(ctx.take_notices().0.is_empty());
    }

    #[test]
    fn other_errors_do_not_fall_back() {
        let ctx = CaptureContext::new(Arc::new(SystemClock), "t");
        let mut calls = 0;
        let err = open_with_transport(&request("rtsp://h/x", Transport::Auto), &ctx, |_| {
            calls += 1;
            Err::<(), _>(Error::new(ErrorKind::Unsupported, "t", "no usable media"))
        })
        .unwrap_err();
        assert_eq!((err.kind(), calls), (ErrorKind::Unsupported, 1));
    }

    #[test]
    fn names_and_rates() {
        assert_eq!(codec_name("H264"), "h264");
        assert_eq!(codec_name("hev1"), "hevc");
        assert_eq!(codec_name("JPEG"), "mjpeg");
        assert_eq!(codec_name("MJPE"), "mjpeg");
        assert_eq!(codec_name("VP8"), "vp8");
        assert_eq!(plausible_fps(30.0), Some(30.0));
        assert_eq!(plausible_fps(90_000.0), None);
        assert_eq!(plausible_fps(f64::NAN), None);
    }
}
