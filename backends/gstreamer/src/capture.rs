//! A playing pipeline: waiting for the connection, pulling frames, watching the bus.

use crate::GstreamerConfig;
use crate::error::GstError;
use crate::pipeline::Built;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use rtsp_stream_core::{
    Capture, CaptureContext, Error, FrameSink, ReadStatus, StreamProps, Transport,
};
use std::time::Duration;

/// A playing GStreamer pipeline, owned by the capture thread. Dropping it sets the pipeline to
/// NULL.
pub struct GstreamerCapture {
    built: Built,
    bus: gst::Bus,
    network: bool,
    pull_slice: Duration,
    /// Caps of the last sample and the layout they describe; parsed again only when they
    /// change.
    info: Option<(gst::Caps, gst_video::VideoInfo)>,
    props: StreamProps,
}

impl std::fmt::Debug for GstreamerCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GstreamerCapture")
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

const FILTER: &[gst::MessageType] = &[gst::MessageType::Error, gst::MessageType::Eos];

impl GstreamerCapture {
    /// Plays `built` and waits until the source is connected, an error arrives, or `ctx` says
    /// to stop.
    pub(crate) fn start(
        built: Built,
        config: &GstreamerConfig,
        ctx: &CaptureContext,
        network: bool,
        transport: Option<Transport>,
    ) -> Result<Self, GstError> {
        let bus = built.pipeline.bus().expect("a pipeline has a bus");
        let capture = GstreamerCapture {
            built,
            bus,
            network,
            pull_slice: config.pull_slice.max(Duration::from_millis(1)),
            info: None,
            props: StreamProps {
                transport: transport.map(Transport::name),
                ..StreamProps::default()
            },
        };
        capture.start_playing(ctx)
    }

    fn start_playing(mut self, ctx: &CaptureContext) -> Result<Self, GstError> {
        if self.built.pipeline.set_state(gst::State::Playing).is_err() {
            // The reason, if any, is on the bus.
            return Err(self
                .bus
                .pop_filtered(FILTER)
                .map_or(GstError::StateChange, |m| self.message_error(&m)));
        }
        loop {
            if ctx.should_stop() {
                return Err(GstError::Interrupted("opening"));
            }
            if let Some(codec) = self.built.opened() {
                self.props.codec = codec;
                return Ok(self);
            }
            if let Some(message) = self.bus.timed_pop_filtered(self.slice(ctx), FILTER) {
                return Err(self.message_error(&message));
            }
        }
    }

    /// The next wait: one pull slice, or less if the deadline is nearer.
    fn slice(&self, ctx: &CaptureContext) -> gst::ClockTime {
        let slice = ctx
            .remaining()
            .map_or(self.pull_slice, |r| r.min(self.pull_slice))
            .max(Duration::from_millis(1));
        gst::ClockTime::from_nseconds(slice.as_nanos() as u64)
    }

    fn message_error(&self, message: &gst::Message) -> GstError {
        match message.view() {
            gst::MessageView::Error(e) => {
                let from_rtspsrc = message
                    .src()
                    .and_then(|s| s.downcast_ref::<gst::Element>())
                    .and_then(|e| e.factory())
                    .is_some_and(|f| f.name() == "rtspsrc");
                GstError::from_bus(e.error(), e.debug().as_deref(), from_rtspsrc)
            }
            _ => GstError::EndOfStream {
                network: self.network,
            },
        }
    }

    /// Copies the sample's picture into the lent buffer, row by row when GStreamer padded the
    /// rows.
    fn deliver(&mut self, sample: &gst::Sample, sink: &mut FrameSink<'_>) -> Result<(), GstError> {
        let caps = sample
            .caps()
            .ok_or_else(|| GstError::Frame("a sample without caps".into()))?;
        if self
            .info
            .as_ref()
            .is_none_or(|(known, _)| known.as_ptr() != caps.as_ptr() && known != caps)
        {
            let info = gst_video::VideoInfo::from_caps(caps)
                .map_err(|e| GstError::Frame(format!("unreadable caps: {e}")))?;
            self.props.width = info.width();
            self.props.height = info.height();
            let fps = info.fps();
            self.props.fps = (fps.denom() != 0)
                .then(|| fps.numer() as f64 / fps.denom() as f64)
                .filter(|f| (1.0..=120.0).contains(f));
            self.props.pixel_format = Some(sink.pixel_format());
            self.info = Some((caps.to_owned(), info));
        }
        let (_, info) = self.info.as_ref().expect("set above");
        let buffer = sample
            .buffer()
            .ok_or_else(|| GstError::Frame("a sample without a buffer".into()))?;
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, info)
            .map_err(|_| GstError::Frame("the buffer cannot be mapped".into()))?;
        let (w, h) = (info.width(), info.height());
        let row = w as usize * sink.pixel_format().bytes_per_pixel();
        let stride = frame.plane_stride()[0] as usize;
        let data = frame
            .plane_data(0)
            .map_err(|_| GstError::Frame("the buffer has no picture".into()))?;
        if data.len() < stride * (h as usize - 1) + row {
            return Err(GstError::Frame(
                "the buffer is shorter than its caps".into(),
            ));
        }
        let out = sink.buffer(w, h);
        if stride == row {
            out.copy_from_slice(&data[..row * h as usize]);
        } else {
            for (dst, src) in out.chunks_exact_mut(row).zip(data.chunks(stride)) {
                dst.copy_from_slice(&src[..row]);
            }
        }
        sink.set_pts(buffer.pts().map(|t| Duration::from_nanos(t.nseconds())));
        sink.set_key_frame(!buffer.flags().contains(gst::BufferFlags::DELTA_UNIT));
        Ok(())
    }
}

impl Capture for GstreamerCapture {
    fn read(
        &mut self,
        sink: &mut FrameSink<'_>,
        ctx: &CaptureContext,
    ) -> Result<ReadStatus, Error> {
        loop {
            if ctx.should_stop() {
                return Err(ctx.interrupted_error("waiting for a frame"));
            }
            if let Some(message) = self.bus.pop_filtered(FILTER) {
                return match self.message_error(&message) {
                    GstError::EndOfStream { network: false } => Ok(ReadStatus::EndOfStream),
                    e => Err(e.into_error(ctx)),
                };
            }
            if let Some(sample) = self.built.appsink.try_pull_sample(self.slice(ctx)) {
                self.deliver(&sample, sink).map_err(|e| e.into_error(ctx))?;
                return Ok(ReadStatus::Frame);
            }
            if self.built.appsink.is_eos() && !self.network {
                return Ok(ReadStatus::EndOfStream);
            }
        }
    }

    fn props(&self) -> StreamProps {
        self.props.clone()
    }

    fn close(&mut self, _ctx: &CaptureContext) {
        // Downward state changes are synchronous; rtspsrc's TEARDOWN wait is bounded by its
        // teardown-timeout (pipeline.rs).
        let _ = self.built.pipeline.set_state(gst::State::Null);
    }
}

impl Drop for GstreamerCapture {
    fn drop(&mut self) {
        let _ = self.built.pipeline.set_state(gst::State::Null);
    }
}
