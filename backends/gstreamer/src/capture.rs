//! A playing pipeline: waiting for the connection, pulling frames, watching the bus.

use crate::GstreamerConfig;
use crate::camera_clock::{CameraClock, Report, RtpStamps};
use crate::error::GstError;
use crate::sockets::OpenWatch;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use rtsp_stream_core::raw::{
    Capture, CaptureContext, FrameSink, Plane, ReadStatus, YuvLayout, YuvMatrix, YuvPicture,
    YuvRange, plausible_fps,
};
use rtsp_stream_core::{Result, StreamProps, Transport};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A pipeline ready to be played, and what its signal handlers learn while it starts.
pub(crate) struct Built {
    pub(crate) pipeline: gst::Pipeline,
    pub(crate) appsink: gst_app::AppSink,
    /// Set once the source is connected (RTSP session set up, or a video stream found), with
    /// the codec name where known.
    pub(crate) opened: Arc<Mutex<Option<Option<String>>>>,
    /// Set when rtspsrc was offered a video stream (its session description had one).
    pub(crate) video_offered: Arc<AtomicBool>,
    /// The picture size a decoder's caps declared over the stream's limit (see `SizeGuard`).
    pub(crate) refused_size: Arc<Mutex<Option<(u32, u32)>>>,
    /// Packets reported lost to the depayloaders (see `SizeGuard`).
    pub(crate) lost_packets: Arc<AtomicU64>,
    /// When rtpbin last heard RTCP from the camera (its sender reports).
    pub(crate) last_report: Arc<Mutex<Option<Report>>>,
    /// The RTP time stamps of the packets on their way to the decoder.
    pub(crate) rtp_stamps: Arc<RtpStamps>,
}

