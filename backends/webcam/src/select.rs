//! Which camera a source names, which one to re-open, and which mode to ask for.

use crate::WebcamConfig;
use crate::device::{CameraMode, DeviceInfo, FourCc};

/// What the stream's source string names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selector {
    /// `"0"`: the camera listed under this index now.
    Index(u32),
    /// `"/dev/video0"`: a device node.
    Path(String),
    /// `"/dev/v4l/by-id/…"` or `"/dev/v4l/by-path/…"`: a stable link.
    Stable(String),
    /// Anything else: a camera name (case-insensitive; the first that matches).
    Name(String),
}

impl Selector {
    pub(crate) fn parse(source: &str) -> Selector {
        let source = source.trim();
        if let Ok(index) = source.parse::<u32>() {
            return Selector::Index(index);
        }
        if source.starts_with("/dev/v4l/") {
            return Selector::Stable(source.to_owned());
        }
        if source.starts_with("/dev/") {
            return Selector::Path(source.to_owned());
        }
        Selector::Name(source.to_owned())
    }

    pub(crate) fn find<'a>(&self, devices: &'a [DeviceInfo]) -> Option<&'a DeviceInfo> {
        devices.iter().find(|d| match self {
            Selector::Index(i) => d.index == *i,
            Selector::Path(p) => d.path.as_deref().is_some_and(|dp| dp.to_str() == Some(p)),
            Selector::Stable(s) => d.stable_id.as_deref() == Some(s.as_str()),
            Selector::Name(n) => d.name.eq_ignore_ascii_case(n),
        })
    }
}

/// The camera a stream opened first, remembered in the stream's memory so that a
/// reconnection opens the same camera even if its index now belongs to another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) stable_id: String,
    pub(crate) name: String,
}

impl Identity {
    pub(crate) fn of(device: &DeviceInfo) -> Option<Identity> {
        Some(Identity {
            stable_id: device.stable_id.clone()?,
            name: device.name.clone(),
        })
    }

    pub(crate) fn find<'a>(&self, devices: &'a [DeviceInfo]) -> Option<&'a DeviceInfo> {
        devices
            .iter()
            .find(|d| d.stable_id.as_deref() == Some(self.stable_id.as_str()))
    }
}

/// Formats this backend decodes, in the order it prefers them when the configuration does not
/// name one: MJPEG carries high resolutions at full frame rate over USB 2, YUYV is exact.
const PREFERENCE: [FourCc; 6] = [
    FourCc::Mjpeg,
    FourCc::Yuyv,
    FourCc::Nv12,
    FourCc::Rgb,
    FourCc::Bgr,
    FourCc::Gray,
];

/// The mode closest to what the configuration asks for. Fallback, in order: the requested
/// format if the camera has it (else the preferred one among those it has), then the
/// resolution closest in pixel count to the requested one (else the largest), then the frame
/// rate closest to the requested one (else the highest).
pub(crate) fn choose_mode(config: &WebcamConfig, modes: &[CameraMode]) -> Option<CameraMode> {
    let fourcc = config
        .format
        .filter(|f| modes.iter().any(|m| m.fourcc == *f))
        .or_else(|| {
            PREFERENCE
                .into_iter()
                .find(|f| modes.iter().any(|m| m.fourcc == *f))
        })?;
    let candidates = modes.iter().filter(|m| m.fourcc == fourcc);
    let pixels = |m: &CameraMode| u64::from(m.width) * u64::from(m.height);
    let size_score = |m: &CameraMode| match (config.width, config.height) {
        (Some(w), Some(h)) => (pixels(m).abs_diff(u64::from(w) * u64::from(h)), 0),
        (Some(w), None) => (u64::from(m.width.abs_diff(w)), 0),
        (None, Some(h)) => (u64::from(m.height.abs_diff(h)), 0),
        (None, None) => (0, u64::MAX - pixels(m)),
    };
    let fps_score = |m: &CameraMode| match config.fps {
        Some(f) => m.fps.abs_diff(f),
        None => u32::MAX - m.fps,
    };
    candidates
        .min_by_key(|m| (size_score(m), fps_score(m)))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modes() -> Vec<CameraMode> {
        vec![
            CameraMode::new(640, 480, 30, FourCc::Yuyv),
            CameraMode::new(1280, 720, 10, FourCc::Yuyv),
            CameraMode::new(640, 480, 30, FourCc::Mjpeg),
            CameraMode::new(1280, 720, 30, FourCc::Mjpeg),
            CameraMode::new(1280, 720, 60, FourCc::Mjpeg),
            CameraMode::new(1920, 1080, 30, FourCc::Mjpeg),
        ]
    }

    #[test]
    fn an_exact_request_is_honoured() {
        let config = WebcamConfig {
            width: Some(1280),
            height: Some(720),
            fps: Some(10),
            format: Some(FourCc::Yuyv),
            ..WebcamConfig::default()
        };
        assert_eq!(
            choose_mode(&config, &modes()),
            Some(CameraMode::new(1280, 720, 10, FourCc::Yuyv))
        );
    }

    #[test]
    fn unavailable_requests_fall_back_in_the_documented_order() {
        // No NV12: the preferred format (MJPEG); no 800x600: the closest pixel count (720p);
        // no 25 fps: the closest rate.
        let config = WebcamConfig {
            width: Some(1024),
            height: Some(768),
            fps: Some(25),
            format: Some(FourCc::Nv12),
            ..WebcamConfig::default()
        };
        assert_eq!(
            choose_mode(&config, &modes()),
            Some(CameraMode::new(1280, 720, 30, FourCc::Mjpeg))
        );
        // Nothing asked: the preferred format at its largest size and highest rate.
        assert_eq!(
            choose_mode(&WebcamConfig::default(), &modes()),
            Some(CameraMode::new(1920, 1080, 30, FourCc::Mjpeg))
        );
        assert_eq!(choose_mode(&WebcamConfig::default(), &[]), None);
    }

    #[test]
    fn sources_parse_into_selectors() {
        assert_eq!(Selector::parse("0"), Selector::Index(0));
        assert_eq!(
            Selector::parse("/dev/video2"),
            Selector::Path("/dev/video2".into())
        );
        assert_eq!(
            Selector::parse("/dev/v4l/by-id/usb-Cam_123-video-index0"),
            Selector::Stable("/dev/v4l/by-id/usb-Cam_123-video-index0".into())
        );
        assert_eq!(
            Selector::parse("HD Webcam"),
            Selector::Name("HD Webcam".into())
        );
    }
}
