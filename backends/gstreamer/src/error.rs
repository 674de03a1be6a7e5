//! GStreamer's errors, mapped to the stream's kinds.

use gstreamer as gst;
use rtsp_stream_core::{CaptureContext, Error, ErrorKind};

/// What went wrong inside this backend, before it becomes a public [`Error`].
#[derive(Debug)]
pub(crate) enum GstError {
    /// `gst::init` failed (no plugins, broken installation).
    Init(String),
    /// An element this backend needs is not installed.
    MissingElement(&'static str),
    /// A pipeline could not be built or linked (also: a custom description that does not
    /// parse or has no appsink).
    Pipeline(String),
    /// The source is neither a URI nor a path.
    InvalidSource(String),
    /// The pipeline refused to play and said nothing on its bus.
    StateChange,
    /// An error message on the bus.
    Bus {
        error: gst::glib::Error,
        debug: Option<String>,
    },
    /// rtspsrc could set up no stream: over TCP, the server refused the transport (`461
    /// Unsupported Transport`).
    NoStreamSetUp,
    /// The server refused RTSP over TCP, chosen explicitly.
    TransportRefused,
    /// The pipeline reached its end.
    EndOfStream { network: bool },
    /// A wait returned because the stream cancelled it or a deadline passed.
    Interrupted(&'static str),
    /// A sample that cannot be turned into a frame.
    Frame(String),
}

impl GstError {
    /// An error message from the bus; `from_rtspsrc` says whether rtspsrc posted it.
    pub(crate) fn from_bus(
        error: gst::glib::Error,
        debug: Option<&str>,
        from_rtspsrc: bool,
    ) -> GstError {
        // rtspsrc skips every stream whose SETUP the server refused (RTSP 461 for the only
        // transport allowed) and then reports that no stream is left, as "codec not found":
        // it checks no codec, so from rtspsrc that error means no stream could be set up.
        if from_rtspsrc && error.matches(gst::StreamError::CodecNotFound) {
            return GstError::NoStreamSetUp;
        }
        GstError::Bus {
            error,
            debug: debug.map(str::to_owned),
        }
    }

    pub(crate) fn into_error(self, ctx: &CaptureContext) -> Error {
        // A wait cut short by the stream fails with whatever the phase produced: trust the
        // context.
        if ctx.should_stop() {
            return ctx.interrupted_error(&self.describe());
        }
        Error::new(self.kind(), crate::NAME, self.describe())
    }

    fn kind(&self) -> ErrorKind {
        match self {
            GstError::Init(_) | GstError::MissingElement(_) => ErrorKind::Unsupported,
            GstError::Pipeline(_) => ErrorKind::InvalidConfig,
            GstError::InvalidSource(_) => ErrorKind::InvalidSource,
            GstError::StateChange => ErrorKind::Other,
            GstError::TransportRefused => ErrorKind::TransportRefused,
            GstError::NoStreamSetUp => ErrorKind::Unsupported,
            GstError::EndOfStream { .. } => ErrorKind::ConnectionLost,
            GstError::Interrupted(_) => ErrorKind::Timeout,
            GstError::Frame(_) => ErrorKind::Decode,
            GstError::Bus { error, debug } => bus_kind(error, debug.as_deref().unwrap_or("")),
        }
    }

    fn describe(&self) -> String {
        match self {
            GstError::Init(e) => format!("GStreamer does not initialise: {e}"),
            GstError::MissingElement(name) => {
                format!("the GStreamer element {name:?} is not installed")
            }
            GstError::Pipeline(e) => format!("pipeline: {e}"),
            GstError::InvalidSource(e) => format!("not a URI or a path: {e}"),
            GstError::StateChange => "the pipeline refused to play".into(),
            GstError::Bus { error, debug } => match debug {
                Some(d) if !d.is_empty() => format!("{error} ({})", last_line(d)),
                _ => error.to_string(),
            },
            GstError::TransportRefused => {
                "the server refused RTSP over TCP (461 Unsupported Transport)".into()
            }
            GstError::NoStreamSetUp => {
                "the server set up no stream (unsupported transport or media)".into()
            }
            GstError::EndOfStream { .. } => "the source ended the stream".into(),
            GstError::Interrupted(during) => format!("interrupted while {during}"),
            GstError::Frame(e) => e.clone(),
        }
    }
}

/// GStreamer debug strings start with the source location; the last line is the message.
fn last_line(debug: &str) -> &str {
    debug.lines().last().unwrap_or(debug).trim()
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
