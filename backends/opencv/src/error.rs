//! OpenCV's failures, mapped to the stream's kinds.

use rtsp_stream_core::{CaptureContext, Error, ErrorKind, Transport};

/// What went wrong inside this backend, before it becomes a public [`Error`].
#[derive(Debug)]
pub(crate) enum OcvError {
    /// An OpenCV call raised an exception.
    OpenCv(opencv::Error),
    /// `VideoCapture` did not open and the cause could not be found out.
    NotOpened,
    /// Nothing accepts connections at the URL's host and port.
    Unreachable(std::io::Error),
    /// The file does not exist.
    FileMissing(String),
    /// A camera index or device path did not open.
    DeviceNotOpened(String),
    /// The requested RTSP transport differs from the process-wide one OpenCV uses.
    TransportFixed {
        wanted: Transport,
        /// The transport pinned by the environment, if any.
        pinned: Option<Transport>,
    },
    /// The stream ended or stopped delivering (OpenCV does not say which).
    ReadFailed,
}

impl OcvError {
    pub(crate) fn into_error(self, ctx: &CaptureContext) -> Error {
        if ctx.should_stop() {
            return ctx.interrupted_error(&self.describe());
        }
        let kind = match &self {
            OcvError::OpenCv(_) => ErrorKind::Other,
            // Wrong password, unknown path, refused transport and unsupported codec all look
            // alike from here; some of them are transient, so this is retried with back-off.
            OcvError::NotOpened => ErrorKind::Other,
            OcvError::Unreachable(_) => ErrorKind::ConnectionRefused,
            OcvError::FileMissing(_) => ErrorKind::NotFound,
            OcvError::DeviceNotOpened(_) => ErrorKind::DeviceMissing,
            OcvError::TransportFixed { .. } => ErrorKind::Unsupported,
            OcvError::ReadFailed => ErrorKind::ConnectionLost,
        };
        Error::new(kind, crate::NAME, self.describe())
    }

    fn describe(&self) -> String {
        match self {
            OcvError::OpenCv(e) => format!("OpenCV: {}", e.message),
            OcvError::NotOpened => "OpenCV could not open the source (it does not say why: \
                 wrong credentials, unknown path, refused transport or unsupported codec)"
                .into(),
            OcvError::Unreachable(e) => format!("nothing accepts connections there: {e}"),
            OcvError::FileMissing(path) => format!("no such file: {path}"),
            OcvError::DeviceNotOpened(device) => format!("{device} did not open"),
            OcvError::TransportFixed { wanted, pinned } => format!(
                "OpenCV chooses the RTSP transport for the whole process ({}, from the \
                 environment variable OPENCV_FFMPEG_CAPTURE_OPTIONS); a stream cannot ask for \
                 {wanted} only",
                pinned.map_or("TCP with a silent fallback to UDP", |t| t.name())
            ),
            OcvError::ReadFailed => "the stream ended or stopped delivering frames".into(),
        }
    }
}

impl From<opencv::Error> for OcvError {
    fn from(e: opencv::Error) -> Self {
        OcvError::OpenCv(e)
    }
}
