//! OpenCV's failures, mapped to the stream's kinds.

use rtsp_stream_core::raw::BackendError;
use rtsp_stream_core::{Error, ErrorKind, Transport};

/// What went wrong inside this backend, before it becomes a public [`Error`] (with the
/// `opencv::Error` or the `io::Error` of a probe as its source).
#[derive(Debug, thiserror::Error)]
pub(crate) enum OcvError {
    /// An OpenCV call raised an exception.
    #[error("OpenCV: {}", .0.message)]
    OpenCv(#[from] opencv::Error),
    /// `VideoCapture` did not open and the cause could not be found out.
    #[error(
        "OpenCV could not open the source (it does not say why: wrong credentials, unknown \
         path, refused transport or unsupported codec)"
    )]
    NotOpened,
    /// Nothing accepts connections at the URL's host and port.
    #[error("nothing accepts connections there: {0}")]
    Unreachable(#[source] std::io::Error),
    /// The file does not exist.
    #[error("no such file: {0}")]
    FileMissing(String),
    /// A camera index or device path did not open.
    #[error("{0} did not open")]
    DeviceNotOpened(String),
    /// The requested RTSP transport differs from the process-wide one OpenCV uses.
    #[error(
        "OpenCV chooses the RTSP transport for the whole process ({}, from the environment \
         variable OPENCV_FFMPEG_CAPTURE_OPTIONS); a stream cannot ask for {wanted} only",
        pinned.map_or("TCP with a silent fallback to UDP", |t| t.name())
    )]
    TransportFixed {
        wanted: Transport,
        /// The transport pinned by the environment, if any.
        pinned: Option<Transport>,
    },
    /// The stream ended or stopped delivering (OpenCV does not say which).
    #[error("the stream ended or stopped delivering frames")]
    ReadFailed,
    /// A decoder in the process started again at a new picture size, which OpenCV does not
    /// follow inside a session.
    #[error(
        "the picture size changed inside the session, which OpenCV does not follow; \
         reconnecting to read it at its new size"
    )]
    PictureSizeChanged,
    /// The stream refused the picture (its size limit): passed on as it is.
    #[error("{0}")]
    Refused(#[from] Error),
}

impl BackendError for OcvError {
    fn kind(&self) -> ErrorKind {
        match self {
            OcvError::OpenCv(_) => ErrorKind::Other,
            // Wrong password, unknown path, refused transport and unsupported codec all look
            // alike from here; some of them are transient, so this is retried with back-off.
            OcvError::NotOpened => ErrorKind::Other,
            OcvError::Unreachable(_) => ErrorKind::ConnectionRefused,
            OcvError::FileMissing(_) => ErrorKind::NotFound,
            OcvError::DeviceNotOpened(_) => ErrorKind::DeviceMissing,
            OcvError::TransportFixed { .. } => ErrorKind::Unsupported,
            OcvError::ReadFailed => ErrorKind::ConnectionLost,
            OcvError::PictureSizeChanged => ErrorKind::Decode,
            OcvError::Refused(e) => e.kind(),
        }
    }

    fn into_native(self) -> Option<Box<dyn std::error::Error + Send + Sync>> {
        match self {
            OcvError::OpenCv(e) => Some(Box::new(e)),
            OcvError::Unreachable(e) => Some(Box::new(e)),
            _ => None,
        }
    }
}

impl From<OcvError> for Error {
    fn from(e: OcvError) -> Error {
        match e {
            OcvError::Refused(e) => e,
            e => Error::from_backend(crate::NAME, e),
        }
    }
}