impl Built {
    fn opened(&self) -> Option<Option<String>> {
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A playing GStreamer pipeline, owned by the capture thread (reachable only as
/// `<GstreamerBackend as CaptureBackend>::Capture`). Dropping it sets the pipeline to NULL.
pub struct GstreamerCapture {
    built: Built,
    bus: gst::Bus,
    network: bool,
    pull_slice: Duration,
    /// The sockets before an RTSP open, until the source is connected: what to shut down if
    /// the open is abandoned (see `sockets`).
    open_watch: Option<OpenWatch>,
    /// Caps of the last sample and the layout they describe; parsed again only when they
    /// change.
    info: Option<(gst::Caps, gst_video::VideoInfo)>,
    props: StreamProps,
    /// Lost packets seen so far, and the time stamp of the last picture delivered: after a
    /// loss, the gap to the next picture is what the depayloader skipped.
    losses_seen: u64,
    last_pts: Option<Duration>,
    keep_alive: Option<KeepAlive>,
    camera_clock: CameraClock,
}

/// RTSP keep-alives over TCP (see [`GstreamerConfig::keep_alive`]).
struct KeepAlive {
    rtspsrc: gst::Element,
    every: Duration,
    last: Instant,
    /// The previous request is still unanswered. rtspsrc 1.22 aborts the process (an
    /// assertion in its `get_parameter`) when requests pile up on a task too busy to send
    /// them — seen with 128 cameras on two saturated cores — so one at a time.
    pending: Arc<AtomicBool>,
}

impl KeepAlive {
    /// Sends a `GET_PARAMETER` on the session if one is due. rtspsrc queues it for its own
    /// thread and reads the answer there; the call does not wait.
    fn tick(&mut self) -> bool {
        if self.last.elapsed() < self.every || self.pending.load(Ordering::Acquire) {
            return true;
        }
        self.last = Instant::now();
        self.pending.store(true, Ordering::Release);
        let pending = Arc::clone(&self.pending);
        // Answered, refused, interrupted or dropped: the next one may go.
        let promise =
            gst::Promise::with_change_func(move |_| pending.store(false, Ordering::Release));
        // rtspsrc refuses an empty parameter list; the body names one that every camera may
        // answer "451 Parameter Not Understood" to, which still refreshes the session.
        self.rtspsrc
            .emit_by_name::<bool>("get-parameter", &[&"keep-alive", &None::<&str>, &promise])
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
        open_watch: Option<OpenWatch>,
        transport: Option<Transport>,
        clock_step_threshold: Duration,
    ) -> Result<Self> {
        let bus = built.pipeline.bus().expect("a pipeline has a bus");
        let last_report = Arc::clone(&built.last_report);
        let rtp_stamps = Arc::clone(&built.rtp_stamps);
        let capture = GstreamerCapture {
            built,
            bus,
            network,
            pull_slice: config.pull_slice.max(Duration::from_millis(1)),
            open_watch,
            info: None,
            losses_seen: 0,
            last_pts: None,
            keep_alive: None,
            camera_clock: CameraClock::new(clock_step_threshold, last_report, rtp_stamps),
            props: {
                let mut props = StreamProps::default();
                props.transport = transport;
                props
            },
        };
        capture.start_playing(ctx, config.keep_alive)
    }

    fn start_playing(mut self, ctx: &CaptureContext, every: Option<Duration>) -> Result<Self> {
        let rtspsrc = self.rtspsrc();
        if rtspsrc.is_some() {
            self.open_paused(ctx)?;
        }
        // Over UDP, rtspsrc's own keep-alives work: its connection is idle.
        let keep_alive = rtspsrc
            .zip(every)
            .filter(|_| self.props.transport == Some(Transport::Tcp))
            // The action exists since GStreamer 1.14; an older rtspsrc keeps its own rule.
            .filter(|(rtspsrc, _)| {
                gst::glib::subclass::signal::SignalId::lookup("get-parameter", rtspsrc.type_())
                    .is_some()
            })
            .map(|(rtspsrc, every)| KeepAlive {
                rtspsrc,
                every,
                last: Instant::now(),
                pending: Arc::default(),
            });
        if self.built.pipeline.set_state(gst::State::Playing).is_err() {
            // The reason, if any, is on the bus.
            return Err(self
                .bus
                .pop_filtered(FILTER)
                .map_or(GstError::StateChange, |m| self.message_error(&m))
                .into());
        }
        loop {
            self.claim_connection();
            ctx.checkpoint("opening")?;
            if let Some(codec) = self.built.opened() {
                self.props.codec = codec;
                self.open_watch = None;
                self.keep_alive = keep_alive;
                return Ok(self);
            }
            if let Some(message) = self.bus.timed_pop_filtered(self.slice(ctx), FILTER) {
                return Err(self.message_error(&message).into());
            }
        }
    }

    /// Recognises rtspsrc's connection as it appears, for `close` to end it if the open is
    /// abandoned (see `sockets`).
    fn claim_connection(&mut self) {
        if let Some(watch) = &mut self.open_watch {
            watch.claim();
        }
    }

    fn rtspsrc(&self) -> Option<gst::Element> {
        self.built
            .pipeline
            .iterate_recurse()
            .into_iter()
            .find_map(|e| {
                e.ok()
                    .filter(|e| e.factory().is_some_and(|f| f.name() == "rtspsrc"))
            })
    }

    /// Takes an RTSP pipeline to PAUSED, where rtspsrc opens the session (OPTIONS, DESCRIBE,
    /// SETUP), and waits until it says it has. Only then may it go to PLAYING: rtspsrc leaves
    /// PLAYING only once its task is idle and does not interrupt an open to get there, so a
    /// peer that drips its answer (or sends a header line without end) would hold a pipeline
    /// on its way to NULL — thread and sockets — for as long as the peer likes. From PAUSED,
    /// going to NULL interrupts the open at once.
    fn open_paused(&mut self, ctx: &CaptureContext) -> Result<()> {
        if self.built.pipeline.set_state(gst::State::Paused).is_err() {
            return Err(self
                .bus
                .pop_filtered(FILTER)
                .map_or(GstError::StateChange, |m| self.message_error(&m))
                .into());
        }
        const OPENING: &[gst::MessageType] = &[
            gst::MessageType::Error,
            gst::MessageType::Eos,
            gst::MessageType::Progress,
        ];
        loop {
            self.claim_connection();
            ctx.checkpoint("opening the RTSP session")?;
            let Some(message) = self.bus.timed_pop_filtered(self.slice(ctx), OPENING) else {
                continue;
            };
            if let gst::MessageView::Progress(p) = message.view() {
                let (kind, code, _) = p.get();
                if kind == gst::ProgressType::Complete && code == "open" {
                    return Ok(());
                }
                continue;
            }
            return Err(self.message_error(&message).into());
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
                let rtsp_status = e
                    .details()
                    .and_then(|d| d.get::<u32>("rtsp-status-code").ok())
                    .and_then(|code| u16::try_from(code).ok());
                let video_offered = self.built.video_offered.load(Ordering::SeqCst);
                GstError::from_bus(
                    e.error(),
                    e.debug().as_deref(),
                    rtsp_status,
                    from_rtspsrc.then_some(video_offered),
                )
            }
            _ => GstError::EndOfStream,
        }
    }

    /// Counts the pictures a loss cost: the depayloader waits for the next key frame after
    /// one, so the gap in time stamps before this picture is what it skipped.
    fn count_skipped(&mut self, pts: Option<Duration>, ctx: &CaptureContext) {
        let lost = self.built.lost_packets.load(Ordering::Relaxed);
        if lost != self.losses_seen {
            self.losses_seen = lost;
            ctx.report_decode_error();
            if let (Some(before), Some(now), Some(fps)) = (self.last_pts, pts, self.props.fps) {
                let frames = (now.saturating_sub(before).as_secs_f64() * fps).round() as u64;
                ctx.report_frames_skipped(frames.saturating_sub(1));
            }
        }
        if pts.is_some() {
            self.last_pts = pts;
        }
    }

    /// Puts the sample's picture into the lent buffer: converted by the core from the
    /// decoder's YUV, or copied as `videoconvert` made it.
    fn deliver(
        &mut self,
        sample: &gst::Sample,
        sink: &mut FrameSink<'_>,
        ctx: &CaptureContext,
    ) -> Result<()> {
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
                .and_then(plausible_fps);
            self.props.pixel_format = Some(sink.pixel_format());
            self.info = Some((caps.to_owned(), info));
        }
        let buffer = sample
            .buffer()
            .ok_or_else(|| GstError::Frame("a sample without a buffer".into()))?;
        let pts = buffer.pts().map(|t| Duration::from_nanos(t.nseconds()));
        self.count_skipped(pts, ctx);
        let (_, info) = self.info.as_ref().expect("set above");
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, info)
            .map_err(|_| GstError::Frame("the buffer cannot be mapped".into()))?;
        sink.set_pts(pts);
        sink.set_camera_time(self.camera_clock.camera_time(pts, ctx));
        sink.set_key_frame(!buffer.flags().contains(gst::BufferFlags::DELTA_UNIT));
        match yuv_picture(&frame, info)? {
            Some(picture) => picture.write_into(sink),
            None => copy_packed(&frame, info, sink),
        }
    }
}

