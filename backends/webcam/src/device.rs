//! The camera system behind the backend: nokhwa in production, anything else (a scripted fake
//! in tests, another camera SDK) through the same two small traits.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

/// How a camera encodes its frames.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FourCc {
    /// Motion JPEG: one JPEG picture per frame.
    Mjpeg,
    /// YUYV 4:2:2: two bytes per pixel, `Y0 U Y1 V`.
    Yuyv,
    /// NV12: a luma plane, then interleaved U/V at half resolution.
    Nv12,
    /// 8-bit luma.
    Gray,
    /// Packed red, green, blue.
    Rgb,
    /// Packed blue, green, red.
    Bgr,
}

impl FourCc {
    /// The lower-case name (`"mjpeg"`, `"yuyv"` …), also the codec name in the stream's props.
    pub fn name(self) -> &'static str {
        match self {
            FourCc::Mjpeg => "mjpeg",
            FourCc::Yuyv => "yuyv",
            FourCc::Nv12 => "nv12",
            FourCc::Gray => "gray",
            FourCc::Rgb => "rgb",
            FourCc::Bgr => "bgr",
        }
    }
}

/// A mode a camera can run in.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CameraMode {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Encoding of the frames.
    pub fourcc: FourCc,
}

impl CameraMode {
    /// A mode of `width` × `height` at `fps` frames per second in `fourcc`.
    pub const fn new(width: u32, height: u32, fps: u32, fourcc: FourCc) -> Self {
        CameraMode {
            width,
            height,
            fps,
            fourcc,
        }
    }
}

/// A camera as the system lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Index the system lists it under now (`N` of `/dev/videoN` on Linux). May point at
    /// another camera after an unplug and replug.
    pub index: u32,
    /// Human-readable name. Two cameras of the same model share it.
    pub name: String,
    /// Device node (`/dev/video0`), where there is one.
    pub path: Option<PathBuf>,
    /// An identity that survives unplugging and re-enumeration: on Linux the
    /// `/dev/v4l/by-id/…` link (serial number), else the `/dev/v4l/by-path/…` link (USB port).
    pub stable_id: Option<String>,
    /// Modes it supports, where known without opening it.
    pub modes: Vec<CameraMode>,
}

/// Why a camera operation failed, in the categories the stream acts on.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceError {
    /// The camera is not there (unplugged, or never was). Transient.
    Missing(String),
    /// Another process holds the camera. Transient.
    Busy(String),
    /// The camera works but not in a way this backend can use (no decodable mode).
    Unsupported(String),
    /// Anything else, e.g. a read that failed mid-stream. Transient.
    Failed(String),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::Missing(m) => write!(f, "camera missing: {m}"),
            DeviceError::Busy(m) => write!(f, "camera busy: {m}"),
            DeviceError::Unsupported(m) => write!(f, "camera unsupported: {m}"),
            DeviceError::Failed(m) => write!(f, "camera failed: {m}"),
        }
    }
}

impl std::error::Error for DeviceError {}

/// One frame as the camera delivered it.
#[derive(Debug)]
pub struct RawFrame<'a> {
    /// The encoded bytes.
    pub data: Cow<'a, [u8]>,
    /// The mode they are in.
    pub mode: CameraMode,
}

/// What the backend asks of a camera system. Called on the stream's capture thread.
pub trait CameraSystem: Send + Sync + 'static {
    /// The cameras connected now.
    fn devices(&self) -> Result<Vec<DeviceInfo>, DeviceError>;

    /// Opens `device` and starts streaming in the mode `choose` picks among the modes the
    /// camera supports (it gets them all; an empty list means the camera would not say).
    fn open(
        &self,
        device: &DeviceInfo,
        choose: &dyn Fn(&[CameraMode]) -> Option<CameraMode>,
    ) -> Result<Box<dyn CameraStream>, DeviceError>;
}

/// A streaming camera, used only on the thread that opened it.
pub trait CameraStream {
    /// The mode in use.
    fn mode(&self) -> CameraMode;

    /// The next frame. May block for as long as the camera sends nothing: the stream's
    /// watchdog does not depend on it returning.
    fn frame(&mut self) -> Result<RawFrame<'_>, DeviceError>;

    /// Stops streaming and releases the camera.
    fn close(&mut self) {}
}
