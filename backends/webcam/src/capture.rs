//! Opening the camera a source names (or the one it named before) and reading from it.

use crate::WebcamConfig;
use crate::decode::decode;
use crate::device::{CameraStream, DeviceError};
use crate::select::{Identity, Selector, choose_mode};
use rtsp_stream_core::{
    Capture, CaptureContext, Error, ErrorKind, FrameSink, OpenRequest, ReadStatus, StreamProps,
};

/// A streaming camera, owned by the capture thread.
pub struct WebcamCapture {
    stream: Box<dyn CameraStream>,
    name: String,
    scratch: Vec<u8>,
    props: StreamProps,
}

impl std::fmt::Debug for WebcamCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebcamCapture")
            .field("name", &self.name)
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

pub(crate) fn open(
    config: &WebcamConfig,
    request: &OpenRequest,
    ctx: &CaptureContext,
) -> Result<WebcamCapture, Error> {
    let devices = config.system.devices().map_err(to_error)?;
    let remembered = request.memory().get::<Identity>();
    let device = match &remembered {
        // Re-open the camera opened before, wherever it is listed now: its old index may
        // belong to another camera after an unplug.
        Some(identity) => identity.find(&devices).ok_or_else(|| {
            to_error(DeviceError::Missing(format!(
                "{} ({}) is not connected",
                identity.name, identity.stable_id
            )))
        })?,
        None => Selector::parse(request.source().expose())
            .find(&devices)
            .ok_or_else(|| {
                to_error(DeviceError::Missing(format!(
                    "no camera matches {:?} ({} connected)",
                    request.source().redacted(),
                    devices.len()
                )))
            })?,
    };
    if ctx.should_stop() {
        return Err(ctx.interrupted_error("opening the camera"));
    }
    let stream = config
        .system
        .open(device, &|modes| choose_mode(config, modes))
        .map_err(to_error)?;
    if remembered.is_none()
        && let Some(identity) = Identity::of(device)
    {
        request.memory().set(identity);
    }
    let mode = stream.mode();
    log::info!(
        target: crate::LOG_TARGET,
        "{} opened: {}x{} {} at {} fps",
        device.name,
        mode.width,
        mode.height,
        mode.fourcc.name(),
        mode.fps
    );
    Ok(WebcamCapture {
        stream,
        name: device.name.clone(),
        scratch: Vec::new(),
        props: StreamProps {
            fps: Some(f64::from(mode.fps)).filter(|f| (1.0..=120.0).contains(f)),
            width: mode.width,
            height: mode.height,
            codec: Some(mode.fourcc.name().to_owned()),
            pixel_format: Some(request.options().pixel_format),
            transport: None,
        },
    })
}

impl Capture for WebcamCapture {
    fn read(
        &mut self,
        sink: &mut FrameSink<'_>,
        ctx: &CaptureContext,
    ) -> Result<ReadStatus, Error> {
        loop {
            if ctx.should_stop() {
                return Err(ctx.interrupted_error("waiting for a frame"));
            }
            // Blocks for as long as the camera sends nothing (nokhwa's V4L2 poll has no
            // timeout); the stream's watchdog and stop() do not wait for it.
            let frame = self.stream.frame().map_err(to_error)?;
            if ctx.is_cancelled() {
                return Err(ctx.interrupted_error("waiting for a frame"));
            }
            match decode(&frame.data, frame.mode, sink, &mut self.scratch) {
                Ok(()) => {
                    self.props.width = frame.mode.width;
                    self.props.height = frame.mode.height;
                    return Ok(ReadStatus::Frame);
                }
                Err(why) => {
                    // A damaged frame (a torn MJPEG picture): skip it, count it.
                    log::debug!(target: crate::LOG_TARGET, "{}: {why}", self.name);
                    ctx.report_decode_error();
                }
            }
        }
    }

    fn props(&self) -> StreamProps {
        self.props.clone()
    }

    fn close(&mut self, _ctx: &CaptureContext) {
        self.stream.close();
    }
}

pub(crate) fn to_error(e: DeviceError) -> Error {
    let kind = match &e {
        DeviceError::Missing(_) => ErrorKind::DeviceMissing,
        DeviceError::Busy(_) => ErrorKind::DeviceBusy,
        DeviceError::Unsupported(_) => ErrorKind::Unsupported,
        DeviceError::Failed(_) => ErrorKind::ConnectionLost,
    };
    Error::new(kind, crate::NAME, e.to_string())
}
