//! The one public error type.

use crate::quote::one_line;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The underlying error of an [`Error`], shared so that the error stays `Clone`.
type Source = Arc<dyn StdError + Send + Sync + 'static>;

/// What went wrong, in categories the reconnect loop and applications can act on.
///
/// New kinds may be added; match with a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The source string is not a valid URL, path or device (permanent).
    InvalidSource,
    /// The scheme, container or codec is not supported by this backend (permanent).
    Unsupported,
    /// The server or device does not have what was asked for, e.g. RTSP 404 or an unknown
    /// mount path (permanent: a wrong path does not fix itself).
    NotFound,
    /// The server rejected the credentials (RTSP/HTTP 401 or 403). Permanent: retrying a wrong
    /// password only locks accounts on many cameras.
    Authentication,
    /// Nothing listens at the address, or the host is unreachable (transient).
    ConnectionRefused,
    /// An established connection was reset or closed by the peer (transient).
    ConnectionLost,
    /// An open, first frame or read did not complete within its deadline (transient).
    Timeout,
    /// The data could not be decoded (transient: the next key frame usually recovers).
    Decode,
    /// A local camera is absent, e.g. unplugged (transient).
    DeviceMissing,
    /// A local camera is held by another process (transient).
    DeviceBusy,
    /// The server refused the requested transport, e.g. RTSP `461 Unsupported Transport` for
    /// an explicitly chosen TCP (permanent).
    TransportRefused,
    /// A configuration value is out of range (permanent).
    InvalidConfig,
    /// An argument of a call is out of range or unknown (a rate that is not finite and above
    /// 0, a key no camera has); the call changed nothing.
    InvalidArgument,
    /// `start()` on a stream that is already running.
    AlreadyStarted,
    /// No backend is compiled in, or the one asked for by name is not.
    BackendUnavailable,
    /// The call was cancelled by `stop()` or the watchdog.
    Cancelled,
    /// Anything else the backend reported (treated as transient: a camera that misbehaves
    /// now may work again later).
    Other,
}

impl ErrorKind {
    /// Whether the reconnect loop retries after an error of this kind.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionLost
                | ErrorKind::Timeout
                | ErrorKind::Decode
                | ErrorKind::DeviceMissing
                | ErrorKind::DeviceBusy
                | ErrorKind::Cancelled
                | ErrorKind::Other
        )
    }

    fn describe(self) -> &'static str {
        match self {
            ErrorKind::InvalidSource => "invalid source",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotFound => "not found",
            ErrorKind::Authentication => "authentication failed",
            ErrorKind::ConnectionRefused => "connection refused",
            ErrorKind::ConnectionLost => "connection lost",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Decode => "decode error",
            ErrorKind::DeviceMissing => "device missing",
            ErrorKind::DeviceBusy => "device busy",
            ErrorKind::TransportRefused => "transport refused",
            ErrorKind::InvalidConfig => "invalid configuration",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::AlreadyStarted => "already started",
            ErrorKind::BackendUnavailable => "backend unavailable",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Other => "error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The error of every fallible call in this library and of every backend.
///
/// It carries a [`kind`](Error::kind), the name of the backend that raised it (`"core"` for the
/// stream itself), a message, and optionally the decoder library's own error as its
/// [`source`](std::error::Error::source) (downcast it to the library's type, e.g.
/// `ffmpeg_next::Error`). Messages and sources that reach the stream are scrubbed of the
/// stream's credentials before they are stored, logged or shown. It is `Clone` (the source is
/// shared), so one error can be kept in the stats, sent with an event and returned to every
/// waiter.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    backend: &'static str,
    message: String,
    source: Option<Source>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.backend, self.kind)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// Errors are equal when their kind, backend and message are: sources are not compared (a
