//! The real camera system: nokhwa's native input (V4L2 on Linux).

use crate::device::{
    CameraMode, CameraStream, CameraSystem, DeviceError, DeviceInfo, FourCc, RawFrame,
};
use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};
use std::path::{Path, PathBuf};

/// Cameras through nokhwa. The default [`CameraSystem`] of
/// [`WebcamConfig`](crate::WebcamConfig).
#[derive(Debug, Clone, Copy, Default)]
pub struct NokhwaSystem;

impl CameraSystem for NokhwaSystem {
    fn devices(&self) -> Result<Vec<DeviceInfo>, DeviceError> {
        let cameras = nokhwa::query(ApiBackend::Auto).map_err(|e| classify(&e.to_string()))?;
        let links = stable_links();
        Ok(cameras
            .into_iter()
            .filter_map(|info| {
                let CameraIndex::Index(index) = info.index() else {
                    return None;
                };
                let index = *index;
                let path =
                    cfg!(target_os = "linux").then(|| PathBuf::from(format!("/dev/video{index}")));
                let stable_id = path.as_deref().and_then(|p| stable_id(p, &links));
                Some(DeviceInfo {
                    index,
                    name: info.human_name(),
                    path,
                    stable_id,
                    modes: Vec::new(),
                })
            })
            .collect())
    }

    fn open(
        &self,
        device: &DeviceInfo,
        choose: &dyn Fn(&[CameraMode]) -> Option<CameraMode>,
    ) -> Result<Box<dyn CameraStream>, DeviceError> {
        let index = CameraIndex::Index(device.index);
        let any = RequestedFormat::new::<RgbFormat>(RequestedFormatType::None);
        let mut camera = Camera::new(index, any).map_err(|e| classify(&e.to_string()))?;
        let modes: Vec<CameraMode> = camera
            .compatible_camera_formats()
            .unwrap_or_default()
            .into_iter()
            .filter_map(to_mode)
            .collect();
        if let Some(mode) = choose(&modes) {
            let fourcc = [from_fourcc(mode.fourcc)];
            let format = CameraFormat::new_from(mode.width, mode.height, fourcc[0], mode.fps);
            let exact = RequestedFormat::with_formats(RequestedFormatType::Exact(format), &fourcc);
            camera
                .set_camera_requset(exact)
                .map_err(|e| classify(&e.to_string()))?;
        }
        let mode = to_mode(camera.camera_format()).ok_or_else(|| {
            DeviceError::Unsupported(format!(
                "{} delivers no format this backend decodes",
                device.name
            ))
        })?;
        camera.open_stream().map_err(|e| classify(&e.to_string()))?;
        Ok(Box::new(NokhwaStream { camera, mode }))
    }
}

struct NokhwaStream {
    camera: Camera,
    mode: CameraMode,
}

impl CameraStream for NokhwaStream {
    fn mode(&self) -> CameraMode {
        self.mode
    }

    fn frame(&mut self) -> Result<RawFrame<'_>, DeviceError> {
        let data = self
            .camera
            .frame_raw()
            .map_err(|e| classify(&e.to_string()))?;
        Ok(RawFrame {
            data,
            mode: self.mode,
        })
    }

    fn close(&mut self) {
        let _ = self.camera.stop_stream();
    }
}

fn to_mode(format: CameraFormat) -> Option<CameraMode> {
    let fourcc = match format.format() {
        FrameFormat::MJPEG => FourCc::Mjpeg,
        FrameFormat::YUYV => FourCc::Yuyv,
        FrameFormat::NV12 => FourCc::Nv12,
        FrameFormat::GRAY => FourCc::Gray,
        FrameFormat::RAWRGB => FourCc::Rgb,
        FrameFormat::RAWBGR => FourCc::Bgr,
    };
    Some(CameraMode::new(
        format.width(),
        format.height(),
        format.frame_rate(),
        fourcc,
    ))
}

fn from_fourcc(fourcc: FourCc) -> FrameFormat {
    match fourcc {
        FourCc::Mjpeg => FrameFormat::MJPEG,
        FourCc::Yuyv => FrameFormat::YUYV,
        FourCc::Nv12 => FrameFormat::NV12,
        FourCc::Gray => FrameFormat::GRAY,
        FourCc::Rgb => FrameFormat::RAWRGB,
        FourCc::Bgr => FrameFormat::RAWBGR,
    }
}

/// nokhwa reports errors as text around the OS error: sort them by errno.
pub(crate) fn classify(message: &str) -> DeviceError {
    let m = message.to_owned();
    if message.contains("os error 16") || message.to_ascii_lowercase().contains("busy") {
        DeviceError::Busy(m)
    } else if ["os error 2)", "os error 19)", "os error 6)", "No such"]
        .iter()
        .any(|s| message.contains(s))
    {
        DeviceError::Missing(m)
    } else {
        DeviceError::Failed(m)
    }
}

/// The `/dev/v4l/by-id` and `/dev/v4l/by-path` links, resolved: (link, target node).
fn stable_links() -> Vec<(PathBuf, PathBuf)> {
    ["/dev/v4l/by-id", "/dev/v4l/by-path"]
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let link = entry.path();
            let target = std::fs::canonicalize(&link).ok()?;
            Some((link, target))
        })
        .collect()
}

/// The first stable link (by-id before by-path) that points at `node`.
fn stable_id(node: &Path, links: &[(PathBuf, PathBuf)]) -> Option<String> {
    links
        .iter()
        .find(|(_, target)| target == node)
        .map(|(link, _)| link.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nokhwa_errors_are_sorted_by_errno() {
        assert!(matches!(
            classify(
                "Could not open device 0: Failed to open device (No such file or directory (os error 2))"
            ),
            DeviceError::Missing(_)
        ));
        assert!(matches!(
            classify("Could not open device stream: Device or resource busy (os error 16)"),
            DeviceError::Busy(_)
        ));
        assert!(matches!(
            classify("Could not capture frame: timeout"),
            DeviceError::Failed(_)
        ));
    }

    #[test]
    fn stable_links_prefer_by_id() {
        let node = PathBuf::from("/dev/video3");
        let links = vec![
            (
                PathBuf::from("/dev/v4l/by-id/usb-Cam_42-video-index0"),
                node.clone(),
            ),
            (
                PathBuf::from("/dev/v4l/by-path/pci-0000:00:14.0-usb-0:2:1.0-video-index0"),
                node.clone(),
            ),
        ];
        assert_eq!(
            stable_id(&node, &links).as_deref(),
            Some("/dev/v4l/by-id/usb-Cam_42-video-index0")
        );
        assert_eq!(stable_id(Path::new("/dev/video0"), &links), None);
    }
}
