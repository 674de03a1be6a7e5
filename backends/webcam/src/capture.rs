//! Reading from an open camera.

use crate::decode::{Undecoded, decode};
use crate::device::CameraStream;
use rtsp_stream_core::raw::{Capture, CaptureContext, FrameSink, ReadStatus};
use rtsp_stream_core::{Result, StreamProps};

/// A streaming camera, owned by the capture thread (reachable only as
/// `<WebcamBackend as CaptureBackend>::Capture`).
pub struct WebcamCapture {
    pub(crate) stream: Box<dyn CameraStream>,
    pub(crate) name: String,
    pub(crate) scratch: Vec<u8>,
    pub(crate) props: StreamProps,
}

impl Capture for WebcamCapture {
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext) -> Result<ReadStatus> {
        loop {
            ctx.checkpoint("waiting for a frame")?;
            // Blocks for as long as the camera sends nothing (nokhwa's V4L2 poll has no
            // timeout); the stream's watchdog and stop() do not wait for it.
            let frame = self.stream.frame()?;
            ctx.checkpoint("decoding a frame")?;
            // Every picture of a local camera stands alone (MJPEG, YUYV, NV12): each is a key
            // frame, and one over the decode mode's rate is neither decoded nor converted.
            if !(ctx.should_decode(true, || true) && ctx.should_convert()) {
                continue;
            }
            match decode(&frame.data, frame.mode, sink, &mut self.scratch) {
                Ok(()) => {
                    self.props.width = frame.mode.width;
                    self.props.height = frame.mode.height;
                    return Ok(ReadStatus::Frame);
                }
                Err(Undecoded::Damaged(why)) => {
                    // A damaged frame (a torn MJPEG picture): skip it, count it.
                    log::debug!(target: crate::LOG_TARGET, "{}: {why}", self.name);
                    ctx.report_decode_error();
                }
                Err(Undecoded::Refused(error)) => return Err(error),
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
