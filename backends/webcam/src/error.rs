//! Camera failures, mapped to the stream's kinds.

use crate::device::DeviceError;
use rtsp_stream_core::raw::BackendError;
use rtsp_stream_core::{Error, ErrorKind};

impl BackendError for DeviceError {
    fn kind(&self) -> ErrorKind {
        match self {
            DeviceError::Missing(_) => ErrorKind::DeviceMissing,
            DeviceError::Busy(_) => ErrorKind::DeviceBusy,
            DeviceError::Unsupported(_) => ErrorKind::Unsupported,
            DeviceError::Failed(_) => ErrorKind::ConnectionLost,
        }
    }

    /// The camera system's error is the native one: whatever a `CameraSystem` reports.
    fn into_native(self) -> Option<Box<dyn std::error::Error + Send + Sync>> {
        Some(Box::new(self))
    }
}

impl From<DeviceError> for Error {
    fn from(e: DeviceError) -> Error {
        Error::from_backend(crate::NAME, e)
    }
}
