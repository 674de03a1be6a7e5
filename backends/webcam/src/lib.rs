//! Local webcam backend of `rtsp-stream`, through nokhwa's native input (V4L2 on Linux,
//! AVFoundation on macOS, Media Foundation on Windows).
//!
//! Sources: a device index (`"0"`), a device node (`"/dev/video0"`), a stable link
//! (`"/dev/v4l/by-id/usb-…"`), or a camera name (case-insensitive, the first that matches).
//! [`list_devices`] shows what is connected.
//!
//! - **Re-open by identity.** The first connection remembers the camera's stable identity (its
//!   `/dev/v4l/by-id` link, i.e. its serial number, else its `/dev/v4l/by-path` link, i.e. its
//!   USB port). After an unplug, reconnections open that camera wherever it is listed now —
//!   never whatever camera took over its old index — and while it is absent every attempt is
//!   a transient [`ErrorKind::DeviceMissing`] the stream backs off on. A camera without a
//!   stable link is found again by the source as given.
//! - **Modes.** [`WebcamConfig`] asks for a format, resolution and frame rate; when the camera
//!   cannot honour them the closest mode wins, in this order: the requested format if
//!   offered (else MJPEG, YUYV, NV12, RGB, BGR, gray — the first offered), then the
//!   resolution closest in pixel count (else the largest), then the closest frame rate (else
//!   the highest).
//! - **Decoding.** MJPEG, YUYV and NV12 are decoded straight into the buffer the stream lends,
//!   in the requested pixel format (BGR by one swap pass after nokhwa's RGB decoder; gray from
//!   the luma where the format has it).
//! - **Bounded.** nokhwa's frame call blocks as long as the camera sends nothing (its V4L2
//!   poll has no timeout, and stopping needs the camera object, which the blocked call holds).
//!   The stream never waits on it: its watchdog notices the stall, and `stop()` returns
//!   within its bound, leaving the blocked thread behind muted until the camera answers or is
//!   unplugged (an unplugged camera ends the poll with an error).
//! - Errors: a missing camera and a camera held by another process ([`ErrorKind::DeviceBusy`])
//!   are transient; a camera with no decodable mode is [`ErrorKind::Unsupported`].
//!
//! The camera system is behind [`CameraSystem`]; tests drive the backend with a scripted one,
//! and other camera SDKs can be plugged in the same way.
//!
//! [`ErrorKind::DeviceMissing`]: rtsp_stream_core::ErrorKind::DeviceMissing
//! [`ErrorKind::DeviceBusy`]: rtsp_stream_core::ErrorKind::DeviceBusy
//! [`ErrorKind::Unsupported`]: rtsp_stream_core::ErrorKind::Unsupported
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod capture;
mod decode;
mod device;
mod error;
mod native;
mod open;
mod select;

use rtsp_stream_core::Error;
use std::sync::Arc;

pub use device::{
    CameraMode, CameraStream, CameraSystem, DeviceError, DeviceInfo, FourCc, RawFrame,
};
pub use native::NokhwaSystem;

/// The webcam backend. See the crate docs.
#[derive(Debug, Clone, Copy)]
pub struct WebcamBackend;

/// Settings specific to webcams: the mode to ask for, and the camera system.
#[non_exhaustive]
#[derive(Clone)]
pub struct WebcamConfig {
    /// Requested width (default: the largest the camera offers).
    pub width: Option<u32>,
    /// Requested height (default: the largest the camera offers).
    pub height: Option<u32>,
    /// Requested frame rate (default: the highest the camera offers).
    pub fps: Option<u32>,
    /// Requested encoding (default: MJPEG where offered, else YUYV …; see the crate docs).
    pub format: Option<FourCc>,
    /// Where cameras come from (default: [`NokhwaSystem`]).
    pub system: Arc<dyn CameraSystem>,
}

impl Default for WebcamConfig {
    fn default() -> Self {
        WebcamConfig {
            width: None,
            height: None,
            fps: None,
            format: None,
            system: Arc::new(NokhwaSystem),
        }
    }
}

impl std::fmt::Debug for WebcamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebcamConfig")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("fps", &self.fps)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

const NAME: &str = "webcam";
const LOG_TARGET: &str = "rtsp_stream::webcam";

/// The cameras connected now, with their stable identities. Modes are listed where the system
/// knows them without opening the camera (nokhwa does not: open the camera to learn them).
/// An empty list is not an error: there may be no camera.
pub fn list_devices() -> Result<Vec<DeviceInfo>, Error> {
    Ok(NokhwaSystem.devices()?)
}
