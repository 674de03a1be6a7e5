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
//! - [`plausible_fps`]: what a declared frame rate must look like to be believed;
//! - [`codec_name`]: codec names as the stream reports them, whatever the decoder calls them;
//! - [`CaptureContext::checkpoint`]: the cancellation check between blocking steps;
//! - [`FilePacer`]: files delivered at their own rate, like a live source;
//! - `YuvPicture` (feature `yuv`): a decoder's YUV picture into the lent buffer, with the
//!   colour rule of every backend (the declared matrix, else BT.709 from 720 lines up);
//! - [`BackendError`]: a backend's own error, mapped into the public
//!   [`Error`](crate::Error) with the decoder library's error as its source.

use crate::LOG_TARGET;
use crate::error::{ErrorKind, Result};
use crate::event::Notice;
use crate::options::Transport;

pub use crate::backend::{Capture, CaptureBackend, ReadStatus};
pub use crate::context::{CaptureContext, ContextChanged};
pub use crate::error::BackendError;
pub use crate::frame::FrameSink;
pub use crate::memory::StreamMemory;
pub use crate::pacer::FilePacer;
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

/// What an RTSP (or HTTP) status of a refused request means for the stream, for the statuses
/// that say more than "it failed": 400 (the request cannot be right: permanent), 401 and 403
/// (credentials), 404 (no such path), 461 (transport refused, see [`open_with_transport`]),
/// 415, 501 and 505 (unsupported). Other statuses (454, 5xx …) are left to the backend, usually
/// as a transient failure.
pub fn rtsp_status_kind(status: u16) -> Option<ErrorKind> {
    match status {
        400 => Some(ErrorKind::InvalidSource),
        401 | 403 => Some(ErrorKind::Authentication),
        404 => Some(ErrorKind::NotFound),
        461 => Some(ErrorKind::TransportRefused),
        415 | 501 | 505 => Some(ErrorKind::Unsupported),
        _ => None,
    }
}

/// `fps` if it is a frame rate a real stream has (1–120 per second); `None` for the 0, NaN or
/// 90,000 that streams without a declared rate report.
pub fn plausible_fps(fps: f64) -> Option<f64> {
    (1.0..=120.0).contains(&fps).then_some(fps)
}

/// The stream's name for a codec, from whatever a decoder or an RTP payload calls it:
/// `"h264"`, `"hevc"`, `"mjpeg"`, else the name in lower case.
pub fn codec_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "h264" | "avc" | "avc1" | "x264" | "h.264" => "h264".into(),
        "h265" | "hevc" | "hev1" | "hvc1" | "h.265" => "hevc".into(),
        "jpeg" | "jpg" => "mjpeg".into(),
        // MJPG, MJPE (OpenCV's four-character codes), MJPEG.
        m if m.starts_with("mjp") => "mjpeg".into(),
        _ => lower,
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
            ctx.take_notices(),
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
        assert!(ctx.take_notices().is_empty());
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
