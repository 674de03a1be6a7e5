//! FFmpeg's errors, mapped to the stream's kinds.

use ffmpeg_next::util::error::{
    EACCES, ECONNREFUSED, ECONNRESET, EHOSTUNREACH, EINVAL, EIO, ENETUNREACH, ENOENT, EPIPE,
    ETIMEDOUT,
};
use rtsp_stream_core::raw::{BackendError, rtsp_status_kind};
use rtsp_stream_core::{Error, ErrorKind};

/// What went wrong inside this backend, before it becomes a public [`Error`] (with the
/// `ffmpeg_next::Error` as its source where there is one).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FfmpegError {
    /// A libav call failed.
    #[error("{during}: {source}{}", status_note(*.rtsp_status))]
    Av {
        during: &'static str,
        source: ffmpeg_next::Error,
        /// The RTSP status the server answered on this thread, if FFmpeg logged one.
        rtsp_status: Option<u16>,
        /// A network source, where a cut connection and a broken file look alike.
        network: bool,
    },
    #[error("the source has no video stream")]
    NoVideoStream,
    #[error("the source holds a NUL byte")]
    NulInSource,
    #[error("no input format called {0:?}")]
    UnknownInputFormat(String),
    #[error(
        "the source needs FFmpeg's protocol {0:?}, which this backend does not open for it; it \
         opens rtsp://, rtsps://, http(s)://, rtmp(s)://, udp://, rtp://, srt://, tcp:// URLs, \
         files and devices"
    )]
    Protocol(String),
    #[error("the conversion wrote {rows} of {height} rows")]
    ShortConversion { rows: i32, height: u32 },
    #[error(
        "the stream declares a {width}×{height} picture, larger than max_frame_pixels (raise it \
         with VideoStreamBuilder::max_frame_pixels if the stream is meant to be this large)"
    )]
    TooLarge { width: u32, height: u32 },
}

fn status_note(status: Option<u16>) -> String {
    status.map_or_else(String::new, |s| format!(" (RTSP status {s})"))
}

impl FfmpegError {
    pub(crate) fn av(during: &'static str, source: ffmpeg_next::Error, network: bool) -> Self {
        FfmpegError::Av {
            during,
            source,
            rtsp_status: rtsp_stream_ffmpeg_log::take_rtsp_status(),
            network,
        }
    }
}

impl BackendError for FfmpegError {
    fn kind(&self) -> ErrorKind {
        match self {
            FfmpegError::Av {
                source,
                rtsp_status,
                network,
                ..
            } => av_kind(source, *rtsp_status, *network),
            FfmpegError::NoVideoStream
            | FfmpegError::ShortConversion { .. }
            | FfmpegError::TooLarge { .. } => ErrorKind::Unsupported,
            FfmpegError::NulInSource
            | FfmpegError::UnknownInputFormat(_)
            | FfmpegError::Protocol(_) => ErrorKind::InvalidSource,
        }
    }

    fn into_native(self) -> Option<Box<dyn std::error::Error + Send + Sync>> {
        let FfmpegError::Av { source, .. } = self else {
            return None;
        };
        Some(Box::new(source))
    }
}

impl From<FfmpegError> for Error {
    fn from(e: FfmpegError) -> Error {
        Error::from_backend(crate::NAME, e)
    }
}

fn av_kind(error: &ffmpeg_next::Error, rtsp_status: Option<u16>, network: bool) -> ErrorKind {
    use ffmpeg_next::Error as Av;
    if let Some(kind) = rtsp_status.and_then(rtsp_status_kind) {
        return kind;
    }
    match (error, rtsp_status) {
        (Av::HttpUnauthorized | Av::HttpForbidden, _) => ErrorKind::Authentication,
        (Av::HttpNotFound | Av::StreamNotFound, _) => ErrorKind::NotFound,
        (Av::HttpBadRequest, _) => ErrorKind::InvalidSource,
        (Av::ProtocolNotFound | Av::DemuxerNotFound | Av::OptionNotFound, _) => {
            ErrorKind::InvalidSource
        }
        (Av::DecoderNotFound | Av::PatchWelcome, _) => ErrorKind::Unsupported,
        // A file FFmpeg cannot parse stays unparsable; on the network the same code also comes
        // from a connection cut in the middle of a reply, which a retry fixes.
        (Av::InvalidData, _) if !network => ErrorKind::Unsupported,
        (Av::InvalidData, _) => ErrorKind::Other,
        (Av::Eof, _) => ErrorKind::ConnectionLost,
        (Av::HttpServerError, _) => ErrorKind::ConnectionLost,
        (Av::Other { errno }, _) => errno_kind(*errno),
        _ => ErrorKind::Other,
    }
}

/// The POSIX codes FFmpeg wraps, as the platform's C library numbers them.
fn errno_kind(errno: i32) -> ErrorKind {
    match errno {
        e if e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH => {
            ErrorKind::ConnectionRefused
        }
        e if e == ECONNRESET || e == EPIPE || e == EIO => ErrorKind::ConnectionLost,
        e if e == ETIMEDOUT => ErrorKind::Timeout,
        e if e == ENOENT => ErrorKind::NotFound,
        e if e == EACCES => ErrorKind::Authentication,
        e if e == EINVAL => ErrorKind::InvalidSource,
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn the_native_error_is_the_source() {
        let e: Error = FfmpegError::Av {
            during: "opening",
            source: ffmpeg_next::Error::Other {
                errno: ECONNREFUSED,
            },
            rtsp_status: None,
            network: true,
        }
        .into();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        let source = e.source().expect("a source");
        assert!(source.downcast_ref::<ffmpeg_next::Error>().is_some());
        let e: Error = FfmpegError::Av {
            during: "opening",
            source: ffmpeg_next::Error::InvalidData,
            rtsp_status: Some(461),
            network: true,
        }
        .into();
        assert_eq!(e.kind(), ErrorKind::TransportRefused);
        assert!(e.to_string().contains("RTSP status 461"), "{e}");
    }
}
