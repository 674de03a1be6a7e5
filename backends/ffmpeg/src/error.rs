//! FFmpeg's errors, mapped to the stream's kinds.

use rtsp_stream_core::{CaptureContext, Error, ErrorKind};

/// What went wrong inside this backend, before it becomes a public [`Error`].
#[derive(Debug)]
pub(crate) enum FfmpegError {
    /// A libav call failed.
    Av {
        during: &'static str,
        error: ffmpeg_next::Error,
        /// The RTSP status the server answered on this thread, if FFmpeg logged one.
        rtsp_status: Option<u16>,
    },
    NoVideoStream,
    /// The server refused TCP (461) and the transport was chosen explicitly.
    TcpRefused,
}

impl FfmpegError {
    pub(crate) fn av(during: &'static str, error: ffmpeg_next::Error) -> Self {
        FfmpegError::Av {
            during,
            error,
            rtsp_status: crate::ffmpeg_log::take_rtsp_status(),
        }
    }

    /// The public error. `network` says whether an end of file means a dropped connection.
    pub(crate) fn into_error(self, ctx: &CaptureContext, network: bool) -> Error {
        use ffmpeg_next::Error as Av;
        // An interrupted call fails with whatever code the phase produces: trust the context.
        if ctx.should_stop() {
            return ctx.interrupted_error(&self.describe());
        }
        let kind = match &self {
            FfmpegError::NoVideoStream => ErrorKind::Unsupported,
            FfmpegError::TcpRefused => ErrorKind::TransportRefused,
            FfmpegError::Av {
                error, rtsp_status, ..
            } => match (error, rtsp_status) {
                (_, Some(401)) | (_, Some(403)) => ErrorKind::Authentication,
                (_, Some(404)) => ErrorKind::NotFound,
                (_, Some(461)) => ErrorKind::TransportRefused,
                (Av::HttpUnauthorized | Av::HttpForbidden, _) => ErrorKind::Authentication,
                (Av::HttpNotFound | Av::StreamNotFound, _) => ErrorKind::NotFound,
                (Av::ProtocolNotFound | Av::DemuxerNotFound | Av::OptionNotFound, _) => {
                    ErrorKind::InvalidSource
                }
                (Av::DecoderNotFound | Av::PatchWelcome, _) => ErrorKind::Unsupported,
                // A file FFmpeg cannot parse stays unparsable; on the network the same code
                // also comes from a connection cut in the middle of a reply, which a retry
                // fixes, so it stays transient there.
                (Av::InvalidData, _) if !network => ErrorKind::Unsupported,
                (Av::InvalidData, _) => ErrorKind::Other,
                (Av::Eof, _) => ErrorKind::ConnectionLost,
                (Av::HttpServerError, _) => ErrorKind::ConnectionLost,
                (Av::Other { errno }, _) => errno_kind(*errno),
                _ => ErrorKind::Other,
            },
        };
        Error::new(kind, crate::NAME, self.describe())
    }

    fn describe(&self) -> String {
        match self {
            FfmpegError::Av {
                during,
                error,
                rtsp_status: Some(status),
            } => format!("{during}: {error} (RTSP status {status})"),
            FfmpegError::Av { during, error, .. } => format!("{during}: {error}"),
            FfmpegError::NoVideoStream => "the source has no video stream".into(),
            FfmpegError::TcpRefused => {
                "the server refused RTSP over TCP (461 Unsupported Transport)".into()
            }
        }
    }
}

fn errno_kind(errno: i32) -> ErrorKind {
    const ECONNREFUSED: i32 = 111;
    const ECONNRESET: i32 = 104;
    const EPIPE: i32 = 32;
    const ETIMEDOUT: i32 = 110;
    const EIO: i32 = 5;
    const ENOENT: i32 = 2;
    const EACCES: i32 = 13;
    const EHOSTUNREACH: i32 = 113;
    const ENETUNREACH: i32 = 101;
    const EINVAL: i32 = 22;
    match errno {
        ECONNREFUSED | EHOSTUNREACH | ENETUNREACH => ErrorKind::ConnectionRefused,
        ECONNRESET | EPIPE | EIO => ErrorKind::ConnectionLost,
        ETIMEDOUT => ErrorKind::Timeout,
        ENOENT => ErrorKind::NotFound,
        EACCES => ErrorKind::Authentication,
        EINVAL => ErrorKind::InvalidSource,
        _ => ErrorKind::Other,
    }
}