/// The decoder's picture as the core's conversion reads it, if it is YUV (or gray).
fn yuv_picture<'a>(
    frame: &'a gst_video::VideoFrameRef<&gst::BufferRef>,
    info: &gst_video::VideoInfo,
) -> Result<Option<YuvPicture<'a>>, GstError> {
    use gst_video::VideoFormat as F;
    let plane = |i: u32| -> Result<Plane<'a>, GstError> {
        let data = frame
            .plane_data(i)
            .map_err(|_| GstError::Frame(format!("the buffer has no plane {i}")))?;
        Ok(Plane::new(data, frame.plane_stride()[i as usize] as usize))
    };
    let layout = match info.format() {
        F::I420 => YuvLayout::I420 {
            y: plane(0)?,
            u: plane(1)?,
            v: plane(2)?,
        },
        F::Y42b => YuvLayout::I422 {
            y: plane(0)?,
            u: plane(1)?,
            v: plane(2)?,
        },
        F::Y444 => YuvLayout::I444 {
            y: plane(0)?,
            u: plane(1)?,
            v: plane(2)?,
        },
        F::Nv12 => YuvLayout::Nv12 {
            y: plane(0)?,
            uv: plane(1)?,
        },
        F::Gray8 => YuvLayout::Gray8(plane(0)?),
        _ => return Ok(None),
    };
    let colorimetry = info.colorimetry();
    let range = match colorimetry.range() {
        gst_video::VideoColorRange::Range0_255 => YuvRange::Full,
        _ if info.format() == F::Gray8 => YuvRange::Full,
        _ => YuvRange::Limited,
    };
    let matrix = match colorimetry.matrix() {
        gst_video::VideoColorMatrix::Bt709 => Some(YuvMatrix::Bt709),
        gst_video::VideoColorMatrix::Bt601 => Some(YuvMatrix::Bt601),
        gst_video::VideoColorMatrix::Bt2020 => Some(YuvMatrix::Bt2020),
        _ => None,
    };
    Ok(Some(YuvPicture {
        width: info.width(),
        height: info.height(),
        layout,
        range,
        matrix,
    }))
}