/// decoder's error type need not be comparable).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.backend == other.backend && self.message == other.message
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind)
            .field("backend", &self.backend)
            .field("message", &self.message);
        if let Some(source) = &self.source {
            // Display, not Debug: the Debug of a foreign error could show fields we never
            // scrubbed.
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl Error {
    /// A new error of `kind` raised by `backend` with a human-readable `message`.
    pub fn new(kind: ErrorKind, backend: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind,
            backend,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The backend that raised it (`"core"` for errors of the stream itself).
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The message, without the kind and backend prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the reconnect loop retries after this error. Connection refused, reset, end of
    /// a network stream, timeouts and stalls, a webcam that is unplugged or busy are transient;
    /// a malformed source, an unsupported scheme or codec, a missing path, a refused transport
    /// and an authentication failure are not.
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }

    /// The public error of a backend's own error `e`: its kind, its text as the message, and
    /// the decoder library's error it carries as the source.
    pub fn from_backend(backend: &'static str, e: impl BackendError) -> Self {
        let error = Error::new(e.kind(), backend, e.to_string());
        match e.into_native() {
            Some(native) => Error {
                source: Some(Arc::from(native)),
                ..error
            },
            None => error,
        }
    }

    pub(crate) fn core(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error::new(kind, "core", message)
    }

    /// Replaces every secret `redact` finds in the message and the source's text, and keeps
    /// both on one line of bounded length ([`one_line`]): they may quote what a camera sent.
    /// A source whose text changed is replaced by its scrubbed text (losing downcasting,
    /// keeping the password out of every printed form).
    pub(crate) fn scrubbed(mut self, redact: impl Fn(&str) -> String) -> Self {
        self.message = one_line(&redact(&self.message)).into_owned();
        if let Some(source) = self.source.take() {
            let text = source.to_string();
            let clean = one_line(&redact(&text)).into_owned();
            self.source = if clean == text {
                Some(source)
            } else {
                Some(Arc::new(ScrubbedSource(clean)))
            };
        }
        self
    }
}

/// A backend's own error type (private to the backend, usually a `thiserror` enum), turned into
/// the public [`Error`] by [`Error::from_backend`] in the backend's `From` impl.
pub trait BackendError: fmt::Display {
    /// The category the reconnect loop acts on.
    fn kind(&self) -> ErrorKind;

    /// The decoder library's own error inside, if any: it becomes the public error's source,
    /// so applications can downcast to it.
    fn into_native(self) -> Option<Box<dyn StdError + Send + Sync>>;
}

#[derive(Debug)]
struct ScrubbedSource(String);

impl fmt::Display for ScrubbedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for ScrubbedSource {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_backend_kind_and_message() {
        let e = Error::new(ErrorKind::ConnectionRefused, "ffmpeg", "127.0.0.1:554");
        assert_eq!(e.to_string(), "ffmpeg: connection refused: 127.0.0.1:554");
        assert_eq!(
            Error::new(ErrorKind::Timeout, "core", "").to_string(),
            "core: timed out"
        );
    }

    #[test]
    fn transient_classification() {
        for kind in [
            ErrorKind::ConnectionRefused,
            ErrorKind::ConnectionLost,
            ErrorKind::Timeout,
            ErrorKind::DeviceMissing,
            ErrorKind::DeviceBusy,
        ] {
            assert!(kind.is_transient(), "{kind:?}");
        }
        for kind in [
            ErrorKind::InvalidSource,
            ErrorKind::Unsupported,
            ErrorKind::Authentication,
            ErrorKind::NotFound,
            ErrorKind::TransportRefused,
        ] {
            assert!(!kind.is_transient(), "{kind:?}");
        }
    }

    #[test]
    fn a_backend_error_keeps_its_native_error_as_the_source() {
        struct Refused(std::io::Error);
        impl fmt::Display for Refused {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "connecting: {}", self.0)
            }
        }
        impl BackendError for Refused {
            fn kind(&self) -> ErrorKind {
                ErrorKind::ConnectionRefused
            }
            fn into_native(self) -> Option<Box<dyn StdError + Send + Sync>> {
                Some(Box::new(self.0))
            }
        }
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = Error::from_backend("x", Refused(io));
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        assert!(e.message().starts_with("connecting: "), "{e}");
        let clone = e.clone();
        let source = StdError::source(&clone).expect("a source");
        assert_eq!(
            source.downcast_ref::<std::io::Error>().map(|e| e.kind()),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
    }

    #[test]
    fn scrubbing_replaces_secret_in_message_and_source() {
        let io = std::io::Error::other("connect to rtsp://u:hunter2@cam failed");
        let e = Error::new(ErrorKind::ConnectionLost, "x", "hunter2 rejected")
            .with_source(io)
            .scrubbed(|s| s.replace("hunter2", "***"));
        assert!(!e.to_string().contains("hunter2"));
        assert!(!format!("{e:?}").contains("hunter2"));
        let src = StdError::source(&e).unwrap().to_string();
        assert_eq!(src, "connect to rtsp://u:***@cam failed");
    }
}
