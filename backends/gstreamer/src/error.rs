//! GStreamer's errors, mapped to the stream's kinds.

use gstreamer as gst;
use rtsp_stream_core::raw::{BackendError, rtsp_status_kind};
use rtsp_stream_core::{Error, ErrorKind};

/// What went wrong inside this backend, before it becomes a public [`Error`] (with the
/// `glib::Error` of a bus message as its source).
#[derive(Debug, thiserror::Error)]
pub(crate) enum GstError {
    /// `gst::init` failed (no plugins, broken installation).
    #[error("GStreamer does not initialise: {0}")]
    Init(String),
    /// An element this backend needs is not installed.
    #[error("the GStreamer element {0:?} is not installed")]
    MissingElement(&'static str),
    /// A pipeline could not be built or linked (also: a custom description that does not
    /// parse or has no appsink).
    #[error("pipeline: {0}")]
    Pipeline(String),
    /// The source is neither a URI nor a path.
    #[error("not a URI or a path: {0}")]
    InvalidSource(String),
    /// The pipeline refused to play and said nothing on its bus.
    #[error("the pipeline refused to play")]
    StateChange,
    /// An error message on the bus, with the RTSP status of the refused request if rtspsrc
    /// gave it.
    #[error("{source}{}", debug_note(.debug))]
    Bus {
        source: gst::glib::Error,
        debug: Option<String>,
        rtsp_status: Option<u16>,
    },
    /// rtspsrc set up none of the video streams the server offered: the server refused the
    /// transport (`461 Unsupported Transport`), the one reply rtspsrc skips a stream on.
    #[error("the server refused RTSP over TCP (461 Unsupported Transport)")]
    TcpRefused,
    /// The session description offers no video stream.
    #[error("the source offers no video stream (its session description has none)")]
    NoVideo,
    /// The pipeline reached its end.
    #[error("the source ended the stream")]
    EndOfStream,
    /// A sample that cannot be turned into a frame.
    #[error("{0}")]
    Frame(String),
}

/// GStreamer debug strings start with the source location; the last line is the message.
fn debug_note(debug: &Option<String>) -> String {
    match debug.as_deref().and_then(|d| d.lines().last()) {
        Some(line) if !line.trim().is_empty() => format!(" ({})", line.trim()),
        _ => String::new(),
    }
}

impl GstError {
    /// An error message from the bus. `rtspsrc` says whether rtspsrc posted it and, if so,
    /// whether the server offered a video stream.
    pub(crate) fn from_bus(
        error: gst::glib::Error,
        debug: Option<&str>,
        rtsp_status: Option<u16>,
        rtspsrc: Option<bool>,
    ) -> GstError {
        // rtspsrc reports "codec not found" when no stream is left to play: it checks no codec.
        // It skips a stream only when the server refuses its SETUP with 461 (any other refusal
        // is an error of its own), so with a video stream offered that means a refused
        // transport; without one, there was nothing to set up.
        if error.matches(gst::StreamError::CodecNotFound) {
            match rtspsrc {
                Some(true) => return GstError::TcpRefused,
                Some(false) => return GstError::NoVideo,
                None => {}
            }
        }
        GstError::Bus {
            source: error,
            debug: debug.map(str::to_owned),
            rtsp_status,
        }
    }
}

impl BackendError for GstError {
    fn kind(&self) -> ErrorKind {
        match self {
            GstError::Init(_) | GstError::MissingElement(_) => ErrorKind::Unsupported,
            GstError::Pipeline(_) => ErrorKind::InvalidConfig,
            GstError::InvalidSource(_) => ErrorKind::InvalidSource,
            GstError::StateChange => ErrorKind::Other,
            GstError::TcpRefused => ErrorKind::TransportRefused,
            GstError::NoVideo => ErrorKind::Unsupported,
            GstError::EndOfStream => ErrorKind::ConnectionLost,
            GstError::Frame(_) => ErrorKind::Decode,
            GstError::Bus {
                source,
                debug,
                rtsp_status,
            } => rtsp_status
                .and_then(rtsp_status_kind)
                .unwrap_or_else(|| bus_kind(source, debug.as_deref().unwrap_or(""))),
        }
    }

    fn into_native(self) -> Option<Box<dyn std::error::Error + Send + Sync>> {
        match self {
            GstError::Bus { source, .. } => Some(Box::new(source)),
            _ => None,
        }
    }
}

impl From<GstError> for Error {
    fn from(e: GstError) -> Error {
        Error::from_backend(crate::NAME, e)
    }
}

fn bus_kind(error: &gst::glib::Error, debug: &str) -> ErrorKind {
    use gst::{CoreError, ResourceError, StreamError};
    if let Some(e) = error.kind::<ResourceError>() {
        return match e {
            ResourceError::NotAuthorized => ErrorKind::Authentication,
            ResourceError::NotFound => ErrorKind::NotFound,
            ResourceError::OpenRead | ResourceError::OpenReadWrite | ResourceError::OpenWrite
                if debug.contains("Not Found") =>
            {
                ErrorKind::NotFound
            }
            ResourceError::OpenRead | ResourceError::OpenReadWrite | ResourceError::OpenWrite => {
                ErrorKind::ConnectionRefused
            }
            ResourceError::Read | ResourceError::Write | ResourceError::Close => {
                ErrorKind::ConnectionLost
            }
            ResourceError::Settings => ErrorKind::Unsupported,
            _ => ErrorKind::Other,
        };
    }
    if let Some(e) = error.kind::<StreamError>() {
        return match e {
            StreamError::CodecNotFound
            | StreamError::NotImplemented
            | StreamError::WrongType
            | StreamError::TypeNotFound => ErrorKind::Unsupported,
            StreamError::Decode | StreamError::Demux | StreamError::Format => ErrorKind::Decode,
            _ => ErrorKind::Other,
        };
    }
    if let Some(CoreError::MissingPlugin) = error.kind::<CoreError>() {
        return ErrorKind::Unsupported;
    }
    ErrorKind::Other
}