/// Copies a picture `videoconvert` made in the sink's format, row by row when GStreamer
/// padded the rows.
fn copy_packed(
    frame: &gst_video::VideoFrameRef<&gst::BufferRef>,
    info: &gst_video::VideoInfo,
    sink: &mut FrameSink<'_>,
) -> Result<()> {
    let (w, h) = (info.width(), info.height());
    let row = w as usize * sink.pixel_format().bytes_per_pixel();
    let stride = frame.plane_stride()[0] as usize;
    let data = frame
        .plane_data(0)
        .map_err(|_| GstError::Frame("the buffer has no picture".into()))?;
    if data.len() < stride * (h as usize - 1) + row {
        return Err(GstError::Frame("the buffer is shorter than its caps".into()).into());
    }
    let out = sink.buffer(w, h)?;
    if stride == row {
        out.copy_from_slice(&data[..row * h as usize]);
    } else {
        for (dst, src) in out.chunks_exact_mut(row).zip(data.chunks(stride)) {
            dst.copy_from_slice(&src[..row]);
        }
    }
    Ok(())
}

impl Capture for GstreamerCapture {
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext) -> Result<ReadStatus> {
        loop {
            ctx.checkpoint("waiting for a frame")?;
            if let Some(keep_alive) = &mut self.keep_alive
                && !keep_alive.tick()
            {
                // The camera does not list GET_PARAMETER: rtspsrc's own keep-alive is all
                // there is.
                log::debug!("the camera takes no GET_PARAMETER; keep-alives left to rtspsrc");
                self.keep_alive = None;
            }
            let refused = *self
                .built
                .refused_size
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((width, height)) = refused {
                sink.check_size(width, height)?;
            }
            if let Some(message) = self.bus.pop_filtered(FILTER) {
                return match self.message_error(&message) {
                    GstError::EndOfStream if !self.network => Ok(ReadStatus::EndOfStream),
                    e => Err(e.into()),
                };
            }
            if let Some(sample) = self.built.appsink.try_pull_sample(self.slice(ctx)) {
                // A picture over the decode mode's rate is left unconverted.
                if !ctx.should_convert() {
                    continue;
                }
                self.deliver(&sample, sink, ctx)?;
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
        if let Some(watch) = self.open_watch.take() {
            watch.abandon();
        }
        // Downward state changes are synchronous; rtspsrc's TEARDOWN wait is bounded by its
        // teardown-timeout (pipeline.rs).
        let _ = self.built.pipeline.set_state(gst::State::Null);
    }
}

impl Drop for GstreamerCapture {
    fn drop(&mut self) {
        if let Some(watch) = self.open_watch.take() {
            watch.abandon();
        }
        let _ = self.built.pipeline.set_state(gst::State::Null);
    }
}
