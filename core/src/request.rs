//! What a backend is asked to open.

use crate::memory::StreamMemory;
use crate::options::StreamOptions;
use crate::redact::{Credentials, Registration, SourceUrl};
use crate::transport::Transport;
use std::sync::Arc;

/// Everything backend-neutral that [`CaptureBackend::open`](crate::CaptureBackend::open) needs.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    pub(crate) source: SourceUrl,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) options: StreamOptions,
    /// Shared by clones: one memory per stream.
    memory: Arc<StreamMemory>,
    /// The source's secrets, registered process-wide while the request lives, for text that
    /// does not say which stream it is about (a decoder library's log, a panic message).
    _registration: Option<Arc<Registration>>,
}

impl OpenRequest {
    /// A request for `source` with the given options (for driving a backend directly, e.g.
    /// in its own tests).
    pub fn new(
        source: impl Into<SourceUrl>,
        credentials: Option<Credentials>,
        options: StreamOptions,
    ) -> Self {
        let mut source = source.into();
        if let Some(c) = &credentials {
            source.add_credentials(c);
        }
        let registration = Registration::new(source.secrets()).map(Arc::new);
        OpenRequest {
            source,
            credentials,
            options,
            memory: Arc::default(),
            _registration: registration,
        }
    }

    /// What the backend remembers across this stream's connections (see [`StreamMemory`]).
    pub fn memory(&self) -> &StreamMemory {
        &self.memory
    }

    /// The source as given (its printable form is redacted).
    pub fn source(&self) -> &SourceUrl {
        &self.source
    }

    /// Credentials given apart from the URL, or else those inside the URL.
    pub fn credentials(&self) -> Option<Credentials> {
        self.credentials
            .clone()
            .or_else(|| self.source.credentials())
    }

    /// The URL with the effective credentials inside it, percent-encoded (so that a password
    /// holding `@`, `/`, `?` or `#` reaches the decoder intact), for decoders that only take
    /// them that way. Never log it.
    pub fn url_with_credentials(&self) -> String {
        match self.credentials() {
            Some(c) => self.source.with_credentials(&c),
            None => self.source.expose().to_owned(),
        }
    }

    /// Deadlines, transport, pixel format and the other backend-neutral options.
    pub fn options(&self) -> &StreamOptions {
        &self.options
    }

    /// The requested transport.
    pub fn transport(&self) -> Transport {
        self.options.transport
    }

    /// Removes the request's secrets (URL password, separate password, secret query values)
    /// and any URL user-info from `text`.
    pub fn redact(&self, text: &str) -> String {
        self.source.redact(text)
    }
}
