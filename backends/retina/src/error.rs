//! retina's and the decoders' errors, mapped to the stream's kinds.

use rtsp_stream_core::raw::{BackendError, rtsp_status_kind};
use rtsp_stream_core::{Error, ErrorKind};

/// What went wrong inside this backend, before it becomes a public [`Error`] (with the
/// `retina::Error` as its source where there is one).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RetinaError {
    /// retina refused or lost the session. Its error is opaque apart from the RTSP status, so
    /// the rest is told from its text.
    #[error("{during}: {source}")]
    Rtsp {
        during: &'static str,
        source: retina::Error,
    },
    /// The host name did not resolve.
    #[error("resolving {host}: {why}")]
    Resolve { host: String, why: String },
    #[error("the source is not an RTSP URL this backend can open: {0}")]
    InvalidUrl(String),
    #[error(
        "rtsps:// is not supported by the retina backend (retina 0.4 has no TLS); use the \
         ffmpeg or gstreamer backend"
    )]
    Tls,
    #[error("the stream has no video track")]
    NoVideoStream,
    #[error("{what} cannot be decoded by {decoder}; {hint}")]
    Undecodable {
        what: String,
        decoder: &'static str,
        hint: &'static str,
    },
    #[error("the server ended the session")]
    SessionEnded,
    /// A redirect the backend would not follow.
    #[error("{why}: {target}")]
    RedirectRefused { target: String, why: &'static str },
    /// What happened at a redirect's target.
    #[error("redirected to {target}: {source}")]
    Redirected {
        target: String,
        source: Box<RetinaError>,
    },
    /// The core's own error (an interrupted wait, a refused frame size), passed through.
    #[error("{0}")]
    Core(Error),
}

impl BackendError for RetinaError {
    fn kind(&self) -> ErrorKind {
        match self {
            RetinaError::Rtsp { source, .. } => retina_kind(source),
            RetinaError::Resolve { .. } => ErrorKind::ConnectionRefused,
            RetinaError::InvalidUrl(_) => ErrorKind::InvalidSource,
            RetinaError::Tls | RetinaError::NoVideoStream | RetinaError::Undecodable { .. } => {
                ErrorKind::Unsupported
            }
            RetinaError::SessionEnded => ErrorKind::ConnectionLost,
            RetinaError::RedirectRefused { .. } => ErrorKind::InvalidSource,
            RetinaError::Redirected { source, .. } => source.kind(),
            RetinaError::Core(e) => e.kind(),
        }
    }

    fn into_native(self) -> Option<Box<dyn std::error::Error + Send + Sync>> {
        match self {
            RetinaError::Rtsp { source, .. } => Some(Box::new(source)),
            RetinaError::Redirected { source, .. } => source.into_native(),
            _ => None,
        }
    }
}

impl From<RetinaError> for Error {
    fn from(e: RetinaError) -> Error {
        match e {
            RetinaError::Core(e) => e,
            e => Error::from_backend(crate::NAME, e),
        }
    }
}

impl From<Error> for RetinaError {
    fn from(e: Error) -> Self {
        RetinaError::Core(e)
    }
}

/// The kind of a retina error: its RTSP status where it has one, else what its text says
/// (retina 0.4 exposes nothing else).
fn retina_kind(error: &retina::Error) -> ErrorKind {
    if let Some(kind) = error.status_code().and_then(rtsp_status_kind) {
        return kind;
    }
    if error.status_code().is_some() {
        // Any other refusal (a 5xx of a camera that is booting, a 454 after a restart).
        return ErrorKind::Other;
    }
    text_kind(&error.to_string())
}

fn text_kind(text: &str) -> ErrorKind {
    let has = |needle: &str| text.contains(needle);
    if has("Unable to connect") {
        if has("Connection refused") || has("unreachable") || has("No route") {
            ErrorKind::ConnectionRefused
        } else if has("timed out") {
            ErrorKind::Timeout
        } else {
            ErrorKind::ConnectionRefused
        }
    } else if has("Authentication requested and no credentials")
        || has("Unauthorized")
        || has("WWW-Authenticate")
    {
        ErrorKind::Authentication
    } else if has("Unsupported") || has("unsupported") {
        ErrorKind::Unsupported
    } else if has("Error reading from RTSP peer")
        || has("Error writing to RTSP peer")
        || has("EOF")
        || has("reset")
    {
        ErrorKind::ConnectionLost
    } else if has("Timeout") || has("timed out") {
        ErrorKind::Timeout
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_of_retina_errors_map_to_kinds() {
        for (text, kind) in [
            (
                "Unable to connect to RTSP server: Connection refused (os error 111)",
                ErrorKind::ConnectionRefused,
            ),
            (
                "Error reading from RTSP peer: Connection reset by peer (os error 104)",
                ErrorKind::ConnectionLost,
            ),
            (
                "401 Unauthorized response to DESCRIBE CSeq=1: Authentication requested and no \
                 credentials supplied",
                ErrorKind::Authentication,
            ),
            ("something new", ErrorKind::Other),
        ] {
            assert_eq!(text_kind(text), kind, "{text}");
        }
    }

    #[test]
    fn refusals_of_this_backend_are_permanent_and_name_the_way_out() {
        let e: Error = RetinaError::Tls.into();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("ffmpeg or gstreamer"), "{e}");
        let e: Error = RetinaError::Undecodable {
            what: "H.265".into(),
            decoder: "openh264",
            hint: "the libavcodec decoder (feature `ffmpeg`) decodes it",
        }
        .into();
        assert!(!e.is_transient());
        assert!(e.to_string().contains("libavcodec"), "{e}");
    }
}
